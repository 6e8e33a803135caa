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
