import Foundation
import PostgresNIO
import StatusCore
import StatusRules

extension PostgresStatusStore {
    public func tenantVersions() async throws -> [TenantID: Int] {
        do {
            var versions: [TenantID: Int] = [:]
            for row in try await client.rows("SELECT tenant_id, rules_version FROM tenants", logger: logger) {
                let (id, version) = try row.decode((String, Int).self)
                if let tenant = TenantID(id) { versions[tenant] = version }
            }
            return versions
        } catch {
            throw Self.translate(error)
        }
    }

    public func activeReleases() async throws -> [RuleRelease] {
        do {
            var releases: [RuleRelease] = []
            let rows = try await client.rows(
                "SELECT o_tenant_id, o_version, o_document, o_sha256, o_published_by, o_published_at, o_comment, o_rolled_back_from FROM statusbro_active_releases()",
                logger: logger)
            for row in rows {
                let (tenant, version, document, sha, by, at, comment, from) = try row.decode(
                    (String, Int, RulesDocument, String, String, Date, String, Int?).self)
                guard let tenant = TenantID(tenant) else { continue }
                releases.append(
                    RuleRelease(
                        tenant: tenant, version: version, document: document, sha256: sha, publishedBy: by, publishedAt: at,
                        comment: comment, rolledBackFrom: from))
            }
            return releases
        } catch {
            throw Self.translate(error)
        }
    }
}
