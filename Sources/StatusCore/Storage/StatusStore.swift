import Foundation
import StatusRules

/// What the core needs from storage. The PostgreSQL implementation lives in StatusPostgres; every
/// tenant-scoped operation runs inside a transaction bound to one tenant, so a query that forgets
/// its tenant still sees only that tenant's rows.
public protocol StatusStore: Sendable {
    /// Runs `body` in one transaction bound to `tenant`: committed when it returns, rolled back when it throws.
    func withTransaction<T: Sendable>(
        tenant: TenantID, _ body: @Sendable (any TenantTransaction) async throws -> T
    ) async throws -> T

    /// Writes the ledger's decisions in a transaction of their own, in one round trip, and commits
    /// before it returns; nothing is written when the report is not empty (see `TenantTransaction.write`).
    func record(_ writes: [LedgerWrite], tenant: TenantID) async throws -> LedgerWriteReport

    /// A case by external id, withdrawn or not, in one round trip (the hot read path).
    func caseRecord(tenant: TenantID, externalCaseId: String) async throws -> CaseRecord?

    /// A case by OeP flow instance id, else by external case id, in one round trip.
    func caseRecord(tenant: TenantID, flowInstanceOrExternalId id: String) async throws -> CaseRecord?

    /// Every tenant and its active rules version, across tenants (the tenant directory).
    func tenantVersions() async throws -> [TenantID: Int]

    /// The active release of a tenant, or `nil` when it has none.
    func activeRelease(tenant: TenantID) async throws -> RuleRelease?

    /// Every tenant's active release, in one round trip (start-up).
    func activeReleases() async throws -> [RuleRelease]
}

/// The operations available inside a tenant's transaction.
public protocol TenantTransaction: Sendable {
    var tenant: TenantID { get }

    // MARK: Idempotency

    /// The request and response stored for a message id, if it was accepted before.
    func storedResponse(scope: String, messageId: String) async throws -> StoredResponse?

    // MARK: Cases and events

    /// The case with this external id, locked until the transaction ends.
    func lockCase(externalCaseId: String) async throws -> CaseRecord?
    /// The cases with these external ids (those that exist), locked until the transaction ends.
    func lockCases(externalCaseIds: [String]) async throws -> [String: CaseRecord]
    /// Writes the ledger's decisions, unless a case is not at the revision a decision saw or a
    /// message id was accepted meanwhile: then nothing is written and the report says which.
    func write(_ writes: [LedgerWrite]) async throws -> LedgerWriteReport
    /// A case's events, oldest first.
    func events(caseId: UUID) async throws -> [CaseEvent]
    /// Recorded events between two instants, optionally of one case, oldest first.
    func events(externalCaseId: String?, from: Date?, to: Date?, limit: Int) async throws -> [(externalCaseId: String, event: CaseEvent)]
    /// Cases of an organisation that are not withdrawn, newest status change first.
    func cases(organisationNumber: String) async throws -> [CaseRecord]
    /// Every case of a party from one source system, withdrawn ones too, oldest first.
    func cases(party: String, sourceSystem: String) async throws -> [CaseRecord]
    /// The events of several cases, in the order they were recorded.
    func events(caseIds: [UUID]) async throws -> [CaseEvent]
    /// Erases a case's content as `erasure` says (the requests of its messages become `digests`,
    /// by message id) and records the erasure; returns how many events lost their payload.
    func erase(_ erasure: CaseErasure, requestDigests: [String: String]) async throws -> Int

    // MARK: Change feed

    /// Appends one `rules` entry per case affected by the remaps.
    func appendRulesRemap(_ remaps: [CodeRemap], version: Int) async throws -> Int
    /// A position below which every writer has finished: reading up to it never skips a change.
    func feedHorizon() async throws -> Int64
    /// Entries after `after` and at most `upTo`, changed since `since`, in feed order.
    func feedEntries(after: Int64, upTo: Int64, since: Date, limit: Int) async throws -> [FeedEntry]

    // MARK: Dead letters

    /// A dead letter, locked until the transaction ends.
    func lockDeadLetter(id: UUID) async throws -> DeadLetter?
    /// Dead letters in a state (`nil`: all), of one scope (`nil`: all), oldest first.
    func deadLetters(state: DeadLetter.State?, scope: String?, limit: Int) async throws -> [DeadLetter]
    /// How many dead letters are pending.
    func pendingDeadLetterCount() async throws -> Int
    /// Records a replay's outcome; `replayed` closes the dead letter.
    func recordReplay(id: UUID, replayed: Bool, code: String?, detail: String?, result: JSONValue) async throws

    // MARK: Rules

    /// The active release version (0 when none).
    func activeVersion() async throws -> Int
    /// One release.
    func release(version: Int) async throws -> RuleRelease?
    /// The release that was active at an instant.
    func release(activeAt: Date) async throws -> RuleRelease?
    /// Every release, oldest first, without documents.
    func releases() async throws -> [RuleReleaseSummary]
    /// Every release published in a window, oldest first, with documents (for audit).
    func releases(publishedFrom: Date?, to: Date?) async throws -> [RuleRelease]
    /// Inserts a release; `StoreError.conflict` when its version exists.
    func insertRelease(_ release: NewRuleRelease) async throws
    /// The tenant's draft.
    func draft() async throws -> RulesDraft?
    /// Saves the draft, noting the version it is based on.
    func saveDraft(_ document: JSONValue, baseVersion: Int, by: String) async throws
    /// Discards the draft; false when there was none.
    func deleteDraft() async throws -> Bool
    /// How many current cases show each code.
    func codeUsage() async throws -> [CodeUsage]

    // MARK: Statistics

    /// Events recorded and messages dead-lettered since `since`, per UTC hour; hours with neither are left out.
    func ingestCounts(since: Date) async throws -> [IngestHour]
    /// Pending dead letters grouped by problem code and by the source system and raw code their message carries.
    func pendingDeadLetterGroups() async throws -> [PendingDeadLetterGroup]

    // MARK: Norwegian submissions

    /// The case (its external id) a DiBK innsendingReferanse belongs to.
    func dibkCase(reference: String) async throws -> String?
    /// The case with this municipal case number.
    func dibkCase(saksaar: String, sakssekvensnummer: String) async throws -> String?
    /// Links references to a case; references already linked stay where they are.
    func linkDIBK(references: [String], to externalCaseId: String) async throws
    /// Sets a case's current municipal case number.
    func setDIBKCaseNumber(externalCaseId: String, _ number: Saksnummer) async throws
    /// Appends an update of a submission.
    func appendDIBKUpdate(externalCaseId: String, oppdateringId: UUID, oppdatertDato: Date, payload: JSONValue) async throws
    /// The references linked to a case, oldest first.
    func dibkReferences(externalCaseId: String) async throws -> [String]
    /// A submission's updates in the order they happened.
    func dibkUpdates(externalCaseId: String) async throws -> [JSONValue]
}

/// A stored answer to a message id.
public struct StoredResponse: Sendable {
    public var request: JSONValue
    public var response: JSONValue

    /// A stored answer.
    public init(request: JSONValue, response: JSONValue) {
        self.request = request
        self.response = response
    }
}
