import Foundation
import PostgresNIO
import StatusCore

extension PostgresTenantTransaction {
    func ingestCounts(since: Date) async throws -> [IngestHour] {
        let rows = try await run(
            """
            WITH accepted AS (
                -- every recorded event: applied, or kept in history only; a replayed dead letter counts when replayed
                SELECT date_trunc('hour', recorded_at, 'UTC') AS hour, count(*) AS n FROM case_events
                 WHERE tenant_id = \(t) AND recorded_at >= \(since)
                 GROUP BY 1
            ), parked AS (
                -- naming both states lets the (tenant_id, state, received_at) index serve the window
                SELECT date_trunc('hour', received_at, 'UTC') AS hour, count(*) AS n FROM dead_letters
                 WHERE tenant_id = \(t) AND state = ANY(ARRAY['pending', 'replayed']) AND received_at >= \(since)
                 GROUP BY 1
            )
            SELECT hour, COALESCE(a.n, 0)::bigint, COALESCE(p.n, 0)::bigint
              FROM accepted AS a FULL JOIN parked AS p USING (hour)
             ORDER BY hour
            """)
        var hours: [IngestHour] = []
        for try await (hour, accepted, parked) in rows.decode((Date, Int, Int).self) {
            hours.append(IngestHour(hour: hour, accepted: accepted, deadLettered: parked))
        }
        return hours
    }

    func pendingDeadLetterGroups() async throws -> [PendingDeadLetterGroup] {
        // What a parked message carries, read as its face reads it: an event names its source
        // system and code (`sourceSystem`, `status`); a DiBK receipt or update is of source system
        // DIBK, its code the milestone, else its last outcome as UTFALL:<type> (NorwegianUpdate.rawStatus).
        let dibkScopes = [DIBK.receiptScope, DIBK.updateScope]
        let rows = try await run(
            """
            SELECT code,
                   CASE WHEN scope = \(EventMessage.scope) THEN payload ->> 'sourceSystem'
                        WHEN scope = ANY(\(dibkScopes)::text[]) THEN \(DIBK.sourceSystem) END AS source_system,
                   CASE WHEN scope = \(EventMessage.scope) THEN payload ->> 'status'
                        WHEN scope = ANY(\(dibkScopes)::text[])
                        THEN COALESCE(payload ->> 'milepæl', \(DIBK.outcomeCode("")) || (payload -> 'utfall' -> -1 ->> 'utfallType'))
                   END AS raw_status,
                   count(*)::bigint, min(received_at), max(received_at)
              FROM dead_letters
             WHERE tenant_id = \(t) AND state = 'pending'
             GROUP BY 1, 2, 3
            """)
        var groups: [PendingDeadLetterGroup] = []
        for try await (code, source, raw, count, oldest, newest) in rows.decode((String, String?, String?, Int, Date, Date).self) {
            groups.append(
                PendingDeadLetterGroup(code: code, sourceSystem: source, rawStatus: raw, count: count, oldest: oldest, newest: newest))
        }
        return groups
    }
}
