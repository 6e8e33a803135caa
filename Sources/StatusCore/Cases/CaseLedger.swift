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

    /// A change.
    public init(
        sourceSystem: String, externalCaseId: String, flowInstanceId: String? = nil, caseType: String? = nil,
        organisationNumber: String? = nil, rawStatus: String?, occurredAt: Date, changeType: ChangeType,
        requiresExistingCase: Bool = false
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
    }
}

/// A message a face hands to the ledger: its change, and what the face writes and answers once
/// the change is applied (in the same transaction).
public protocol LedgerMessage: Sendable {
    /// The kind of message: scopes idempotency and dead letters.
    var scope: String { get }
    /// The id that makes retries idempotent, if the message has one.
    var messageId: String? { get }
    /// The message as received.
    var payload: JSONValue { get }
    /// The change to apply, worked out inside the transaction (a message may name its case indirectly).
    func change(in transaction: any TenantTransaction) async throws -> CaseChange
    /// Face-specific writes and the answer to store for the message id.
    func respond(to applied: AppliedChange, in transaction: any TenantTransaction) async throws -> JSONValue
}

/// What applying a change did.
public struct AppliedChange: Sendable {
    /// The case after the change.
    public var caseRecord: CaseRecord
    /// The event recorded.
    public var event: CaseEvent
    /// Whether the case was created by this change.
    public var created: Bool
}

/// The answer to a message: stored the first time, replayed unchanged on a retry.
public struct LedgerAnswer: Sendable {
    public var response: JSONValue
    /// True when this is a retry answered from the stored response.
    public var replayed: Bool
}

/// Applies case changes: the one place where idempotency, mapping, transition rules, the case
/// projection, the event history and the feed meet, all in one transaction.
public struct CaseLedger: Sendable {
    let store: any StatusStore
    let registry: RulesRegistry
    let logger: Logger

    /// A ledger.
    public init(store: any StatusStore, registry: RulesRegistry, logger: Logger) {
        self.store = store
        self.registry = registry
        self.logger = logger
    }

    /// Outcome of applying a message inside a transaction.
    public enum Outcome: Sendable {
        case answered(LedgerAnswer)
        case rejected(Rejection)
    }

    /// Submits a message: applies it, or parks it as a dead letter and throws `.rejected`.
    public func submit(_ message: some LedgerMessage, tenant: TenantID, correlationId: String) async throws -> LedgerAnswer {
        let snapshot = try currentSnapshot(tenant)
        let outcome = try await retryingConflicts {
            try await store.withTransaction(tenant: tenant) { tx in
                try await apply(message, snapshot: snapshot, in: tx, correlationId: correlationId)
            }
        }
        switch outcome {
        case .answered(let answer):
            return answer
        case .rejected(let rejection):
            let id = try await retryingConflicts {
                try await store.withTransaction(tenant: tenant) { tx in
                    try await tx.park(
                        DeadLetterDraft(
                            scope: message.scope, messageId: message.messageId, rejection: rejection, payload: message.payload,
                            correlationId: correlationId
                        )
                    )
                }
            }
            logger.info(
                "message parked as dead letter \(rejection.detail)",
                metadata: [
                    "tenant": "\(tenant)", "code": "\(rejection.code.rawValue)", "deadLetterId": "\(id)", "scope": "\(message.scope)",
                ]
            )
            throw StatusError.rejected(rejection, deadLetterId: id.uuidString.lowercased())
        }
    }

    /// The snapshot serving `tenant`; a tenant whose rules are not loaded cannot accept messages.
    func currentSnapshot(_ tenant: TenantID) throws -> RuleSnapshot {
        guard let snapshot = registry.snapshot(for: tenant) else {
            throw StatusError.unavailable("the rules of this tenant are not loaded")
        }
        return snapshot
    }

