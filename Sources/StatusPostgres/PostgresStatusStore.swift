import Crypto
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
        let result = try await withTenantConnection(tenant) { connection in
            try await body(PostgresTenantTransaction(connection: connection, tenant: tenant, logger: logger, effects: effects))
        }
        // Committed: cached records of this tenant may be old now, here and in other processes.
        if effects.casesChanged.load(ordering: .relaxed) {
            cache?.invalidate(tenant)
            announcer?.announce(tenant)
        }
        return result
    }

    /// Runs `body` on a connection inside a transaction bound to `tenant`.
    func withTenantConnection<T: Sendable>(_ tenant: TenantID, _ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try gate.enter()
        defer { gate.leave() }
        do {
            return try await client.withConnection { connection in
                try await connection.perform("BEGIN", tenant: tenant, logger: logger)
                do {
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

    public func record(_ writes: [LedgerWrite], tenant: TenantID) async throws -> LedgerWriteReport {
        try gate.enter()
        defer { gate.leave() }
        let report: LedgerWriteReport
        do {
            let rows = try await client.rows(
                RecordChangesStatement(tenant: tenant.rawValue, changes: LedgerWrites.json(writes)), tenant: tenant, logger: logger)
            report = try LedgerWrites.report(rows)
        } catch {
            throw Self.translate(error)
        }
        // Committed: cached records of this tenant may be old now, here and in other processes.
        if report.written {
            LedgerWrites.countFeedEntries(writes)
            if LedgerWrites.changesCases(writes) {
                cache?.invalidate(tenant)
                announcer?.announce(tenant)
            }
        }
        return report
    }

    public func caseRecord(tenant: TenantID, externalCaseId: String) async throws -> CaseRecord? {
        try await cachedCase(tenant, externalCaseId, .externalId) {
            "SELECT \(unescaped: CaseColumns.list) FROM statusbro_case(\(tenant.rawValue), \(externalCaseId))"
        }
    }

    public func caseRecord(tenant: TenantID, flowInstanceOrExternalId id: String) async throws -> CaseRecord? {
        try await cachedCase(tenant, id, .flowOrExternalId) {
            "SELECT \(unescaped: CaseColumns.list) FROM statusbro_case_by_flow_or_external(\(tenant.rawValue), \(id))"
        }
    }

    private func cachedCase(_ tenant: TenantID, _ id: String, _ lookup: CaseCache.Lookup, _ query: () -> PostgresQuery) async throws
        -> CaseRecord?
    {
        guard let cache else { return try await firstCase(query(), tenant: tenant) }
        if let record = cache.record(tenant, id, lookup) { return record }
        let generation = cache.generation(tenant)
        let record = try await firstCase(query(), tenant: tenant)
        if let record { cache.store(record, tenant, id, lookup, generation: generation) }
        return record
    }

    private func firstCase(_ query: PostgresQuery, tenant: TenantID) async throws -> CaseRecord? {
        try gate.enter()
        defer { gate.leave() }
        do {
            return try await client.rows(query, tenant: tenant, logger: logger).first.map {
                CaseColumns.record(try $0.decode(CaseColumns.Row.self))
            }
        } catch {
            throw Self.translate(error)
        }
    }

    public func tenantVersions() async throws -> [TenantID: Int] {
        do {
            var versions: [TenantID: Int] = [:]
            for row in try await client.rows("SELECT tenant_id, rules_version FROM tenants", logger: logger) {
                let (id, version) = try row.decode((String, Int).self)
                if let tenant = TenantID(id) { versions[tenant] = version }
            }
            return versions
        } catch {
            throw Self.translate(error)
        }
    }

    public func activeRelease(tenant: TenantID) async throws -> RuleRelease? {
        try await withTransaction(tenant: tenant) { tx in
            let version = try await tx.activeVersion()
            return version == 0 ? nil : try await tx.release(version: version)
        }
    }

    public func activeReleases() async throws -> [RuleRelease] {
        do {
            var releases: [RuleRelease] = []
            let rows = try await client.rows(
                "SELECT o_tenant_id, o_version, o_document, o_sha256, o_published_by, o_published_at, o_comment, o_rolled_back_from FROM statusbro_active_releases()",
                logger: logger)
            for row in rows {
                let (tenant, version, document, sha, by, at, comment, from) = try row.decode(
                    (String, Int, RulesDocument, String, String, Date, String, Int?).self)
                guard let tenant = TenantID(tenant) else { continue }
                releases.append(
                    RuleRelease(
                        tenant: tenant, version: version, document: document, sha256: sha, publishedBy: by, publishedAt: at,
                        comment: comment, rolledBackFrom: from))
            }
            return releases
        } catch {
            throw Self.translate(error)
        }
    }

    /// Whether the database answers.
    public func ping() async -> Bool {
        do {
            _ = try await client.rows("SELECT 1", logger: logger)
            return true
        } catch {
            return false
        }
    }

    // MARK: API keys

    public func createKey(tenant: TenantID, keyId: String, key: String, name: String, roles: [String]) async throws {
        let hash = Self.keyHash(key)
        _ = try await withTenantConnection(tenant) { connection in
            try await connection.perform(
                "INSERT INTO api_keys (tenant_id, key_id, key_hash, name, roles) VALUES (\(tenant.rawValue), \(keyId), \(hash), \(name), \(roles))",
                tenant: tenant, logger: logger)
        }
    }

    public func lookupKey(tenant: TenantID, key: String) async throws -> StoredAPIKey? {
        let hash = Self.keyHash(key)
        return try await withTenantConnection(tenant) { connection in
            let rows = try await connection.perform(
                """
                SELECT key_id, name, roles, created_at, revoked_at FROM api_keys
                 WHERE tenant_id = \(tenant.rawValue) AND key_hash = \(hash)
                """, tenant: tenant, logger: logger)
            for try await (keyId, name, roles, createdAt, revokedAt) in rows.decode((String, String, [String], Date, Date?).self) {
                return StoredAPIKey(tenant: tenant, keyId: keyId, name: name, roles: roles, createdAt: createdAt, revokedAt: revokedAt)
            }
            return nil
        }
    }

    public func listKeys(tenant: TenantID) async throws -> [StoredAPIKey] {
        try await withTenantConnection(tenant) { connection in
            let rows = try await connection.perform(
                "SELECT key_id, name, roles, created_at, revoked_at FROM api_keys WHERE tenant_id = \(tenant.rawValue) ORDER BY created_at, key_id",
                tenant: tenant, logger: logger)
            var keys: [StoredAPIKey] = []
            for try await (keyId, name, roles, createdAt, revokedAt) in rows.decode((String, String, [String], Date, Date?).self) {
                keys.append(
                    StoredAPIKey(tenant: tenant, keyId: keyId, name: name, roles: roles, createdAt: createdAt, revokedAt: revokedAt))
            }
            return keys
        }
    }

    public func revokeKey(tenant: TenantID, keyId: String) async throws -> Bool {
        try await withTenantConnection(tenant) { connection in
            let rows = try await connection.perform(
                """
                UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())
                 WHERE tenant_id = \(tenant.rawValue) AND key_id = \(keyId) RETURNING key_id
                """, tenant: tenant, logger: logger)
            for try await _ in rows { return true }
            return false
        }
    }

    /// SHA-256 of the whole key. Keys are 256-bit random secrets, so a fast unsalted hash is the
    /// standard choice: nothing to brute-force, and the lookup stays an index probe.
    static func keyHash(_ key: String) -> Data {
        Data(SHA256.hash(data: Data(key.utf8)))
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

/// What a transaction did that others must hear of once it commits.
final class TransactionEffects: Sendable {
    let casesChanged = Atomic<Bool>(false)
    /// Whether the transaction created its staging table for COPY.
    let staged = Atomic<Bool>(false)
}

/// Counts database operations in flight and refuses new ones beyond a limit, so a slow or
/// exhausted pool answers 503 at once instead of queueing requests without bound.
final class AdmissionGate: Sendable {
    let limit: Int
    private let inFlight = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    func enter() throws {
        let now = inFlight.add(1, ordering: .relaxed).newValue
        if now > limit {
            inFlight.subtract(1, ordering: .relaxed)
            throw StoreError.unavailable("the service is at capacity; retry shortly")
        }
    }

    func leave() {
        inFlight.subtract(1, ordering: .relaxed)
    }

    /// Operations in flight now.
    var current: Int { inFlight.load(ordering: .relaxed) }
}

/// The columns of `cases`, in the order every case query selects them.
enum CaseColumns {
    static let list =
        "case_id, external_case_id, flow_instance_id, case_type, organisation_number, source_system, raw_status, status, category, rule_version, last_status_change, created_at, withdrawn_at, revision, party"

    typealias Row = (UUID, String, String?, String, String?, String, String, String, String, Int, Date, Date, Date?, Int64, String?)

    static func record(_ r: Row) -> CaseRecord {
        CaseRecord(
            caseId: r.0, externalCaseId: r.1, flowInstanceId: r.2, caseType: r.3, organisationNumber: r.4, sourceSystem: r.5,
            rawStatus: r.6, status: r.7, category: r.8, ruleVersion: r.9, lastStatusChange: r.10, createdAt: r.11, withdrawnAt: r.12,
            party: r.14, revision: r.13)
    }
}
