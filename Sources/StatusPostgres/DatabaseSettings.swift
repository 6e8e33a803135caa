import Foundation
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#endif

/// Where the database is and how to log in: the owner (migrations, tenant registration) and the
/// service role `statusbro_app` (everything else), both on the same server and database. With a
/// `locator`, the service finds the server that accepts writes again after a failover.
public struct DatabaseSettings: Sendable {
    /// One login.
    public struct Login: Sendable, Equatable {
        /// The role.
        public var username: String
        /// Its password, when the server asks for one.
        public var password: String?

        /// A login.
        public init(username: String, password: String?) {
            self.username = username
            self.password = password
        }
    }

    /// TCP host and port, or a Unix-domain socket path.
    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// `serverName` is the name a certificate must carry when `host` is an address.
        case tcp(host: String, port: Int, serverName: String? = nil)
        case socket(path: String)

        /// `host:port` or the socket path, for logs and messages.
        public var description: String {
            switch self {
            case .tcp(let host, let port, _): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .socket(let path): path
            }
        }
    }

    /// Where the primary is (as far as these settings know).
    public var endpoint: Endpoint
    /// How connections are secured.
    public var tls: TLSPolicy
    /// The database.
    public var database: String
    /// The login that owns the schema: migrations, tenant registration.
    public var owner: Login
    /// The login the service runs as (`statusbro_app`).
    public var service: Login
    /// Finds the primary again when the one in use is lost; `nil`: the endpoint never changes.
    public var locator: (any PrimaryLocator)?
    /// The service pool's size.
    public var maximumConnections: Int = 20
    /// Database operations allowed to wait for or hold a connection at once; beyond it, requests
    /// are refused at once with 503 instead of queueing without bound.
    public var maximumPendingOperations: Int = 400
    /// The longest a service statement may run, or wait for a lock: a stuck query answers 503,
    /// it does not hang the request.
    public var statementTimeout: Duration = .seconds(15)

    /// How long a service statement may go unanswered before the server is presumed gone and the
    /// connection is closed (the statement fails with `unavailable`, and the pool looks for the
    /// primary). A live server ends any statement at `statementTimeout`, so twice that is never a
    /// slow answer: it is a host that vanished without closing its connections.
    public var unansweredStatementLimit: Duration { statementTimeout * 2 }

    /// The role the service connects as; created by the first migration.
    public static let serviceRole = "statusbro_app"

    /// Settings for the server a libpq connection string names, at the host that accepts writes
    /// now. The string's login is the owner; the service logs in as `statusbro_app` with
    /// `servicePassword` (else what libpq finds for it: see `resolvingServiceLogin()`).
    public static func locate(_ connection: ConnectionString, servicePassword: String? = nil) async throws -> DatabaseSettings {
        let locator = LibpqLocator(connection)
        let owner = try await locator.locateOwner()
        return DatabaseSettings(
            location: owner, service: Login(username: serviceRole, password: servicePassword), locator: locator)
    }

    /// Settings at `location`, whose login is the owner.
    public init(location: PrimaryLocation, service: Login, locator: (any PrimaryLocator)?) {
        self.endpoint = location.endpoint
        self.tls = location.tls
        self.database = location.database
        self.owner = Login(username: location.username, password: location.password)
        self.service = service
        self.locator = locator
    }

    /// Settings for a local socket (the embedded cluster).
    public init(socketPath: String, database: String, owner: String) {
        self.endpoint = .socket(path: socketPath)
        self.tls = .disable
        self.database = database
        self.owner = Login(username: owner, password: nil)
        self.service = Login(username: Self.serviceRole, password: nil)
        self.locator = nil
    }

    /// These settings with the service's password as libpq finds it for `statusbro_app` when none
    /// was given (a `.pgpass` line, `PGPASSWORD`, a service file), checked by logging in once.
    /// Call it after the migrations, which create the role.
    public func resolvingServiceLogin() async throws -> DatabaseSettings {
        guard let locator else { return self }
        var copy = self
        // A standby listed before the primary refuses the role until it has replayed the migration
        // that created it (libpq does not try further hosts after a refused login): ask again briefly.
        var attempt = 0
        while true {
            attempt += 1
            do {
                let location = try await locator.locate(username: service.username, password: service.password)
                copy.service.password = location.password
                return copy
            } catch let error as DatabaseSettingsError {
                guard attempt < 4 else { throw DatabaseSettingsError.serviceLogin(username: service.username, reason: error.reason) }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    /// The same server with another database (tests copy a template per test).
    public func with(database: String) -> DatabaseSettings {
        var copy = self
        copy.database = database
        return copy
    }

    /// These settings at another place (after a failover), for `login`'s password there.
    public func moved(to location: PrimaryLocation) -> DatabaseSettings {
        var copy = self
        copy.endpoint = location.endpoint
        copy.tls = location.tls
        if location.username == service.username { copy.service.password = location.password ?? service.password }
        return copy
    }

    /// Whether the server is on this machine.
    public var isLocal: Bool {
        switch endpoint {
        case .socket: true
        case .tcp(let host, _, _): ["localhost", "::1"].contains(host) || host.hasPrefix("127.")
        }
    }

    /// A pool configuration for `login`.
    public func clientConfiguration(_ login: Login) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .tcp(let host, let port, let serverName):
            configuration = PostgresClient.Configuration(
                host: host, port: port, username: login.username, password: login.password, database: database,
                tls: tls.clientTLS())
            configuration.options.tlsServerName = serverName
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
        case .tcp(let host, let port, let serverName):
            var configuration = PostgresConnection.Configuration(
                host: host, port: port, username: login.username, password: login.password, database: database,
                tls: try tls.connectionTLS())
            configuration.options.tlsServerName = serverName
            return configuration
        case .socket(let path):
            return PostgresConnection.Configuration(
                unixSocketPath: path, username: login.username, password: login.password, database: database)
        }
    }
}

