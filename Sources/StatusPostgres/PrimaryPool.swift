import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import StatusCore
import Synchronization

/// The service role's connection pool, on whichever server accepts writes now.
///
/// PostgresNIO's pool connects to one host. This keeps one pool for the current primary and,
/// when something says the primary is gone (a connection lost or refused, a server shutting down,
/// a write refused as read-only, the rules listener's connection dropping), asks the locator where
/// the primary is now; when that is another place, it starts a pool there, sends new work to it
/// and retires the old one. Work that was still waiting for a connection of the retired pool had
/// not started, so it moves to the new pool instead of failing. Without a locator (one fixed
/// server, as the embedded cluster is), it is a plain pool.
public final class PrimaryPool: Service, Sendable {
    private struct Current {
        var client: PostgresClient
        var endpoint: DatabaseSettings.Endpoint
        var generation: Int
        var retire: AsyncStream<Void>.Continuation
    }

    /// A pool to run, and the signal that retires it.
    private struct Launch: Sendable {
        let client: PostgresClient
        let retired: AsyncStream<Void>
    }

    private let current: Mutex<Current>
    /// `nil` for a pool over a client that someone else runs.
    private let settings: DatabaseSettings?
    private let logger: Logger
    private let suspicions: AsyncStream<Void>
    private let suspect: AsyncStream<Void>.Continuation
    private let launches: AsyncStream<Launch>
    private let launch: AsyncStream<Launch>.Continuation
    private let firstLaunch: Launch?
    /// The longest pause between two attempts to find the primary.
    let longestPause: Duration

    /// A pool for the service login of `settings`, at its endpoint.
    public init(settings: DatabaseSettings, logger: Logger, longestPause: Duration = .milliseconds(250)) {
        self.settings = settings
        self.logger = logger
        self.longestPause = longestPause
        let client = PostgresClient(configuration: settings.clientConfiguration(settings.service), backgroundLogger: logger)
        let (retired, retire) = AsyncStream.makeStream(of: Void.self)
        current = Mutex(Current(client: client, endpoint: settings.endpoint, generation: 0, retire: retire))
        firstLaunch = Launch(client: client, retired: retired)
        (suspicions, suspect) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (launches, launch) = AsyncStream.makeStream(of: Launch.self)
    }

    /// A pool over `client`, which the caller runs; it never moves.
    public init(running client: PostgresClient, logger: Logger) {
        self.settings = nil
        self.logger = logger
        self.longestPause = .milliseconds(250)
        let (_, retire) = AsyncStream.makeStream(of: Void.self)
        current = Mutex(Current(client: client, endpoint: .socket(path: ""), generation: 0, retire: retire))
        firstLaunch = nil
        (suspicions, suspect) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (launches, launch) = AsyncStream.makeStream(of: Launch.self)
    }

    /// The pool work goes to now.
    public var client: PostgresClient { current.withLock { $0.client } }

