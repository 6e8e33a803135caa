import Foundation
import PostgresNIO
import StatusCore
import StatusRules

extension PostgresTenantTransaction {
    static let deadLetterColumns =
        "dead_letter_id, scope, message_id, code, detail, payload, correlation_id, received_at, state, attempts, replayed_at, replay_result, external_case_id"

    typealias DeadLetterRow = (UUID, String, String?, String, String, JSONValue, String, Date, String, Int, Date?, JSONValue?, String?)

    static func deadLetter(_ r: DeadLetterRow) -> DeadLetter {
        DeadLetter(
            id: r.0, scope: r.1, messageId: r.2, externalCaseId: r.12, code: r.3, detail: r.4, payload: r.5, correlationId: r.6,
            receivedAt: r.7, state: DeadLetter.State(rawValue: r.8) ?? .pending, attempts: r.9, replayedAt: r.10, replayResult: r.11)
    }

    func lockDeadLetter(id: UUID) async throws -> DeadLetter? {
        try await deadLetters(
            "SELECT \(unescaped: Self.deadLetterColumns) FROM dead_letters WHERE tenant_id = \(t) AND dead_letter_id = \(id) FOR UPDATE"
        ).first
    }

    func deadLetters(state: DeadLetter.State?, scope: String?, limit: Int) async throws -> [DeadLetter] {
        try await deadLetters(
            """
            SELECT \(unescaped: Self.deadLetterColumns) FROM dead_letters
             WHERE tenant_id = \(t) AND (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
               AND (\(scope)::text IS NULL OR scope = \(scope))
             ORDER BY received_at, dead_letter_id LIMIT \(limit)
            """)
    }

    private func deadLetters(_ query: PostgresQuery) async throws -> [DeadLetter] {
        var letters: [DeadLetter] = []
        for try await row in try await run(query).decode(DeadLetterRow.self) { letters.append(Self.deadLetter(row)) }
        return letters
    }

    func pendingDeadLetterCount() async throws -> Int {
        try await values("SELECT count(*)::bigint FROM dead_letters WHERE tenant_id = \(t) AND state = 'pending'", as: Int.self).first ?? 0
    }

    func recordReplay(id: UUID, replayed: Bool, code: String?, detail: String?, result: JSONValue) async throws {
        try await run(
            """
            UPDATE dead_letters
               SET attempts = attempts + 1, replay_result = \(result),
                   state = CASE WHEN \(replayed) THEN 'replayed' ELSE state END,
                   replayed_at = CASE WHEN \(replayed) THEN clock_timestamp() ELSE replayed_at END,
                   code = COALESCE(\(code), code), detail = COALESCE(\(detail), detail)
             WHERE tenant_id = \(t) AND dead_letter_id = \(id)
            """)
    }
}
