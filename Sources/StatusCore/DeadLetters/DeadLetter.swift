import Foundation
import StatusRules

/// A message the rules did not accept, kept so nothing is lost, and replayed after a fix.
public struct DeadLetter: Sendable, Equatable {
    /// `pending` until a replay succeeds.
    public enum State: String, Sendable, Codable {
        case pending
        case replayed
        /// Its content was erased with its case; it is never replayed.
        case erased
    }

    public var id: UUID
    /// Which kind of message it is (`events`, `dibk-oppdatering`): decides how it is replayed.
    public var scope: String
    public var messageId: String?
    /// The case the message was for, when it named one it could be read for.
    public var externalCaseId: String?
    /// The rejection code (`UNMAPPED_STATUS`, …) of the last attempt.
    public var code: String
    public var detail: String
    /// The message as received.
    public var payload: JSONValue
    public var correlationId: String
    public var receivedAt: Date
    public var state: State
    public var attempts: Int
    public var replayedAt: Date?
    /// What the last replay gave.
    public var replayResult: JSONValue?

    /// A dead letter.
    public init(
        id: UUID, scope: String, messageId: String?, externalCaseId: String? = nil, code: String, detail: String, payload: JSONValue,
        correlationId: String, receivedAt: Date, state: State, attempts: Int, replayedAt: Date?, replayResult: JSONValue?
    ) {
        self.id = id
        self.scope = scope
        self.messageId = messageId
        self.externalCaseId = externalCaseId
        self.code = code
        self.detail = detail
        self.payload = payload
        self.correlationId = correlationId
        self.receivedAt = receivedAt
        self.state = state
        self.attempts = attempts
        self.replayedAt = replayedAt
        self.replayResult = replayResult
    }
}
