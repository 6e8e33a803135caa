import Foundation
import Logging
import StatusRules

/// A status change for a case, as every face submits it: the Swedish event, a Norwegian update.
public struct CaseChange: Sendable {
    public var sourceSystem: String
    public var externalCaseId: String
    public var flowInstanceId: String?
    public var caseType: String?
    public var organisationNumber: String?
    /// The raw code to map; `nil` keeps the case's current code (an update that changes only
    /// other facts of the case, such as its case handler).
    public var rawStatus: String?
    public var occurredAt: Date
    public var changeType: ChangeType
    /// Whether the case must exist already (a Norwegian update for an unknown submission is 404).
    public var requiresExistingCase: Bool
    /// Whose case it is (digits of an organisation or identity number); `nil` keeps the case's.
    public var party: String?

    /// A change.
    public init(
        sourceSystem: String, externalCaseId: String, flowInstanceId: String? = nil, caseType: String? = nil,
        organisationNumber: String? = nil, rawStatus: String?, occurredAt: Date, changeType: ChangeType,
        requiresExistingCase: Bool = false, party: String? = nil
    ) {
        self.sourceSystem = sourceSystem
        self.externalCaseId = externalCaseId
        self.flowInstanceId = flowInstanceId
        self.caseType = caseType
        self.organisationNumber = organisationNumber
        self.rawStatus = rawStatus
        self.occurredAt = occurredAt
        self.changeType = changeType
        self.requiresExistingCase = requiresExistingCase
        self.party = party
    }
}

/// An answer the ledger stores for a message id and gives back unchanged on a retry.
public protocol LedgerAnswer: Sendable {
    /// The answer as stored.
    var jsonValue: JSONValue { get }
    /// An answer read back from storage; `nil` when it does not have this shape.
    init?(json: JSONValue)
    /// The answer as stored, as JSON text.
    var jsonText: String { get }
}

extension LedgerAnswer {
    /// `jsonValue`, written out.
    public var jsonText: String { jsonValue.canonicalString }
}

/// A message a face hands to the ledger: its change, and what the face answers and keeps once
/// the change is applied (in the same transaction).
public protocol LedgerMessage: Sendable {
    associatedtype Answer: LedgerAnswer
    /// The kind of message: scopes idempotency and dead letters.
    var scope: String { get }
    /// The id that makes retries idempotent, if the message has one.
    var messageId: String? { get }
    /// The message as received.
    var payload: JSONValue { get }
    /// The message as JSON text, as it is stored.
    var payloadText: String { get }
    /// The change to apply, worked out inside the transaction (a message may name its case indirectly).
    func change(in transaction: any TenantTransaction) async throws -> CaseChange
    /// The answer to an applied change.
    func answer(to applied: AppliedChange) -> Answer
    /// What the face keeps besides the case, written after the change in the same transaction.
    func recordDetails(of applied: AppliedChange, in transaction: any TenantTransaction) async throws
    /// What the sending document itself forbids, whatever the tenant's rules say (a card with a
    /// final status, a case of another owner), decided on the case as it is before the rules are
    /// asked. Parked like a rules rejection, so it is never lost.
    func refusal(on existing: CaseRecord?) -> Rejection?
}

/// A message that names its case itself and keeps nothing besides it: the ledger applies it in
/// one round trip, and many of them in a backfill.
public protocol DirectLedgerMessage: LedgerMessage {
    /// The change.
    var change: CaseChange { get }
}

extension LedgerMessage {
    /// The payload written out.
    public var payloadText: String { payload.canonicalString }

    /// Nothing besides the case.
    public func recordDetails(of applied: AppliedChange, in transaction: any TenantTransaction) async throws {}

    /// Nothing but the tenant's rules decides.
    public func refusal(on existing: CaseRecord?) -> Rejection? { nil }

    /// The message's own refusal, else the change decided under the tenant's rules.
    func decide(
        _ change: CaseChange, on existing: CaseRecord?, snapshot: RuleSnapshot, origin: MessageOrigin, now: Date = Date()
    ) throws(StatusError) -> CaseDecision {
        if let refusal = refusal(on: existing) { return .rejected(refusal) }
        return try change.decide(on: existing, snapshot: snapshot, origin: origin, now: now)
    }
}

extension DirectLedgerMessage {
    /// The change the message carries.
    public func change(in transaction: any TenantTransaction) async throws -> CaseChange { change }
}

