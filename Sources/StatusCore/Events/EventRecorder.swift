import Foundation
import StatusRules

/// A Swedish-style event as a ledger message: its receipt is the stored answer.
public struct EventMessage: LedgerMessage {
    /// The idempotency and dead-letter scope of events.
    public static let scope = "events"

    /// The validated event.
    public let submission: EventSubmission

    /// A message for a validated event.
    public init(_ submission: EventSubmission) {
        self.submission = submission
    }

    public var scope: String { Self.scope }
    public var messageId: String? { submission.messageId }
    public var payload: JSONValue { submission.payload }

    /// The case change the event describes.
    public func change(in transaction: any TenantTransaction) async throws -> CaseChange {
        CaseChange(
            sourceSystem: submission.sourceSystem,
            externalCaseId: submission.externalCaseId, flowInstanceId: submission.flowInstanceId, caseType: submission.caseType,
            organisationNumber: submission.organisationNumber?.digits, rawStatus: submission.status,
            occurredAt: submission.occurredAt, changeType: submission.changeType ?? .update
        )
    }

    /// The receipt.
    public func respond(to applied: AppliedChange, in transaction: any TenantTransaction) async throws -> JSONValue {
        EventReceipt(
            messageId: submission.messageId, caseId: applied.caseRecord.caseId.uuidString.lowercased(),
            externalCaseId: applied.caseRecord.externalCaseId, rawStatus: applied.event.rawStatus, status: applied.event.status,
            category: applied.event.category, ruleVersion: applied.event.ruleVersion, applied: applied.event.applied,
            recordedAt: RFC3339.format(applied.event.recordedAt)
        ).jsonValue
    }
}

/// Records events from case-management systems (`POST /api/v1/events`).
public struct EventRecorder: Sendable {
    let ledger: CaseLedger

    /// A recorder writing through `ledger`.
    public init(ledger: CaseLedger) {
        self.ledger = ledger
    }

    /// Records an event; a retry of an accepted one answers with the first receipt (`replayed`).
    /// A rules violation parks the event and throws `StatusError.rejected`.
    public func record(_ submission: EventSubmission, tenant: TenantID, correlationId: String) async throws -> (
        receipt: EventReceipt, replayed: Bool
    ) {
        let answer = try await ledger.submit(EventMessage(submission), tenant: tenant, correlationId: correlationId)
        guard let receipt = EventReceipt(json: answer.response) else {
            throw StatusError.unavailable("a stored receipt could not be read")
        }
        return (receipt, answer.replayed)
    }
}
