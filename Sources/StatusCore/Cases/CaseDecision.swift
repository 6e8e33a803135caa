import Foundation
import StatusRules

/// What a change does to a case under a tenant's rules, decided against the case as the ledger
/// last saw it. Pure: the single-event path, the backfill and dead-letter replays all decide here,
/// and storage writes the decision only if the case is still as it was seen.
public enum CaseDecision: Sendable {
    /// The change is recorded: the case after it, its event and, when applied, its feed entry.
    case applied(AppliedChange)
    /// The rules refuse it; the message is parked.
    case rejected(Rejection)
}

/// What applying a change did.
public struct AppliedChange: Sendable {
    /// The case after the change (unchanged for an event older than its last applied one).
    public var caseRecord: CaseRecord
    /// The event recorded.
    public var event: CaseEvent
    /// Whether the case was created by this change.
    public var created: Bool

    /// The feed entry of an applied change; an older event changes nothing a reader sees.
    public var feedChange: FeedChange? {
        guard event.applied else { return nil }
        let isDelete = event.changeType == .delete
        return FeedChange(
            caseId: caseRecord.caseId, externalCaseId: caseRecord.externalCaseId, status: isDelete ? nil : event.status,
            category: isDelete ? nil : event.category, reason: isDelete ? .delete : .event, ruleVersion: event.ruleVersion)
    }
}

/// The message facts an event keeps besides the change itself.
public struct MessageOrigin: Sendable {
    public var messageId: String?
    public var payload: JSONValue
    /// The payload as JSON text, as it is stored.
    public var payloadText: String
    public var correlationId: String

    /// The origin of a message; `payloadText` when the text it was read from is at hand (else the
    /// payload is written out again).
    public init(messageId: String?, payload: JSONValue, payloadText: String? = nil, correlationId: String) {
        self.messageId = messageId
        self.payload = payload
        self.payloadText = payloadText ?? payload.canonicalString
        self.correlationId = correlationId
    }
}

extension CaseChange {
    /// Decides this change against `existing` (`nil`: the case does not exist) under `snapshot`.
    /// Throws for a change that cannot be decided at all: an update of an unknown case, or a
    /// change that sets no status on a case that has none.
    public func decide(
        on existing: CaseRecord?, snapshot: RuleSnapshot, origin: MessageOrigin, now: Date = Date(), eventId: UUID? = nil
    ) throws(StatusError) -> CaseDecision {
        if requiresExistingCase && existing == nil {
            throw StatusError.notFound("no case '\(externalCaseId)'")
        }
        guard let rawStatus = rawStatus ?? existing?.rawStatus else {
            throw StatusError.invalid("/", "the message sets no status for a case that has none")
        }

        let target: PortalStatus
        switch snapshot.map(source: sourceSystem, code: rawStatus) {
        case .unknownSource:
            return .rejected(Rejection(code: .unknownSourceSystem, detail: "the rules have no source system '\(sourceSystem)'"))
        case .unmapped:
            return .rejected(
                Rejection(code: .unmappedStatus, detail: "source system '\(sourceSystem)' has no mapping for code '\(rawStatus)'"))
        case .mapped(let status, _):
            target = status
        }

        // An event older than the case's last applied one is history, not news.
        let applied = existing.map { occurredAt >= $0.lastStatusChange } ?? true
        let isDelete = changeType == .delete
        if applied, !isDelete, let existing, existing.withdrawnAt == nil {
            let from = existing.displayed(by: snapshot).portalStatus
            if !snapshot.isTransitionAllowed(from: from, to: target) {
                return .rejected(
                    Rejection(
                        code: .illegalTransition,
                        detail:
                            "the rules do not allow case '\(externalCaseId)' to move from '\(from?.name ?? existing.status)' to '\(target.name)'"
                    ))
            }
        }

        var record: CaseRecord
        if var current = existing {
            if applied {
                current.sourceSystem = sourceSystem
                current.rawStatus = rawStatus
                current.status = target.name
                current.category = target.category
                current.ruleVersion = snapshot.version
                current.lastStatusChange = occurredAt
                if let flowInstanceId { current.flowInstanceId = flowInstanceId }
                if let caseType { current.caseType = caseType }
                if let organisationNumber { current.organisationNumber = organisationNumber }
                if let party { current.party = party }
                // A Delete withdraws the case; a later Create or Update brings it back.
                current.withdrawnAt = isDelete ? now : nil
            }
            record = current
        } else {
            record = CaseRecord(
                caseId: .timeOrdered(at: now), externalCaseId: externalCaseId, flowInstanceId: flowInstanceId, caseType: caseType ?? "",
                organisationNumber: organisationNumber, sourceSystem: sourceSystem, rawStatus: rawStatus, status: target.name,
                category: target.category, ruleVersion: snapshot.version, lastStatusChange: occurredAt, createdAt: now,
                withdrawnAt: isDelete ? now : nil, party: party)
        }

        let event = CaseEvent(
            eventId: eventId ?? .timeOrdered(at: now), caseId: record.caseId, messageId: origin.messageId, changeType: changeType,
            sourceSystem: sourceSystem,
            rawStatus: rawStatus, status: target.name, category: target.category, ruleVersion: snapshot.version, applied: applied,
            occurredAt: occurredAt, recordedAt: now, correlationId: origin.correlationId, payload: origin.payload)
        return .applied(AppliedChange(caseRecord: record, event: event, created: existing == nil))
    }
}
