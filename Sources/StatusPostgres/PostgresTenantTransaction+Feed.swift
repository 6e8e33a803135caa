import Foundation
import Metrics
import PostgresNIO
import StatusCore

extension PostgresTenantTransaction {
    func appendRulesRemap(_ remaps: [CodeRemap], version: Int) async throws -> Int {
        casesChange(.tenant)
        guard !remaps.isEmpty else { return 0 }
        let rows = try await run(
            """
            WITH remap AS (
                SELECT * FROM unnest(\(remaps.map(\.sourceSystem)), \(remaps.map(\.rawStatus)), \(remaps.map(\.recordedStatus)),
                                     \(remaps.map(\.status)), \(remaps.map(\.category)))
                    AS r(source_system, raw_status, recorded_status, status, category)
            ), written AS (
                -- one entry per live case whose shown status the release changes, in case order
                INSERT INTO feed_entries (tenant_id, case_id, external_case_id, status, category, reason, rule_version, party)
                SELECT c.tenant_id, c.case_id, c.external_case_id, remap.status, remap.category, 'rules', \(version), c.party
                  FROM cases c JOIN remap ON c.source_system = remap.source_system AND c.raw_status = remap.raw_status
                                         AND c.status = remap.recorded_status
                 WHERE c.tenant_id = \(t) AND c.withdrawn_at IS NULL
                 ORDER BY c.case_id
                RETURNING 1
            )
            SELECT count(*)::bigint FROM written
            """)
        for try await count in rows.decode(Int.self) {
            Counter(label: "statusbro_feed_entries_written_total", dimensions: [("reason", "rules")]).increment(by: count)
            return count
        }
        return 0
    }

    func feedHorizon() async throws -> Int64 {
        try await values("SELECT statusbro_feed_horizon(\(t))", as: Int64.self).first ?? 0
    }

    func feedEntries(after: Int64, upTo: Int64, since: Date, limit: Int) async throws -> [FeedEntry] {
        let rows = try await run(
            """
            SELECT position, case_id, external_case_id, status, category, reason, changed_at, party FROM feed_entries
             WHERE tenant_id = \(t) AND position > \(after) AND position <= \(upTo) AND changed_at >= \(since)
             ORDER BY position LIMIT \(limit)
            """)
        var entries: [FeedEntry] = []
        for try await (position, caseId, externalCaseId, status, category, reason, changedAt, party) in rows.decode(
            (Int64, UUID, String, String?, String?, String, Date, String?).self)
        {
            entries.append(
                FeedEntry(
                    position: position, caseId: caseId, externalCaseId: externalCaseId, status: status, category: category,
                    reason: ChangeReason(rawValue: reason) ?? .event, changedAt: changedAt, party: party))
        }
        return entries
    }
}
