import Foundation
import Logging
import PostgresNIO
import StatusCore
import StatusRules
import Synchronization

extension JSONValue: PostgresEncodable, PostgresDecodable {}
extension RulesDocument: PostgresEncodable, PostgresDecodable {}

/// The core's storage on PostgreSQL, connected as the service role. Every tenant-scoped
/// operation runs in a transaction that first sets `statusbro.tenant`, so row-level security
/// confines it to that tenant whatever its SQL says; the SQL filters by tenant too, for the indexes.
public struct PostgresStatusStore: StatusStore, APIKeyStore {
    /// The service role's connections, wherever the primary is.
    let client: PrimaryPool
    let logger: Logger
    let gate: AdmissionGate
    /// Case records for the hot read path; `nil`: every read goes to the database.
    let cache: CaseCache?
    /// Tells other processes which tenants' cases this one changed.
    let announcer: CaseChangeAnnouncer?

    /// A store on `pool`, which must log in as the service role, admitting at most
    /// `maximumPendingOperations` database operations at once.
    public init(
        pool: PrimaryPool, maximumPendingOperations: Int = 400, cache: CaseCache? = nil, announcer: CaseChangeAnnouncer? = nil,
        logger: Logger
    ) {
        self.client = pool
        self.logger = logger
        self.gate = AdmissionGate(limit: maximumPendingOperations)
        self.cache = cache
        self.announcer = announcer
    }

    /// A store on `client` (run by the caller), which must log in as the service role; for
    /// commands and tests that talk to one fixed server.
    public init(client: PostgresClient, logger: Logger) {
        self.init(pool: PrimaryPool(running: client, logger: logger), logger: logger)
    }

    public func withTransaction<T: Sendable>(
        tenant: TenantID, _ body: @Sendable (any TenantTransaction) async throws -> T
    ) async throws -> T {
        let effects = TransactionEffects()
        // Also when it failed: a COMMIT the server applied may still fail here (the connection lost
        // before its answer), and forgetting too much only costs database reads.
        defer { if let change = effects.casesChanged.withLock({ $0 }) { casesChanged(tenant, change) } }
        return try await withTenantConnection(tenant) { connection in
            try await body(PostgresTenantTransaction(connection: connection, tenant: tenant, logger: logger, effects: effects))
        }
    }

    /// Runs `body` on a pooled connection inside a transaction bound to `tenant`.
    ///
    /// Not PostgresNIO's `withTransaction`, for two reasons. Its `BEGIN`, `COMMIT` and `ROLLBACK`
    /// go out through plain `query`, which never returns on a connection the server has already
    /// closed (the `ROLLBACK` after an idle-transaction timeout hung CI; see `perform`); here every
    /// statement goes through `perform`, which refuses a closed connection, and gets its span. And it
    /// wraps each failure in a `PostgresTransactionError`, which `translate` does not unwrap: a unique
    /// violation would no longer become `StoreError.conflict`, nor a lost connection a 503.
    func withTenantConnection<T: Sendable>(_ tenant: TenantID, _ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try gate.enter()
        defer { gate.leave() }
        do {
            return try await client.withConnection { connection in
                try await connection.perform("BEGIN", tenant: tenant, logger: logger)
                do {
                    // Local to this transaction: the pooled connection carries no tenant into the next one.
                    try await connection.perform(
                        "SELECT set_config('statusbro.tenant', \(tenant.rawValue), true)", tenant: tenant, logger: logger)
                    let result = try await body(connection)
                    try await connection.perform("COMMIT", tenant: tenant, logger: logger)
                    return result
                } catch {
                    _ = try? await connection.perform("ROLLBACK", tenant: tenant, logger: logger)
                    throw error
                }
            }
        } catch {
            throw Self.translate(error)
        }
    }

    /// Called once a transaction that changed `tenant`'s cases has committed: what it changed may
    /// be cached, here and in other processes.
    func casesChanged(_ tenant: TenantID, _ change: CaseInvalidation) {
        switch change {
        case .cases(let changes): cache?.invalidate(tenant, changes)
        case .tenant: cache?.invalidate(tenant)
        }
        announcer?.announce(tenant, change)
    }

    /// Whether the database answers `SELECT 1` (`/health` bounds how long it waits).
    public func ping() async -> Bool {
        do {
            _ = try await client.rows("SELECT 1", logger: logger)
            return true
        } catch {
            return false
        }
    }

    /// Maps driver errors to what the core understands. Anything else becomes `failed` with a
    /// description that leaves out the statement and its values (they may hold personal data):
    /// logged, never shown to a client.
    static func translate(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else {
            return PrimaryPool.suggestsLostPrimary(error) ? StoreError.unavailable("the database cannot be reached") : error
        }
        switch error.code {
        case .server:
            switch error.serverInfo?[.sqlState] {
            case "23505": return StoreError.conflict(error.serverInfo?[.constraintName] ?? "unique")
            case "40001", "40P01": return StoreError.conflict("serialization")
            case "57P01", "57P02", "57P03", "53300": return StoreError.unavailable("the database is shutting down or full")
            case "57014", "55P03": return StoreError.unavailable("the database took too long; try again")
            // The connection ended by idle_in_transaction_session_timeout: a slow moment, not a fault.
            case "25P03": return StoreError.unavailable("the database ended a transaction that waited too long; try again")
            default:
                let info = error.serverInfo
                return StoreError.failed(
                    "SQLSTATE \(info?[.sqlState] ?? "?"): \(info?[.message] ?? "?") at \(error.file ?? "?"):\(error.line ?? 0)")
            }
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown:
            return StoreError.unavailable("the database cannot be reached")
        default:
            return StoreError.failed("database client error \(error.code) at \(error.file ?? "?"):\(error.line ?? 0)")
        }
    }
}
