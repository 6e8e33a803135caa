import Foundation
import PostgresNIO

/// Where the database is and how to log in: the owner (migrations, tenant registration) and the
/// service role `statusbro_app` (everything else), both on the same server and database.
public struct DatabaseSettings: Sendable {
    /// One login.
    public struct Login: Sendable {
        public var username: String
        public var password: String?
    }

    /// TCP host and port, or a Unix-domain socket path.
    public enum Endpoint: Sendable {
        case tcp(host: String, port: Int)
        case socket(path: String)
    }

    public var endpoint: Endpoint
    public var database: String
    public var owner: Login
    public var service: Login
    /// Whether to use TLS; `nil` lets the URL's `sslmode` decide (`disable` for local servers).
    public var requireTLS: Bool
    /// The service pool's size.
    public var maximumConnections: Int = 20
    /// Database operations allowed to wait for or hold a connection at once; beyond it, requests
    /// are refused at once with 503 instead of queueing without bound.
    public var maximumPendingOperations: Int = 400
    /// The longest a service statement may run, or wait for a lock: a stuck query answers 503,
    /// it does not hang the request.
    public var statementTimeout: Duration = .seconds(15)

    /// The role the service connects as; created by the first migration.
    public static let serviceRole = "statusbro_app"

    /// Settings for a server given by URL (`postgres://user:password@host:port/database?sslmode=…`,
    /// or `postgres://user@/database?host=/socket/dir`). The URL's user is the owner; the service
    /// logs in as `statusbro_app` with `servicePassword`, unless `serviceURL` names another login.
    public init(url: String, serviceURL: String? = nil, servicePassword: String? = nil) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw DatabaseSettingsError.invalidURL("expected postgres://user:password@host:port/database")
        }
        let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let query = Dictionary(components.queryItems?.map { ($0.name, $0.value ?? "") } ?? [], uniquingKeysWith: { $1 })
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            endpoint = .socket(path: socketDirectory + "/.s.PGSQL.\(components.port ?? 5432)")
        } else {
            endpoint = .tcp(host: components.host ?? "127.0.0.1", port: components.port ?? 5432)
        }
        self.database = database.isEmpty ? "postgres" : database
        self.owner = Login(username: components.user ?? "postgres", password: components.password)
        if let serviceURL, let service = URLComponents(string: serviceURL), let user = service.user {
            self.service = Login(username: user, password: service.password)
        } else {
            self.service = Login(username: Self.serviceRole, password: servicePassword)
        }
        let sslmode = query["sslmode"] ?? "disable"
        guard ["disable", "prefer", "require", "verify-full"].contains(sslmode) else {
            throw DatabaseSettingsError.invalidURL("sslmode must be disable, prefer, require or verify-full")
        }
        self.requireTLS = sslmode != "disable"
    }

    /// Settings for a local socket (the embedded cluster).
    public init(socketPath: String, database: String, owner: String) {
        self.endpoint = .socket(path: socketPath)
        self.database = database
        self.owner = Login(username: owner, password: nil)
        self.service = Login(username: Self.serviceRole, password: nil)
        self.requireTLS = false
    }

    /// The same server with another database (tests copy a template per test).
    public func with(database: String) -> DatabaseSettings {
        var copy = self
        copy.database = database
        return copy
    }

    /// Whether the server is on this machine.
    public var isLocal: Bool {
        switch endpoint {
        case .socket: true
        case .tcp(let host, _): ["localhost", "127.0.0.1", "::1"].contains(host)
        }
    }

    /// A pool configuration for `login`.
    public func clientConfiguration(_ login: Login) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            configuration = PostgresClient.Configuration(
                host: host, port: port, username: login.username, password: login.password, database: database,
                tls: requireTLS ? .require(.makeClientConfiguration()) : .disable)
        case .socket(let path):
            configuration = PostgresClient.Configuration(
                unixSocketPath: path, username: login.username, password: login.password, database: database)
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        if login.username == service.username {
            let milliseconds = statementTimeout.components.seconds * 1000 + statementTimeout.components.attoseconds / 1_000_000_000_000_000
            configuration.options.additionalStartupParameters = [
                ("statement_timeout", "\(milliseconds)"), ("lock_timeout", "\(milliseconds)"),
                ("idle_in_transaction_session_timeout", "\(milliseconds * 2)"),
            ]
        }
        return configuration
    }

    /// A single-connection configuration for `login` (the rules listener's dedicated connection).
    public func connectionConfiguration(_ login: Login) throws -> PostgresConnection.Configuration {
        switch endpoint {
        case .tcp(let host, let port):
            return PostgresConnection.Configuration(
                host: host, port: port, username: login.username, password: login.password, database: database,
                tls: requireTLS ? .require(try .init(configuration: .makeClientConfiguration())) : .disable)
        case .socket(let path):
            return PostgresConnection.Configuration(
                unixSocketPath: path, username: login.username, password: login.password, database: database)
        }
    }
}

/// A database URL that cannot be used.
public enum DatabaseSettingsError: Error, CustomStringConvertible {
    case invalidURL(String)

    /// What is wrong.
    public var description: String {
        switch self {
        case .invalidURL(let reason): "invalid DATABASE_URL: \(reason)"
        }
    }
}

/// Runs `body` with a running client, and shuts the client down afterwards.
@discardableResult
public func withPostgresClient<T: Sendable>(
    _ configuration: PostgresClient.Configuration, logger: Logger, _ body: @Sendable (PostgresClient) async throws -> T
) async throws -> T {
    let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    return try await withPostgresClientRunning(client) { try await body(client) }
}

/// Runs `body` while `client` runs, and stops it afterwards.
@discardableResult
public func withPostgresClientRunning<T: Sendable>(_ client: PostgresClient, _ body: @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            await client.run()
            return nil
        }
        defer { group.cancelAll() }
        // Give run() a moment to start, so the first lease does not log "run() hasn't been called".
        try await Task.sleep(for: .milliseconds(2))
        return try await body()
    }
}
