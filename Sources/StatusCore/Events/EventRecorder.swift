import Foundation
import Logging
import StatusRules

/// A Swedish-style event as a ledger message: its receipt is the stored answer.
public struct EventMessage: DirectLedgerMessage {
    /// The idempotency and dead-letter scope of events.
    public static let scope = "events"

    /// The validated event.
    public let submission: EventSubmission
    /// The JSON text it was read from, when at hand: stored as it came.
    let text: String?

    /// A message for a validated event, read from `text` when given.
    public init(_ submission: EventSubmission, text: String? = nil) {
        self.submission = submission
        self.text = text
    }

    public var scope: String { Self.scope }
    public var messageId: String? { submission.messageId }
    public var payload: JSONValue { submission.payload }
    public var payloadText: String { text ?? submission.payload.canonicalString }

    /// The case change the event describes.
    public var change: CaseChange {
        CaseChange(
            sourceSystem: submission.sourceSystem,
            externalCaseId: submission.externalCaseId, flowInstanceId: submission.flowInstanceId, caseType: submission.caseType,
            organisationNumber: submission.organisationNumber?.digits, rawStatus: submission.status,
            occurredAt: submission.occurredAt, changeType: submission.changeType ?? .update,
            party: submission.organisationNumber?.digits
        )
    }

    /// The receipt.
    public func answer(to applied: AppliedChange) -> EventReceipt {
        EventReceipt(
            messageId: submission.messageId, caseId: applied.caseRecord.caseId.uuidString.lowercased(),
            externalCaseId: applied.caseRecord.externalCaseId, rawStatus: applied.event.rawStatus, status: applied.event.status,
            category: applied.event.category, ruleVersion: applied.event.ruleVersion, applied: applied.event.applied,
            recordedAt: RFC3339.format(applied.event.recordedAt)
        )
    }
}

/// Records events from case-management systems: one at a time (`POST /api/v1/events`) or many
/// (`POST /api/v1/events:batch`, `statusbro events import`).
public struct EventRecorder: Sendable {
    let ledger: CaseLedger
    let logger: Logger

    /// A recorder writing through `ledger`.
    public init(ledger: CaseLedger, logger: Logger) {
        self.ledger = ledger
        self.logger = logger
    }

    /// Records an event under `snapshot`; a retry of an accepted one answers with the first receipt
    /// (`replayed`). A rules violation parks the event and throws `StatusError.rejected`.
    public func record(
        _ submission: EventSubmission, text: String? = nil, snapshot: RuleSnapshot, tenant: TenantID, correlationId: String
    ) async throws -> Submitted<EventReceipt> {
        try await ledger.submit(EventMessage(submission, text: text), snapshot: snapshot, tenant: tenant, correlationId: correlationId)
    }
}
