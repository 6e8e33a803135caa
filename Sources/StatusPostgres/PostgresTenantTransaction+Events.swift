import Foundation
import PostgresNIO
import StatusCore
import StatusRules

extension PostgresTenantTransaction {
    func events(caseId: UUID) async throws -> [CaseEvent] {
        try await events(
            """
            SELECT \(unescaped: Self.eventColumns) FROM case_events e
             WHERE e.tenant_id = \(t) AND e.case_id = \(caseId) ORDER BY e.recorded_at, e.event_id
            """)
    }

    func events(caseIds: [UUID]) async throws -> [CaseEvent] {
        guard !caseIds.isEmpty else { return [] }
        return try await events(
            """
            SELECT \(unescaped: Self.eventColumns) FROM case_events e
             WHERE e.tenant_id = \(t) AND e.case_id = ANY(\(caseIds)::uuid[]) ORDER BY e.recorded_at, e.event_id
            """)
    }

    func events(externalCaseId: String?, from: Date?, to: Date?, limit: Int) async throws -> [(externalCaseId: String, event: CaseEvent)] {
        let rows = try await run(
            """
            SELECT c.external_case_id, \(unescaped: Self.eventColumns)
              FROM case_events e JOIN cases c ON c.tenant_id = e.tenant_id AND c.case_id = e.case_id
             WHERE e.tenant_id = \(t)
               AND (\(externalCaseId)::text IS NULL OR c.external_case_id = \(externalCaseId))
               AND (\(from)::timestamptz IS NULL OR e.recorded_at >= \(from))
               AND (\(to)::timestamptz IS NULL OR e.recorded_at < \(to))
             ORDER BY e.recorded_at, e.event_id
             LIMIT \(limit)
            """)
        var result: [(String, CaseEvent)] = []
        for try await row in rows.decode(
            (String, UUID, UUID, String?, String, String, String, String, String, Int, Bool, Date, Date, String, JSONValue).self)
        {
            result.append(
                (row.0, Self.event((row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10, row.11, row.12, row.13, row.14)))
            )
        }
        return result
    }

    private func events(_ query: PostgresQuery) async throws -> [CaseEvent] {
        var events: [CaseEvent] = []
        for try await row in try await run(query).decode(EventRow.self) { events.append(Self.event(row)) }
        return events
    }

    /// The columns of `case_events` (as `e`), in the order `EventRow` decodes them.
    static let eventColumns =
        "e.event_id, e.case_id, e.message_id, e.change_type, e.source_system, e.raw_status, e.status, e.category, e.rule_version, e.applied, e.occurred_at, e.recorded_at, e.correlation_id, e.payload"

    typealias EventRow = (UUID, UUID, String?, String, String, String, String, String, Int, Bool, Date, Date, String, JSONValue)

    static func event(_ r: EventRow) -> CaseEvent {
        CaseEvent(
            eventId: r.0, caseId: r.1, messageId: r.2, changeType: ChangeType(rawValue: r.3) ?? .update, sourceSystem: r.4,
            rawStatus: r.5, status: r.6, category: r.7, ruleVersion: r.8, applied: r.9, occurredAt: r.10, recordedAt: r.11,
            correlationId: r.12, payload: r.13)
    }
}
