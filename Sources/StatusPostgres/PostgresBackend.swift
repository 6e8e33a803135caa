import Logging
import PostgresNIO
import ServiceLifecycle
import StatusCore

/// The core's services on PostgreSQL: the service-role pool, the store, and the rules listener.
/// The executable and the tests compose the server from this the same way.
public struct PostgresBackend: Sendable {
    /// The service-role connection pool, following the primary.
    public let client: PrimaryPool
    /// The store over it.
    public let store: PostgresStatusStore
    /// The core operations.
    public let services: StatusServices
    /// The rules listener (LISTEN/NOTIFY and periodic resync).
    public let listener: RulesListener

    /// Connects to `settings` as the service role.
    public init(
        settings: DatabaseSettings, deadLetterDecoders: [any DeadLetterDecoder] = [], resyncInterval: Duration = .seconds(3),
        logger: Logger
    ) throws {
        let client = PrimaryPool(settings: settings, logger: logger)
        let cache = CaseCache()
        let announcer = CaseChangeAnnouncer(client: client, origin: cache.origin, logger: logger)
        let store = PostgresStatusStore(
            pool: client, maximumPendingOperations: settings.maximumPendingOperations, cache: cache, announcer: announcer, logger: logger)
        let listenerState = RulesListener.State()
        let services = StatusServices(
            store: store, keyStore: store, health: PostgresHealth(store: store, listener: listenerState),
            deadLetterDecoders: deadLetterDecoders, logger: logger)
        self.client = client
        self.store = store
        self.services = services
        self.announcer = announcer
        self.listener = RulesListener(
            connect: { try await Self.listeningConfiguration(settings, pool: client) }, lost: { client.suspectPrimaryLost() },
            loader: services.loader, keys: services.keys, cases: cache, state: listenerState, resyncInterval: resyncInterval, logger: logger
        )
    }

    /// Where the listener connects: the primary as the locator finds it now (so a listener that
    /// lost its connection in a failover follows the primary by itself), else the fixed server.
    static func listeningConfiguration(_ settings: DatabaseSettings, pool: PrimaryPool) async throws -> PostgresConnection.Configuration {
        guard let locator = settings.locator else { return try settings.connectionConfiguration(settings.service) }
        let location = try await locator.locate(username: settings.service.username, password: settings.service.password)
        if location.endpoint != pool.endpoint { pool.suspectPrimaryLost() }
        return try settings.moved(to: location).connectionConfiguration(settings.service)
    }

    /// Announces this process's case changes to the others.
    public let announcer: CaseChangeAnnouncer

    /// Runs `body` while the pool runs, for a command that writes and then ends: what it changed is
    /// announced to the running servers before this returns, whether or not `body` succeeded.
    public func withClientRunning<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await withPostgresClientRunning(client) {
            do {
                let result = try await body()
                await announcer.flush()
                return result
            } catch {
                await announcer.flush()
                throw error
            }
        }
    }

    /// The long-lived services to run, in dependency order: the pool, then the announcer and the listener.
    public var backgroundServices: [any Service] { [client, announcer, listener] }
}

/// `/health`'s view of PostgreSQL.
struct PostgresHealth: HealthProbe {
    let store: PostgresStatusStore
    let listener: RulesListener.State

    func databaseIsReachable() async -> Bool {
        // A database that does not answer within a second counts as unreachable.
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await store.ping() }
            group.addTask {
                try? await Task.sleep(for: .seconds(1))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    var notificationsConnected: Bool? { listener.isConnected }

    func pendingDeadLetters(_ tenants: [TenantID]) async -> [TenantID: Int] {
        var counts: [TenantID: Int] = [:]
        for tenant in tenants {
            if let count = try? await store.withTransaction(tenant: tenant, { tx in try await tx.pendingDeadLetterCount() }) {
                counts[tenant] = count
            }
        }
        return counts
    }

    var databaseOperationsInFlight: Int { store.gate.current }
}
