import Foundation
import StatusRules

/// Parked messages inside a tenant's transaction.
public protocol DeadLetterStore: Sendable {
    /// A dead letter, locked until the transaction ends.
    func lockDeadLetter(id: UUID) async throws -> DeadLetter?
    /// Dead letters in a state (`nil`: all), of one scope (`nil`: all), oldest first.
    func deadLetters(state: DeadLetter.State?, scope: String?, limit: Int) async throws -> [DeadLetter]
    /// The tenant's dead letters still waiting for a replay or a decision (the metrics' gauge).
    func pendingDeadLetterCount() async throws -> Int
    /// Records a replay's outcome; `replayed` closes the dead letter.
    func recordReplay(id: UUID, replayed: Bool, code: String?, detail: String?, result: JSONValue) async throws
}
