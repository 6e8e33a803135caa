import Crypto
import Foundation
import PostgresNIO
import StatusCore

extension PostgresStatusStore {
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
        return try await keys(
            tenant,
            """
            SELECT key_id, name, roles, created_at, revoked_at FROM api_keys
             WHERE tenant_id = \(tenant.rawValue) AND key_hash = \(hash)
            """
        ).first
    }

    public func listKeys(tenant: TenantID) async throws -> [StoredAPIKey] {
        try await keys(
            tenant,
            "SELECT key_id, name, roles, created_at, revoked_at FROM api_keys WHERE tenant_id = \(tenant.rawValue) ORDER BY created_at, key_id"
        )
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

    private func keys(_ tenant: TenantID, _ query: PostgresQuery) async throws -> [StoredAPIKey] {
        try await withTenantConnection(tenant) { connection in
            let rows = try await connection.perform(query, tenant: tenant, logger: logger)
            var keys: [StoredAPIKey] = []
            for try await (keyId, name, roles, createdAt, revokedAt) in rows.decode((String, String, [String], Date, Date?).self) {
                keys.append(
                    StoredAPIKey(tenant: tenant, keyId: keyId, name: name, roles: roles, createdAt: createdAt, revokedAt: revokedAt))
            }
            return keys
        }
    }

    /// SHA-256 of the whole key. Keys are 256-bit random secrets, so a fast unsalted hash is the
    /// standard choice: nothing to brute-force, and the lookup stays an index probe.
    static func keyHash(_ key: String) -> Data {
        Data(SHA256.hash(data: Data(key.utf8)))
    }
}
