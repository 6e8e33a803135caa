import Foundation
import PostgresNIO
import StatusTestSupport
import Testing

@testable import StatusPostgres

@Suite("Migrations")
struct MigrationTests {
    @Test("apply to an empty database, and a second run applies nothing")
    func applyTwice() async throws {
        let settings = try await TestDatabase.empty()
        let first = try await TestDatabase.migrate(settings)
        #expect(first.contains("001_foundation.sql"))
        let second = try await TestDatabase.migrate(settings)
        #expect(second.isEmpty)
        let count = try await TestDatabase.asOwner(settings) { client in
            var count = 0
            for try await c in try await client.query("SELECT count(*)::bigint FROM statusbro_migrations").decode(Int.self) { count = c }
            return count
        }
        #expect(count == first.count)
    }

    @Test("an applied migration that was edited is refused")
    func checksumMismatch() async throws {
        let settings = try await TestDatabase.empty()
        _ = try await TestDatabase.migrate(settings)
        try await TestDatabase.asOwner(settings) { client in
            try await client.query("UPDATE statusbro_migrations SET checksum = 'edited' WHERE version = 1")
        }
        await #expect(throws: MigrationRunner.Failure.self) { try await TestDatabase.migrate(settings) }
    }

    @Test("SQL scripts split on statement ends only, not inside quotes, dollar bodies or comments")
    func splitter() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'semi;colon');
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
            /* block; comment */ SELECT $1::int, $tag$ x; y $tag$;
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 3)
        #expect(statements[1].hasSuffix("END $$"))
        #expect(statements[2].contains("$tag$ x; y $tag$"))
    }
}

@Suite("Migration 004: parties")
struct PartiesMigrationTests {
    @Test("cases and feed entries written before it get their case's organisation number as party")
    func backfill() async throws {
        let settings = try await TestDatabase.empty()
        // Only 001–003 first, as a database of the previous release.
        let earlier = FileManager.default.temporaryDirectory.appendingPathComponent("statusbro-sql-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: earlier, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: earlier) }
        let sql = TestDatabase.repositoryRoot.appendingPathComponent("sql")
        for name in ["001_foundation.sql", "002_norway.sql", "003_ingest.sql"] {
            try FileManager.default.copyItem(at: sql.appendingPathComponent(name), to: earlier.appendingPathComponent(name))
        }
        try await TestDatabase.asOwner(settings) { client in
            _ = try await MigrationRunner(directory: earlier, logger: TestDatabase.logger).migrate(client)
            try await client.query("INSERT INTO tenants (tenant_id) VALUES ('old')")
            try await client.query(
                """
                INSERT INTO cases (tenant_id, case_id, external_case_id, organisation_number, source_system, raw_status, status, category,
                                   rule_version, last_status_change)
                VALUES ('old', gen_random_uuid(), 'OLD-1', '5564900008', 'BYGGR', 'ANM', 'Inskickat', 'Mottagningskvittens', 1, now()),
                       ('old', gen_random_uuid(), 'OLD-2', NULL, 'BYGGR', 'ANM', 'Inskickat', 'Mottagningskvittens', 1, now())
                """)
            try await client.query(
                """
                INSERT INTO feed_entries (tenant_id, case_id, external_case_id, status, category, reason, rule_version)
                SELECT tenant_id, case_id, external_case_id, status, category, 'event', 1 FROM cases ORDER BY external_case_id
                """)
        }
        let applied = try await TestDatabase.migrate(settings)
        #expect(applied == ["004_faces.sql"])
        let parties = try await TestDatabase.asOwner(settings) { client in
            var rows: [String] = []
            for try await (kind, id, party) in try await client.query(
                """
                SELECT 'case', external_case_id, party FROM cases
                UNION ALL SELECT 'feed', external_case_id, party FROM feed_entries ORDER BY 1, 2
                """
            ).decode((String, String, String?).self) { rows.append("\(kind) \(id) \(party ?? "-")") }
            return rows
        }
        #expect(parties == ["case OLD-1 5564900008", "case OLD-2 -", "feed OLD-1 5564900008", "feed OLD-2 -"])
        // The guard is back on afterwards.
        try await TestDatabase.asOwner(settings) { client in
            await #expect(throws: PSQLError.self) { try await client.query("UPDATE feed_entries SET party = 'x'") }
        }
    }
}