/// The answer to a message: `replayed` when a retry was answered with what was stored the first time.
public struct Submitted<Answer: LedgerAnswer>: Sendable {
    public var answer: Answer
    public var replayed: Bool

    /// An answer.
    public init(answer: Answer, replayed: Bool) {
        self.answer = answer
        self.replayed = replayed
    }
}

/// Applies case changes: the one place where idempotency, mapping, transition rules, the case
/// projection, the event history, the feed and dead letters meet. Each message is decided in
/// memory (`CaseChange.decide`) against the case as last seen, and storage writes the decision
/// in one transaction only if the case is still as it was seen; otherwise the ledger decides again.
public struct CaseLedger: Sendable {
    let store: any StatusStore
    let logger: Logger
    /// The cases this process last wrote, so the next change of one is usually one round trip.
    let seen: SeenCases

    /// A ledger.
    public init(store: any StatusStore, logger: Logger, seenCapacity: Int = 100_000) {
        self.store = store
        self.logger = logger
        self.seen = SeenCases(capacity: seenCapacity)
    }

    /// How often a message is decided again when concurrent writers keep changing its case.
    static let maximumAttempts = 8

    /// Submits a message that names its case: one round trip when the case is as this process last
    /// saw it (or new). A rules violation parks the message and throws `.rejected`.
    public func submit<M: DirectLedgerMessage>(
        _ message: M, snapshot: RuleSnapshot, tenant: TenantID, correlationId: String
    ) async throws -> Submitted<M.Answer> {
        let change = message.change
        let origin = MessageOrigin(
            messageId: message.messageId, payload: message.payload, payloadText: message.payloadText, correlationId: correlationId)
        var existing = seen.record(tenant, change.externalCaseId)
        for _ in 0..<Self.maximumAttempts {
            let decision = try message.decide(change, on: existing, snapshot: snapshot, origin: origin)
            let write = Self.write(message, decision, ordinal: 0, origin: origin, externalCaseId: change.externalCaseId, seen: existing)
            let report: LedgerWriteReport
            do {
                report = try await store.record([write], tenant: tenant)
            } catch StoreError.conflict {
                // A concurrent writer created the case or accepted the same message first: the
                // next attempt learns which from what storage reports.
                continue
            }
            if let replay = report.replayed[0] { return try Self.replayed(replay, of: message) }
            if let current = report.stale[change.externalCaseId] {
                existing = current
                continue
            }
            switch decision {
            case .applied(let applied):
                seen.store(Self.afterWrite(applied, seen: existing), tenant)
                return Submitted(answer: message.answer(to: applied), replayed: false)
            case .rejected(let rejection):
                throw parked(
                    rejection, deadLetterId: report.parked[0] ?? write.deadLetterId ?? .timeOrdered(), message: message, tenant: tenant)
            }
        }
        throw StatusError.unavailable("the case kept changing while this message was applied; try again")
    }

    /// Submits a message whose case is found inside the transaction, or that keeps more than the
    /// case: the change, the face's details and the answer commit together.
    public func submit<M: LedgerMessage>(
        _ message: M, snapshot: RuleSnapshot, tenant: TenantID, correlationId: String
    ) async throws -> Submitted<M.Answer> {
        let outcome = try await retryingConflicts {
            try await store.withTransaction(tenant: tenant) { tx in
                try await apply(message, snapshot: snapshot, in: tx, correlationId: correlationId, parkingRejections: true)
            }
        }
        switch outcome {
        case .answered(let submitted): return submitted
        case .rejected(let rejection, let deadLetterId):
            throw parked(rejection, deadLetterId: deadLetterId ?? .timeOrdered(), message: message, tenant: tenant)
        }
    }

    /// What applying a message inside a transaction did.
    public enum Outcome<Answer: LedgerAnswer>: Sendable {
        case answered(Submitted<Answer>)
        /// The rules refused it; `deadLetterId` when it was parked.
        case rejected(Rejection, deadLetterId: UUID?)
    }

