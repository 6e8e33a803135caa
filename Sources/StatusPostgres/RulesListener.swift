import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import StatusCore
import Synchronization

/// Keeps this process's rule snapshots current. Holds one dedicated connection listening on
/// `statusbro_rules` (a publish notifies in its own transaction), `statusbro_keys` (a key was
/// created or revoked) and `statusbro_cases` (another process changed a tenant's cases). Notifications can be lost — a reconnect, a process that started late — so
/// it also compares versions with the database after every (re)connect and every few seconds.
public struct RulesListener: Service {
    /// Whether the listening connection is up, for `/health`.
    public final class State: Sendable {
        let connected = Mutex(false)
        let lastResync = Mutex<Date?>(nil)

        /// A state, initially disconnected.
        public init() {}

        /// Whether notifications are being received.
        public var isConnected: Bool { connected.withLock { $0 } }
        /// When versions were last compared with the database.
        public var lastResyncAt: Date? { lastResync.withLock { $0 } }
    }

    /// Where to connect now; asked before every (re)connection, so the listener follows a failover.
    let connect: @Sendable () async throws -> PostgresConnection.Configuration
    /// Told when the connection is lost: the server may have gone.
    let lost: @Sendable () -> Void
    let loader: RulesLoader
    let keys: APIKeyAuthenticator?
    let cases: CaseCache?
    public let state: State
    let resyncInterval: Duration
    let logger: Logger

    /// A listener reloading through `loader` and clearing `keys`' cache on key changes.
    public init(
        connect: @escaping @Sendable () async throws -> PostgresConnection.Configuration, lost: @escaping @Sendable () -> Void = {},
        loader: RulesLoader, keys: APIKeyAuthenticator?, cases: CaseCache? = nil, state: State, resyncInterval: Duration = .seconds(3),
        logger: Logger
    ) {
        self.connect = connect
        self.lost = lost
        self.loader = loader
        self.keys = keys
        self.cases = cases
        self.state = state
        self.resyncInterval = resyncInterval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await listenLoop() }
                group.addTask { await resyncLoop() }
                await group.waitForAll()
            }
        }
    }

    /// Listens, reconnecting with backoff whenever the connection is lost.
    private func listenLoop() async {
        var backoff: Duration = .milliseconds(100)
        var connectionID = 0
        while !Task.isCancelled {
            connectionID += 1
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: try await connect(), id: connectionID, logger: logger)
                backoff = .milliseconds(100)
                do {
                    try await listen(on: connection)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { break }
                state.connected.withLock { $0 = false }
                // The listening connection doubles as a sentinel: it drops at once when the server goes.
                lost()
                logger.warning("rules listener disconnected; reconnecting", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(2))
        }
        state.connected.withLock { $0 = false }
    }

    private func listen(on connection: PostgresConnection) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await connection.listen(on: "statusbro_keys") { notifications in
                    // Listening again: a revocation may have been missed while disconnected.
                    keys?.forgetAll()
                    for try await notification in notifications {
                        if let tenant = TenantID(notification.payload) { keys?.forget(tenant: tenant) }
                    }
                }
            }
            group.addTask {
                try await connection.listen(on: "statusbro_cases") { notifications in
                    // Listening again: changes announced meanwhile may have been missed.
                    cases?.invalidateAll()
                    for try await notification in notifications {
                        switch CaseInvalidation.parse(notification.payload) {
                        case (_, .cases, let origin)? where origin == cases?.origin:
                            break  // this process's own, forgotten at its commit
                        case (let tenant, .cases(let changes), _)?: cases?.invalidate(tenant, changes)
                        case (let tenant, .tenant, _)?: cases?.invalidate(tenant)
                        case nil:
                            // From a newer version, perhaps: forgetting everything is always safe.
                            logger.warning("not understood: an announcement of changed cases")
                            cases?.invalidateAll()
                        }
                    }
                }
            }
            group.addTask {
                try await connection.listen(on: "statusbro_rules") { notifications in
                    state.connected.withLock { $0 = true }
                    logger.info("rules listener connected")
                    // Anything published while we were not listening is picked up now.
                    await resync()
                    for try await notification in notifications {
                        await reload(payload: notification.payload)
                    }
                }
            }
            // Either listener ending means the connection is gone: reconnect both.
            try await group.next()
            group.cancelAll()
        }
    }

    private func reload(payload: String) async {
        guard let colon = payload.lastIndex(of: ":"), let tenant = TenantID(String(payload[..<colon])) else { return }
        let start = ContinuousClock.now
        do {
            let outcome = try await loader.reload(tenant)
            Self.record(outcome, since: start, trigger: "notify")
        } catch {
            logger.warning("rules reload failed; the periodic resync will retry", metadata: ["tenant": "\(tenant)", "error": "\(error)"])
        }
    }

    private func resyncLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: resyncInterval)
            if Task.isCancelled { break }
            await resync()
        }
    }

    private func resync() async {
        let start = ContinuousClock.now
        do {
            let outcomes = try await loader.resync()
            state.lastResync.withLock { $0 = Date() }
            for outcome in outcomes.values { Self.record(outcome, since: start, trigger: "resync") }
        } catch {
            logger.warning("rules resync failed", metadata: ["error": "\(error)"])
        }
    }

    private static func record(_ outcome: RulesLoader.Outcome, since start: ContinuousClock.Instant, trigger: String) {
        let label: String
        switch outcome {
        case .installed: label = "installed"
        case .unchanged: return
        case .failed: label = "failed"
        }
        Counter(label: "statusbro_rules_reloads_total", dimensions: [("outcome", label), ("trigger", trigger)]).increment()
        Timer(label: "statusbro_rules_reload_seconds", dimensions: [("trigger", trigger)]).recordInterval(since: start)
    }
}

extension Timer {
    /// Records the time elapsed since `start`.
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
