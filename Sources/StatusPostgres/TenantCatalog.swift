import Logging
import PostgresNIO
import StatusCore

/// The tenant directory, written as the owner: a tenant exists before its first release.
public struct TenantCatalog: Sendable {
    let owner: PostgresClient
    let logger: Logger

    /// A catalog written through the owner's connection.
    public init(owner: PostgresClient, logger: Logger) {
        self.owner = owner
        self.logger = logger
    }

    /// Registers `tenant` if it is new; returns whether it was.
    @discardableResult
    public func register(_ tenant: TenantID) async throws -> Bool {
        let rows = try await owner.query(
            "INSERT INTO tenants (tenant_id) VALUES (\(tenant.rawValue)) ON CONFLICT DO NOTHING RETURNING tenant_id", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Whether any tenant exists.
    public func isEmpty() async throws -> Bool {
        for try await _ in try await owner.query("SELECT 1 FROM tenants LIMIT 1", logger: logger) { return false }
        return true
    }
}