    /// Applies `message` in `tx`: the idempotency check, the mapping, the transition check, and all writes.
    public func apply(
        _ message: some LedgerMessage, snapshot: RuleSnapshot, in tx: any TenantTransaction, correlationId: String
    ) async throws -> Outcome {
        if let messageId = message.messageId, let stored = try await tx.storedResponse(scope: message.scope, messageId: messageId) {
            guard stored.request == message.payload else { throw StatusError.duplicateMessageConflict(messageId: messageId) }
            return .answered(LedgerAnswer(response: stored.response, replayed: true))
        }

        let change = try await message.change(in: tx)
        let existing = try await tx.lockCase(externalCaseId: change.externalCaseId)
        if change.requiresExistingCase && existing == nil {
            throw StatusError.notFound("no case '\(change.externalCaseId)'")
        }
        guard let rawStatus = change.rawStatus ?? existing?.rawStatus else {
            throw StatusError.invalid("/", "the message sets no status for a case that has none")
        }

        let target: PortalStatus
        switch snapshot.map(source: change.sourceSystem, code: rawStatus) {
        case .unknownSource:
            return .rejected(Rejection(code: .unknownSourceSystem, detail: "the rules have no source system '\(change.sourceSystem)'"))
        case .unmapped:
            return .rejected(
                Rejection(
                    code: .unmappedStatus, detail: "source system '\(change.sourceSystem)' has no mapping for code '\(rawStatus)'"))
        case .mapped(let status, _):
            target = status
        }

        let now = Date()
        // An event older than the case's last applied one is history, not news.
        let applied = existing.map { change.occurredAt >= $0.lastStatusChange } ?? true
        let isDelete = change.changeType == .delete
        if applied, !isDelete, let existing, existing.withdrawnAt == nil {
            let from = existing.displayed(by: snapshot).portalStatus
            if !snapshot.isTransitionAllowed(from: from, to: target) {
                return .rejected(
                    Rejection(
                        code: .illegalTransition,
                        detail:
                            "the rules do not allow case '\(change.externalCaseId)' to move from '\(from?.name ?? existing.status)' to '\(target.name)'"
                    ))
            }
        }

        var record: CaseRecord
        let created = existing == nil
        if var current = existing {
            if applied {
                current.sourceSystem = change.sourceSystem
                current.rawStatus = rawStatus
                current.status = target.name
                current.category = target.category
                current.ruleVersion = snapshot.version
                current.lastStatusChange = change.occurredAt
                if let flow = change.flowInstanceId { current.flowInstanceId = flow }
                if let type = change.caseType { current.caseType = type }
                if let organisation = change.organisationNumber { current.organisationNumber = organisation }
                // A Delete withdraws the case; a later Create or Update brings it back.
                current.withdrawnAt = isDelete ? now : nil
                try await tx.updateCase(current)
            }
            record = current
        } else {
            record = CaseRecord(
                caseId: UUID(), externalCaseId: change.externalCaseId, flowInstanceId: change.flowInstanceId,
                caseType: change.caseType ?? "", organisationNumber: change.organisationNumber, sourceSystem: change.sourceSystem,
                rawStatus: rawStatus, status: target.name, category: target.category, ruleVersion: snapshot.version,
                lastStatusChange: change.occurredAt, createdAt: now, withdrawnAt: isDelete ? now : nil
            )
            try await tx.insertCase(record)
        }

        let event = CaseEvent(
            eventId: UUID(), caseId: record.caseId, messageId: message.messageId, changeType: change.changeType,
            sourceSystem: change.sourceSystem, rawStatus: rawStatus, status: target.name, category: target.category,
            ruleVersion: snapshot.version, applied: applied, occurredAt: change.occurredAt, recordedAt: now,
            correlationId: correlationId, payload: message.payload
        )
        try await tx.appendEvent(event)
        if applied {
            try await tx.appendFeed(
                FeedChange(
                    caseId: record.caseId, externalCaseId: record.externalCaseId, status: isDelete ? nil : target.name,
                    category: isDelete ? nil : target.category, reason: isDelete ? .delete : .event, ruleVersion: snapshot.version
                ))
        }
        let appliedChange = AppliedChange(caseRecord: record, event: event, created: created)
        let response = try await message.respond(to: appliedChange, in: tx)
        if let messageId = message.messageId {
            try await tx.storeResponse(scope: message.scope, messageId: messageId, request: message.payload, response: response)
        }
        return .answered(LedgerAnswer(response: response, replayed: false))
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
            guard case .conflict = error, attempt < 4 else { throw error }
            attempt += 1
        }
    }
}
