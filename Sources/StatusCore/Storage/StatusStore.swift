import Foundation
import StatusRules

/// What the core needs from storage. The PostgreSQL implementation lives in StatusPostgres; every
/// tenant-scoped operation runs inside a transaction bound to one tenant, so a query that forgets
/// its tenant still sees only that tenant's rows.
///
/// The store itself answers only what must take one round trip (the hot read, the ledger's writes,
/// start-up); everything else is asked of a `TenantTransaction`.
public protocol StatusStore: Sendable {
    /// Runs `body` in one transaction bound to `tenant`: committed when it returns, rolled back when it throws.
    func withTransaction<T: Sendable>(
        tenant: TenantID, _ body: @Sendable (any TenantTransaction) async throws -> T
    ) async throws -> T

    /// Writes the ledger's decisions in a transaction of their own, in one round trip, and commits
    /// before it returns; nothing is written when the report is not empty (see `CaseStore.write`).
    func record(_ writes: [LedgerWrite], tenant: TenantID) async throws -> LedgerWriteReport

    /// A case by external id, withdrawn or not, in one round trip (the hot read path).
    func caseRecord(tenant: TenantID, externalCaseId: String) async throws -> CaseRecord?

    /// A case by OeP flow instance id, else by external case id, in one round trip.
    func caseRecord(tenant: TenantID, flowInstanceOrExternalId id: String) async throws -> CaseRecord?

    /// The live cases of an organisation, newest status change first, in one round trip (the
    /// Swedish `statuses` read).
    func cases(tenant: TenantID, organisationNumber: String) async throws -> [CaseRecord]

    /// What the three reads above would answer from this process's memory, without waiting;
    /// `nil` when they would have to ask the database (a store without a cache always says `nil`).
    func cachedCases(tenant: TenantID, _ lookup: CaseLookup) -> [CaseRecord]?

    /// Every tenant and its active rules version, across tenants (the tenant directory).
    func tenantVersions() async throws -> [TenantID: Int]

    /// Every tenant's active release, in one round trip (start-up).
    func activeReleases() async throws -> [RuleRelease]
}

/// How the hot read path asks for cases.
public enum CaseLookup: Sendable, Hashable {
    /// One case by external id, withdrawn or not (`caseRecord(tenant:externalCaseId:)`).
    case externalId(String)
    /// One case by OeP flow instance id, else external id (`caseRecord(tenant:flowInstanceOrExternalId:)`).
    case flowInstanceOrExternalId(String)
    /// An organisation's live cases (`cases(tenant:organisationNumber:)`).
    case organisation(String)
}

/// The operations available inside a tenant's transaction, one protocol per concern.
public protocol TenantTransaction: CaseStore, FeedStore, DeadLetterStore, RulesStore, StatisticsStore, NorwegianSubmissionStore {}
