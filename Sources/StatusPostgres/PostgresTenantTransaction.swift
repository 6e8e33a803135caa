import Logging
import PostgresNIO
import StatusCore
import Synchronization

/// A transaction bound to one tenant (`statusbro.tenant` is set for its duration), opened by
/// `PostgresStatusStore.withTenantConnection`.
struct PostgresTenantTransaction: TenantTransaction {
    let connection: PostgresConnection
    let tenant: TenantID
    let logger: Logger
    let effects: TransactionEffects

    /// The tenant as the SQL binds it.
    var t: String { tenant.rawValue }

    /// Marks cases of the tenant changed, so the caches forget them once the transaction commits.
    func casesChange(_ change: CaseInvalidation) {
        effects.casesChanged.withLock { $0 = $0?.merged(with: change) ?? change }
    }

    @discardableResult
    func run(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await connection.perform(query, tenant: tenant, logger: logger)
    }

    /// The single column of every row `query` answers.
    func values<Value: PostgresDecodable>(_ query: PostgresQuery, as type: Value.Type) async throws -> [Value] {
        var values: [Value] = []
        for try await value in try await run(query).decode(Value.self) { values.append(value) }
        return values
    }
}

/// What a transaction did that others must hear of once it commits.
final class TransactionEffects: Sendable {
    /// What the caches must forget once it commits (`nil`: nothing).
    let casesChanged = Mutex<CaseInvalidation?>(nil)
    /// Whether the transaction created its staging table for COPY.
    let staged = Atomic<Bool>(false)
}