    /// Applies `message` in `tx`: the idempotency check, the case locked, the decision, and every
    /// write. A rejected message is parked in the same transaction when `parkingRejections`.
    public func apply<M: LedgerMessage>(
        _ message: M, snapshot: RuleSnapshot, in tx: any TenantTransaction, correlationId: String, parkingRejections: Bool
    ) async throws -> Outcome<M.Answer> {
        if let messageId = message.messageId, let stored = try await tx.storedResponse(scope: message.scope, messageId: messageId) {
            let replay = LedgerWriteReport.Replay(requestMatches: stored.matches(message.payload), answer: stored.response)
            return .answered(try Self.replayed(replay, of: message))
        }
        let change = try await message.change(in: tx)
        let existing = try await tx.lockCase(externalCaseId: change.externalCaseId)
        let origin = MessageOrigin(
            messageId: message.messageId, payload: message.payload, payloadText: message.payloadText, correlationId: correlationId)
        let decision = try message.decide(change, on: existing, snapshot: snapshot, origin: origin)
        if case .rejected(let rejection) = decision, !parkingRejections { return .rejected(rejection, deadLetterId: nil) }
        let write = Self.write(message, decision, ordinal: 0, origin: origin, externalCaseId: change.externalCaseId, seen: existing)
        let report = try await tx.write([write])
        // The case is locked and the message id was not stored: only a concurrent first write of
        // the same message id can get here, and the retry answers it.
        guard report.written else { throw StoreError.conflict("the message was accepted concurrently") }
        switch decision {
        case .applied(let applied):
            try await message.recordDetails(of: applied, in: tx)
            return .answered(Submitted(answer: message.answer(to: applied), replayed: false))
        case .rejected(let rejection):
            return .rejected(rejection, deadLetterId: report.parked[0] ?? write.deadLetterId)
        }
    }

    /// The write of a decision made on the case as `seen`.
    static func write<M: LedgerMessage>(
        _ message: M, _ decision: CaseDecision, ordinal: Int, origin: MessageOrigin, externalCaseId: String?, seen: CaseRecord?
    ) -> LedgerWrite {
        let effect: LedgerWrite.Effect
        switch decision {
        case .applied(let applied): effect = .apply(applied, answer: message.answer(to: applied).jsonText)
        case .rejected(let rejection): effect = .park(deadLetterId: .timeOrdered(), code: rejection.code.rawValue, detail: rejection.detail)
        }
        return LedgerWrite(
            ordinal: ordinal, scope: message.scope, origin: origin, externalCaseId: externalCaseId, expectedRevision: seen?.revision,
            effect: effect)
    }

    /// The answer stored for a message id accepted before, when this is the same message again.
    static func replayed<M: LedgerMessage>(_ replay: LedgerWriteReport.Replay, of message: M) throws(StatusError) -> Submitted<M.Answer> {
        guard replay.requestMatches else { throw StatusError.duplicateMessageConflict(messageId: message.messageId ?? "") }
        guard let answer = M.Answer(json: replay.answer) else {
            throw StatusError.unavailable("the answer stored for message \(message.messageId ?? "") could not be read")
        }
        return Submitted(answer: answer, replayed: true)
    }

    /// The case as storage holds it after `applied` was written on the case as `seen`.
    static func afterWrite(_ applied: AppliedChange, seen: CaseRecord?) -> CaseRecord {
        var record = applied.caseRecord
        if let seen { record.revision = applied.event.applied ? seen.revision + 1 : seen.revision }
        return record
    }

    /// Logs a parked message and returns the error its sender gets.
    func parked(_ rejection: Rejection, deadLetterId: UUID, message: some LedgerMessage, tenant: TenantID) -> StatusError {
        logger.info(
            "message parked as dead letter",
            metadata: [
                "tenant": "\(tenant)", "code": "\(rejection.code.rawValue)", "deadLetterId": "\(deadLetterId)", "scope": "\(message.scope)",
                "detail": "\(rejection.detail)",
            ])
        return StatusError.rejected(rejection, deadLetterId: deadLetterId.uuidString.lowercased())
    }
}

extension LedgerWrite {
    /// The dead letter id a park proposes (storage may keep an earlier pending one instead).
    var deadLetterId: UUID? {
        if case .park(let id, _, _) = effect { return id }
        return nil
    }
}

/// Runs `operation`, retrying when a concurrent writer won a race on a unique key (two first
/// events of one case, two retries of one message): the retry then sees what the winner wrote.
func retryingConflicts<T: Sendable>(_ operation: () async throws -> T) async throws -> T {
    var attempt = 0
    while true {
        do {
            return try await operation()
        } catch let error as StoreError {
            guard case .conflict = error, attempt < CaseLedger.maximumAttempts else { throw error }
            attempt += 1
        }
    }
}
