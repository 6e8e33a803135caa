import Crypto
import Foundation
import Logging
import PostgresNIO

/// Applies the numbered, forward-only migrations in `sql/` and records each with its checksum.
/// A migration that was applied and has since been edited is an error: history is not rewritten.
public struct MigrationRunner: Sendable {
    /// One file of `sql/`.
    public struct Migration: Sendable, Equatable {
        public var version: Int
        public var name: String
        public var checksum: String
        public var sql: String
    }

    /// Why migrating failed.
    public enum Failure: Error, CustomStringConvertible {
        case checksumMismatch(version: Int, name: String)
        case badFileName(String)
        case missingDirectory(String)

        /// What went wrong.
        public var description: String {
            switch self {
            case .checksumMismatch(let version, let name):
                "migration \(version) (\(name)) was changed after it was applied; add a new migration instead"
            case .badFileName(let name): "migration file '\(name)' is not named NNN_description.sql"
            case .missingDirectory(let path): "no migrations directory at \(path)"
            }
        }
    }

    let directory: URL
    let logger: Logger

    /// A runner over the `.sql` files in `directory`.
    public init(directory: URL, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// The migrations on disk, in order.
    public func migrations() throws -> [Migration] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
            throw Failure.missingDirectory(directory.path)
        }
        return try names.filter { $0.hasSuffix(".sql") }.sorted().map { name in
            guard let version = Int(name.prefix { $0.isNumber }), name.first?.isNumber == true else { throw Failure.badFileName(name) }
            let sql = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            let checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
            return Migration(version: version, name: name, checksum: checksum, sql: sql)
        }
    }

    /// Applies every migration not yet applied; returns the names applied. Safe to run from
    /// several processes at once (a session lock serialises them).
    @discardableResult
    public func migrate(_ client: PostgresClient) async throws -> [String] {
        let pending = try migrations()
        return try await client.withConnection { connection in
            try await connection.perform("SELECT pg_advisory_lock(hashtextextended('statusbro.migrations', 0))", logger: logger)
            do {
                let applied = try await run(pending, on: connection)
                try await connection.perform("SELECT pg_advisory_unlock(hashtextextended('statusbro.migrations', 0))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.perform("SELECT pg_advisory_unlock(hashtextextended('statusbro.migrations', 0))", logger: logger)
                throw error
            }
        }
    }

    private func run(_ migrations: [Migration], on connection: PostgresConnection) async throws -> [String] {
        try await connection.perform(
            """
            CREATE TABLE IF NOT EXISTS statusbro_migrations (
                version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        var recorded: [Int: String] = [:]
        for try await (version, checksum) in try await connection.perform(
            "SELECT version, checksum FROM statusbro_migrations", logger: logger
        ).decode((Int, String).self) {
            recorded[version] = checksum
        }
        var applied: [String] = []
        for migration in migrations {
            if let checksum = recorded[migration.version] {
                guard checksum == migration.checksum else {
                    throw Failure.checksumMismatch(version: migration.version, name: migration.name)
                }
                continue
            }
            try await connection.perform("BEGIN", logger: logger)
            do {
                for statement in SQLScript.statements(migration.sql) {
                    try await connection.perform(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.perform(
                    "INSERT INTO statusbro_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))",
                    logger: logger)
                try await connection.perform("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.perform("ROLLBACK", logger: logger)
                throw error
            }
            logger.info("migration applied", metadata: ["migration": "\(migration.name)"])
            applied.append(migration.name)
        }
        return applied
    }
}