    /// Where the primary is, as far as this pool knows.
    public var endpoint: DatabaseSettings.Endpoint { current.withLock { $0.endpoint } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                if let first = self.firstLaunch { group.addTask { await Self.run(first) } }
                group.addTask { await self.watch() }
                for await launch in self.launches {
                    group.addTask { await Self.run(launch) }
                }
                group.cancelAll()
            }
        }
    }

    /// Runs a pool until it is retired (or everything stops).
    private static func run(_ launch: Launch) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await launch.client.run() }
            group.addTask { for await _ in launch.retired {} }
            await group.next()
            group.cancelAll()
        }
    }

    /// Says that the primary may be gone; the pool checks where it is.
    public func suspectPrimaryLost() {
        guard settings?.locator != nil else { return }
        suspect.yield()
    }

    /// Looks for the primary whenever it may have moved, and moves the pool after it.
    private func watch() async {
        guard let settings, let locator = settings.locator else { return }
        for await _ in suspicions {
            var pause: Duration = .milliseconds(25)
            var attempts = 0
            while !Task.isCancelled {
                attempts += 1
                do {
                    let location = try await locator.locate(username: settings.service.username, password: settings.service.password)
                    if location.endpoint != endpoint { move(to: location, settings: settings) }
                    break
                } catch {
                    // No server accepts writes yet (a standby is being promoted): keep asking, briefly.
                    if attempts == 1 {
                        logger.warning(
                            "the database primary cannot be reached; looking for the one that accepts writes",
                            metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: pause)
                    pause = min(pause * 2, longestPause)
                }
            }
        }
    }

    private func move(to location: PrimaryLocation, settings: DatabaseSettings) {
        let client = PostgresClient(
            configuration: settings.moved(to: location).clientConfiguration(settings.service), backgroundLogger: logger)
        let (retired, retire) = AsyncStream.makeStream(of: Void.self)
        launch.yield(Launch(client: client, retired: retired))
        let previous = current.withLock { current in
            defer { current = Current(client: client, endpoint: location.endpoint, generation: current.generation + 1, retire: retire) }
            return current
        }
        previous.retire.finish()
        Counter(label: "statusbro_database_failovers_total").increment()
        logger.warning(
            "the database primary moved; new work goes there", metadata: ["from": "\(previous.endpoint)", "to": "\(location.endpoint)"])
    }

    /// Runs `operation` on the current pool. When that pool was retired before the operation got a
    /// connection, nothing was sent: it runs once more on the pool that replaced it.
    private func attempt<Result>(_ operation: (PostgresClient) async throws -> Result) async throws -> Result {
        let (client, generation) = current.withLock { ($0.client, $0.generation) }
        do {
            return try await operation(client)
        } catch  where Self.isPoolClosed(error) {
            let (next, nextGeneration) = current.withLock { ($0.client, $0.generation) }
            guard nextGeneration != generation else { throw error }
            return try await operation(next)
        } catch {
            if Self.suggestsLostPrimary(error) { suspectPrimaryLost() }
            throw error
        }
    }

    /// Leases a connection for `body`. Each statement on it is given up (and the connection closed) when the server has not answered
    /// within `DatabaseSettings.unansweredStatementLimit`.
    public func withConnection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await StatementDeadline.$current.withValue(settings?.unansweredStatementLimit) {
            try await attempt { client in try await client.withConnection { connection in try await body(connection) } }
        }
    }

    /// The rows of `query` (for `tenant`, when it is tenant-scoped), read on a leased connection.
    public func rows(_ query: PostgresQuery, tenant: TenantID? = nil, logger: Logger) async throws -> [PostgresRow] {
        try await withConnection { connection in
            var rows: [PostgresRow] = []
            for try await row in try await connection.perform(query, tenant: tenant, logger: logger) { rows.append(row) }
            return rows
        }
    }

    /// The rows of a prepared statement (for `tenant`, when it is tenant-scoped), read on a leased connection.
    public func rows<Statement: PostgresPreparedStatement>(
        _ statement: Statement, tenant: TenantID? = nil, logger: Logger
    ) async throws -> [Statement.Row] where Statement.Row: Sendable {
        try await withConnection { connection in
            try await StatementSpan.run(Statement.sql, tenant: tenant) {
                try await connection.untilClosed {
                    var rows: [Statement.Row] = []
                    for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
                    return rows
                }
            }
        }
    }

    /// Tells whether a failure means the primary may have gone (or stopped accepting writes),
    /// rather than a problem with one statement.
    public static func suggestsLostPrimary(_ error: any Error) -> Bool {
        if let error = error as? PSQLError {
            switch error.code {
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                // read_only_sql_transaction, admin/crash shutdown, cannot connect now, connection exceptions.
                return ["25006", "57P01", "57P02", "57P03"].contains(state) || state.hasPrefix("08")
            case .connectionError, .serverClosedConnection, .uncleanShutdown: return true
            default: return false
            }
        }
        // A statement given up because its connection closed (see `untilClosed`).
        if let error = error as? StoreError, error == .unavailable("the database cannot be reached") { return true }
        // The pool's circuit breaker (no connection could be made for a while); its type is not public.
        return String(describing: type(of: error)) == "ConnectionPoolError" && "\(error)".contains("CircuitBreaker")
    }

    /// Whether a lease was refused because the pool had been shut down (PostgresNIO reports it
    /// either way, depending on where the request was waiting).
    static func isPoolClosed(_ error: any Error) -> Bool {
        if let error = error as? PSQLError { return error.code == .poolClosed }
        return String(describing: type(of: error)) == "ConnectionPoolError" && "\(error)".contains("poolShutdown")
    }
}
