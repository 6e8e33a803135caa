import Crypto
import Foundation
import PostgresNIO
import StatusCore
import StatusRules

extension PostgresTenantTransaction {
    func activeVersion() async throws -> Int {
        try await values("SELECT COALESCE(max(version), 0) FROM rule_releases WHERE tenant_id = \(t)", as: Int.self).first ?? 0
    }

    static let releaseColumns = "version, document, sha256, published_by, published_at, comment, rolled_back_from"

    private func releases(_ query: PostgresQuery) async throws -> [RuleRelease] {
        var releases: [RuleRelease] = []
        for try await (version, document, sha, by, at, comment, from) in try await run(query).decode(
            (Int, RulesDocument, String, String, Date, String, Int?).self)
        {
            releases.append(
                RuleRelease(
                    tenant: tenant, version: version, document: document, sha256: sha, publishedBy: by, publishedAt: at,
                    comment: comment, rolledBackFrom: from))
        }
        return releases
    }

    func release(version: Int) async throws -> RuleRelease? {
        try await releases(
            "SELECT \(unescaped: Self.releaseColumns) FROM rule_releases WHERE tenant_id = \(t) AND version = \(version)"
        ).first
    }

    /// Release times are kept in milliseconds; an instant that went through a `Date` may be a
    /// microsecond short of the millisecond it names, so the comparison allows half a millisecond.
    func release(activeAt instant: Date) async throws -> RuleRelease? {
        try await releases(
            """
            SELECT \(unescaped: Self.releaseColumns) FROM rule_releases
             WHERE tenant_id = \(t) AND published_at <= \(instant)::timestamptz + interval '500 microseconds'
             ORDER BY version DESC LIMIT 1
            """
        ).first
    }

    func releases() async throws -> [RuleReleaseSummary] {
        let rows = try await run(
            """
            SELECT version, sha256, published_by, published_at, comment, rolled_back_from FROM rule_releases
             WHERE tenant_id = \(t) ORDER BY version
            """)
        var summaries: [RuleReleaseSummary] = []
        for try await (version, sha, by, at, comment, from) in rows.decode((Int, String, String, Date, String, Int?).self) {
            summaries.append(
                RuleReleaseSummary(version: version, sha256: sha, publishedBy: by, publishedAt: at, comment: comment, rolledBackFrom: from))
        }
        return summaries
    }

    func releases(publishedFrom from: Date?, to: Date?) async throws -> [RuleRelease] {
        try await releases(
            """
            SELECT \(unescaped: Self.releaseColumns) FROM rule_releases
             WHERE tenant_id = \(t) AND (\(from)::timestamptz IS NULL OR published_at >= \(from))
               AND (\(to)::timestamptz IS NULL OR published_at < \(to))
             ORDER BY version
            """)
    }

    func insertRelease(_ r: NewRuleRelease) async throws {
        let canonical = r.document.canonicalJSON()
        let sha = SHA256.hash(data: Data(canonical.utf8)).map { String(format: "%02x", $0) }.joined()
        do {
            try await run(
                """
                INSERT INTO rule_releases (tenant_id, version, document, sha256, published_by, comment, rolled_back_from)
                VALUES (\(t), \(r.version), \(r.document), \(sha), \(r.publishedBy), \(r.comment), \(r.rolledBackFrom))
                """)
        } catch {
            throw PostgresStatusStore.translate(error)
        }
    }

    func draft() async throws -> RulesDraft? {
        let rows = try await run("SELECT document, base_version, updated_by, updated_at FROM rule_drafts WHERE tenant_id = \(t)")
        for try await (document, base, by, at) in rows.decode((JSONValue, Int, String, Date).self) {
            return RulesDraft(document: document, baseVersion: base, updatedBy: by, updatedAt: at)
        }
        return nil
    }

    func saveDraft(_ document: JSONValue, baseVersion: Int, by: String) async throws {
        try await run(
            """
            INSERT INTO rule_drafts (tenant_id, document, base_version, updated_by) VALUES (\(t), \(document), \(baseVersion), \(by))
            ON CONFLICT (tenant_id) DO UPDATE
               SET document = EXCLUDED.document, base_version = EXCLUDED.base_version, updated_by = EXCLUDED.updated_by,
                   updated_at = now()
            """)
    }

    func deleteDraft() async throws -> Bool {
        let rows = try await run("DELETE FROM rule_drafts WHERE tenant_id = \(t) RETURNING tenant_id")
        for try await _ in rows { return true }
        return false
    }

    func codeUsage() async throws -> [CodeUsage] {
        let rows = try await run(
            """
            SELECT source_system, raw_status, status, category, count(*)::bigint FROM cases
             WHERE tenant_id = \(t) AND withdrawn_at IS NULL
             GROUP BY source_system, raw_status, status, category
            """)
        var usage: [CodeUsage] = []
        for try await (source, raw, status, category, count) in rows.decode((String, String, String, String, Int).self) {
            usage.append(CodeUsage(sourceSystem: source, rawStatus: raw, recordedStatus: status, recordedCategory: category, cases: count))
        }
        return usage
    }
}
