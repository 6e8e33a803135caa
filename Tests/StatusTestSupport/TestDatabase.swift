import Foundation
import Logging
import PostgresNIO
import StatusCore
import StatusPostgres
import StatusRules

/// Fresh databases for tests: each copied from a template that is migrated and has the tenants
/// of `tenants/` imported once per test process. The server is the one the test command starts
/// (`STATUSBRO_TEST_DATABASE_URL`); any host but this machine is refused, so a test can never
/// touch a real database.
public enum TestDatabase {
    /// Why tests cannot get a database.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// The repository's root.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A logger that keeps test output quiet.
    public static var logger: Logger {
        var logger = Logger(label: "statusbro.test")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }

    /// The server's settings.
    public static func server() async throws -> DatabaseSettings {
        guard let url = ProcessInfo.processInfo.environment["STATUSBRO_TEST_DATABASE_URL"] else {
            throw Unavailable(
                description: "STATUSBRO_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts PostgreSQL")
        }
        var settings = try await DatabaseSettings.locate(try ConnectionString(url))
        guard settings.isLocal else {
            throw Unavailable(description: "refusing to run tests against a database that is not on this machine")
        }
        settings.maximumConnections = 6
        return settings
    }

    private static let template = TemplateHolder()

    /// A new database with the schema and the tenants of `tenants/` (each at rules version 1).
    public static func fresh() async throws -> DatabaseSettings {
        let server = try await server()
        let templateName = try await template.name(server)
        let name = "test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try await withPostgresClient(server.clientConfiguration(server.owner), logger: logger) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(templateName)"), logger: logger)
        }
        return server.with(database: name)
    }

    /// An empty database (no schema), for migration tests.
    public static func empty() async throws -> DatabaseSettings {
        let server = try await server()
        let name = "empty_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try await withPostgresClient(server.clientConfiguration(server.owner), logger: logger) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        return server.with(database: name)
    }

    /// Applies the migrations of `sql/` as the owner.
    public static func migrate(_ settings: DatabaseSettings) async throws -> [String] {
        let runner = MigrationRunner(directory: repositoryRoot.appendingPathComponent("sql"), logger: logger)
        return try await withPostgresClient(settings.clientConfiguration(settings.owner), logger: logger) { client in
            try await runner.migrate(client)
        }
    }

    /// Registers and publishes the tenant documents of `tenants/`.
    public static func importTenants(_ settings: DatabaseSettings, names: [String] = ["sundsvall", "bergen", "nav-oslo", "aarhus"])
        async throws
    {
        let documents = try names.map { try document($0) }
        try await withPostgresClient(settings.clientConfiguration(settings.owner), logger: logger) { owner in
            for document in documents { try await TenantCatalog(owner: owner, logger: logger).register(TenantID(document.tenant)!) }
        }
        try await withPostgresClient(settings.clientConfiguration(settings.service), logger: logger) { client in
            let rules = RulesAdministration(
                store: PostgresStatusStore(client: client, logger: logger), registry: RulesRegistry(), logger: logger)
            for document in documents { _ = try await rules.importDocument(document, by: "test", comment: "test fixture") }
        }
    }

    /// A tenant document of `tenants/`.
    public static func document(_ name: String) throws -> RulesDocument {
        try RulesDocument.decode(yaml: String(contentsOf: repositoryRoot.appendingPathComponent("tenants/\(name).yaml"), encoding: .utf8))
    }

    /// Runs `body` as the owner (superuser) of `settings`' database.
    @discardableResult
    public static func asOwner<T: Sendable>(_ settings: DatabaseSettings, _ body: @Sendable (PostgresClient) async throws -> T) async throws
        -> T
    {
        try await withPostgresClient(settings.clientConfiguration(settings.owner), logger: logger, body)
    }

    /// Runs `body` as the service role of `settings`' database.
    @discardableResult
    public static func asService<T: Sendable>(_ settings: DatabaseSettings, _ body: @Sendable (PostgresClient) async throws -> T)
        async throws -> T
    {
        try await withPostgresClient(settings.clientConfiguration(settings.service), logger: logger, body)
    }
}

/// Creates the template once per process, whichever test asks first.
private actor TemplateHolder {
    private var task: Task<String, any Error>?

    func name(_ server: DatabaseSettings) async throws -> String {
        if let task { return try await task.value }
        let task = Task {
            let name = "statusbro_template_\(ProcessInfo.processInfo.processIdentifier)_\(UInt32.random(in: 0...UInt32.max))"
            let logger = TestDatabase.logger
            try await withPostgresClient(server.clientConfiguration(server.owner), logger: logger) { client in
                try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            }
            let settings = server.with(database: name)
            _ = try await TestDatabase.migrate(settings)
            try await TestDatabase.importTenants(settings)
            return name
        }
        self.task = task
        return try await task.value
    }
}

extension PostgresConnection {
    /// Runs a query with the test logger (the async API; the one without a logger is the old future-based one).
    @discardableResult
    public func run(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await self.query(query, logger: TestDatabase.logger)
    }
}
