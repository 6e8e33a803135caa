import Foundation
import StatusRules

/// One message's decision, as the ledger hands it to storage: written only if the case is still
/// at `expectedRevision` and the message id was not accepted meanwhile.
public struct LedgerWrite: Sendable {
    /// What to write.
    public enum Effect: Sendable {
        /// The change (the case, its event, its feed entry) and the answer stored for retries, as JSON text.
        case apply(AppliedChange, answer: String)
        /// The message, kept as a dead letter.
        case park(deadLetterId: UUID, code: String, detail: String)
    }

    /// Its position among the writes of one call.
    public var ordinal: Int
    /// The kind of message: scopes idempotency and dead letters.
    public var scope: String
    public var origin: MessageOrigin
    /// The case the decision was made on (`nil` for a message that names none it could be read for).
    public var externalCaseId: String?
    /// The revision of that case the decision saw; `nil`: it did not exist.
    public var expectedRevision: Int64?
    public var effect: Effect

    /// A write.
    public init(
        ordinal: Int, scope: String, origin: MessageOrigin, externalCaseId: String?, expectedRevision: Int64?, effect: Effect
    ) {
        self.ordinal = ordinal
        self.scope = scope
        self.origin = origin
        self.externalCaseId = externalCaseId
        self.expectedRevision = expectedRevision
        self.effect = effect
    }
}

/// What storage reports back for a call of writes: empty when everything was written as asked.
/// When anything is replayed or stale, nothing at all was written.
public struct LedgerWriteReport: Sendable {
    /// A message whose id was accepted before: the request then, compared with this one, and the answer stored.
    public struct Replay: Sendable {
        public var requestMatches: Bool
        public var answer: JSONValue

        /// A replay.
        public init(requestMatches: Bool, answer: JSONValue) {
            self.requestMatches = requestMatches
            self.answer = answer
        }
    }

    /// By ordinal.
    public var replayed: [Int: Replay] = [:]
    /// Cases not as the decisions saw them, by external id: the case now (`nil`: it does not exist).
    public var stale: [String: CaseRecord?] = [:]
    /// The dead letter that holds each parked message, by ordinal (an earlier pending one, for a retry).
    public var parked: [Int: UUID] = [:]

    /// An empty report.
    public init() {}

    /// Whether everything was written.
    public var written: Bool { replayed.isEmpty && stale.isEmpty }
}