/// How connections are secured: what libpq negotiated with the primary, verified as its
/// `sslmode` asks (`require` checks nothing unless a root certificate is given, `verify-ca` the
/// chain, `verify-full` the chain and the name).
public enum TLSPolicy: Sendable, Equatable {
    /// How much of the server's certificate is checked.
    public enum Verification: Sendable, Equatable {
        case none
        case certificateAuthority
        case full
    }

    case disable
    case require(verification: Verification, rootCertificate: String?, client: ClientCertificate?)

    /// A client certificate (libpq's `sslcert` and `sslkey`), read once when the settings are resolved.
    public struct ClientCertificate: Sendable, Equatable {
        /// The certificate and its chain.
        let chain: [NIOSSLCertificate]
        /// Its private key.
        let key: NIOSSLPrivateKey
    }

    /// The policy for a connection libpq made with `settings` (its `PQconninfo`).
    init(inUse: Bool, settings: [String: String]) throws(DatabaseSettingsError) {
        guard inUse else {
            self = .disable
            return
        }
        func given(_ keyword: String) -> String? { settings[keyword].flatMap { $0.isEmpty ? nil : $0 } }
        let mode = given("sslmode") ?? "prefer"
        var root = given("sslrootcert")
        let verification: Verification
        switch mode {
        case "verify-full": verification = .full
        case "verify-ca": verification = .certificateAuthority
        default: verification = root == nil ? .none : .certificateAuthority
        }
        if verification != .none && root == nil {
            // libpq's default, which it has just used successfully.
            root = Self.homeDirectory.map { $0 + "/.postgresql/root.crt" }
        }
        var client: ClientCertificate?
        if let certificate = given("sslcert"), let key = given("sslkey") {
            do {
                client = ClientCertificate(
                    chain: try NIOSSLCertificate.fromPEMFile(certificate), key: try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw .invalid("cannot read the client certificate (sslcert, sslkey): \(error)")
            }
        }
        self = .require(verification: verification, rootCertificate: root, client: client)
    }

    /// The user's home as libpq finds it (the password database, not `HOME`).
    static var homeDirectory: String? {
        guard let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir else { return nil }
        return String(cString: directory)
    }

    /// The NIO configuration, or `nil` for no TLS.
    func configuration() -> TLSConfiguration? {
        guard case .require(let verification, let root, let client) = self else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch verification {
        case .none: configuration.certificateVerification = .none
        case .certificateAuthority: configuration.certificateVerification = .noHostnameVerification
        case .full: configuration.certificateVerification = .fullVerification
        }
        if let root, root != "system" { configuration.trustRoots = .file(root) }
        if let client {
            configuration.certificateChain = client.chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(client.key)
        }
        return configuration
    }

    /// For a pool.
    func clientTLS() -> PostgresClient.Configuration.TLS {
        guard let configuration = configuration() else { return .disable }
        return .require(configuration)
    }

    /// For a single connection.
    func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        guard let configuration = configuration() else { return .disable }
        return .require(try NIOSSLContext(configuration: configuration))
    }
}

/// Connection settings that cannot be used; the message names what is wrong and never a password.
public enum DatabaseSettingsError: Error, CustomStringConvertible {
    /// The connection string itself is wrong.
    case invalid(String)
    /// No host accepted the login with writes (each host's reason, one line).
    case unreachable(String)
    /// The owner could log in, but the service role could not.
    case serviceLogin(username: String, reason: String)

    /// What is wrong, without the prefix.
    public var reason: String {
        switch self {
        case .invalid(let reason), .unreachable(let reason), .serviceLogin(_, let reason): reason
        }
    }

    /// What is wrong.
    public var description: String {
        switch self {
        case .invalid(let reason): "invalid database connection settings: \(reason)"
        case .unreachable(let reason): "cannot connect to a PostgreSQL server that accepts writes: \(reason)"
        case .serviceLogin(let username, let reason):
            "the service cannot log in as \(username) (set DATABASE_SERVICE_PASSWORD, or give \(username) a .pgpass line): \(reason)"
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

/// Runs `body` while `pool` runs, and stops it afterwards.
@discardableResult
public func withPostgresClientRunning<T: Sendable>(_ pool: PrimaryPool, _ body: @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await pool.run()
            return nil
        }
        defer { group.cancelAll() }
        try await Task.sleep(for: .milliseconds(2))
        return try await body()
    }
}
