import Foundation
import PostgresNIO
import StatusCore
import StatusPostgres
import StatusRules
import StatusTestSupport
import Testing

@Suite("Tenant isolation in the database")
struct IsolationTests {
    @Test("under the service role, a query without a tenant filter sees only the current tenant's rows")
    func rowLevelSecurity() async throws {
        try await TestBackend.withBackend { app in
            // One case for each tenant, through the real ingestion path.
            for (tenant, source, code) in [("sundsvall", "BYGGR", "ANM"), ("bergen", "DIBK", "MS")] {
                let submission = try EventSubmission(
                    json: .object([
                        "messageId": .string(UUID().uuidString), "sourceSystem": .string(source),
                        "externalCaseId": .string("CASE-\(tenant)"),
                        "caseType": .string("Test"), "status": .string(code), "occurredAt": .string("2024-04-23T12:47:17+02:00"),
                    ]))
                _ = try await app.services.events.record(
                    submission, snapshot: try app.services.registry.serving(TenantID(tenant)!), tenant: TenantID(tenant)!,
                    correlationId: "test")
            }
            let seen = try await TestDatabase.asService(app.settings) { client in
                try await client.withConnection { connection in
                    var results: [String: [String]] = [:]
                    for tenant in ["sundsvall", "bergen", ""] {
                        try await connection.run("BEGIN")
                        if !tenant.isEmpty { try await connection.run("SELECT set_config('statusbro.tenant', \(tenant), true)") }
                        var ids: [String] = []
                        // Deliberately no tenant filter, on the case and on its feed entry and event.
                        for table in ["cases", "feed_entries", "case_events e JOIN cases c USING (tenant_id, case_id)"] {
                            let column = table.hasPrefix("case_events") ? "c.external_case_id" : "external_case_id"
                            let query = PostgresQuery(unsafeSQL: "SELECT \(column) FROM \(table)")
                            for try await id in try await connection.run(query).decode(String.self) {
                                ids.append(table.prefix(5) + ":" + id)
                            }
                        }
                        try await connection.run("COMMIT")
                        results[tenant] = ids.sorted()
                    }
                    return results
                }
            }
            #expect(seen["sundsvall"] == ["case_:CASE-sundsvall", "cases:CASE-sundsvall", "feed_:CASE-sundsvall"])
            #expect(seen["bergen"] == ["case_:CASE-bergen", "cases:CASE-bergen", "feed_:CASE-bergen"])
            #expect(seen[""] == [])  // no tenant set: nothing at all
        }
    }

    @Test("the service role cannot write another tenant's rows, nor bypass or change the policies")
    func withCheck() async throws {
        let settings = try await TestDatabase.fresh()
        try await TestDatabase.asService(settings) { client in
            try await client.withConnection { connection in
                try await connection.run("BEGIN")
                try await connection.run("SELECT set_config('statusbro.tenant', 'sundsvall', true)")
                await #expect(throws: PSQLError.self) {
                    try await connection.run(
                        "INSERT INTO rule_drafts (tenant_id, document, updated_by) VALUES ('bergen', '{}', 'intruder')")
                }
                try await connection.run("ROLLBACK")
                await #expect(throws: PSQLError.self) { try await connection.run("ALTER TABLE cases DISABLE ROW LEVEL SECURITY") }
                // With row security off, a query that policies would filter fails instead of seeing everything.
                try await connection.run("SET row_security = off")
                await #expect(throws: PSQLError.self) {
                    for try await _ in try await connection.run("SELECT 1 FROM cases") {}
                }
            }
        }
        let attributes = try await TestDatabase.asOwner(settings) { client in
            var result: (Bool, Bool) = (true, true)
            for try await row in try await client.query(
                "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'statusbro_app'"
            ).decode((Bool, Bool).self) { result = row }
            return result
        }
        #expect(attributes == (false, false))
    }

    @Test("every tenant-scoped table has row-level security enabled and forced")
    func everyTableForced() async throws {
        let settings = try await TestDatabase.fresh()
        let tables = try await TestDatabase.asOwner(settings) { client in
            var rows: [(String, Bool, Bool)] = []
            for try await row in try await client.query(
                """
                SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c
                  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
                 WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND c.relname <> 'tenants'
                """
            ).decode((String, Bool, Bool).self) { rows.append(row) }
            return rows
        }
        let expected: Set = [
            "rule_releases", "rule_drafts", "cases", "case_events", "idempotency_keys", "dead_letters", "feed_entries", "api_keys",
            "dibk_references", "dibk_case_numbers", "dibk_updates", "case_erasures",
        ]
        #expect(Set(tables.map(\.0)) == expected)
        for (table, enabled, forced) in tables {
            #expect(enabled && forced, "\(table)")
        }
    }

    @Test("published releases and recorded events can be neither changed nor deleted, even by the owner")
    func immutability() async throws {
        let settings = try await TestDatabase.fresh()
        try await TestBackend.withBackend(settings: settings) { app in
            let submission = try EventSubmission(
                json: .object([
                    "messageId": .string(UUID().uuidString), "sourceSystem": .string("BYGGR"), "externalCaseId": .string("IMMUTABLE"),
                    "caseType": .string("Test"), "status": .string("ANM"), "occurredAt": .string("2024-04-23T12:47:17+02:00"),
                ]))
            _ = try await app.services.events.record(
                submission, snapshot: try app.services.registry.serving(TenantID("sundsvall")!), tenant: TenantID("sundsvall")!,
                correlationId: "test")
        }
        try await TestDatabase.asOwner(settings) { client in
            await #expect(throws: PSQLError.self) { try await client.query("UPDATE rule_releases SET comment = 'rewritten'") }
            await #expect(throws: PSQLError.self) { try await client.query("DELETE FROM rule_releases") }
            await #expect(throws: PSQLError.self) { try await client.query("TRUNCATE rule_releases CASCADE") }
            await #expect(throws: PSQLError.self) { try await client.query("UPDATE case_events SET applied = false") }
            await #expect(throws: PSQLError.self) { try await client.query("DELETE FROM case_events") }
        }
        try await TestDatabase.asService(settings) { client in
            try await client.withConnection { connection in
                try await connection.run("BEGIN")
                try await connection.run("SELECT set_config('statusbro.tenant', 'sundsvall', true)")
                await #expect(throws: PSQLError.self) { try await connection.run("UPDATE rule_releases SET comment = 'x'") }
                try await connection.run("ROLLBACK")
            }
        }
    }
}
