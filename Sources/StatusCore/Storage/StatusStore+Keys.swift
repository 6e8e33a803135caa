import Foundation

/// Storage of API keys; implementations store only a hash of the key.
public protocol APIKeyStore: Sendable {
    /// Stores a hash of `key` under `keyId`; `StoreError.conflict` when the id or the key exists.
    func createKey(tenant: TenantID, keyId: String, key: String, name: String, roles: [String]) async throws
    /// The key matching `key` under `tenant`, revoked or not.
    func lookupKey(tenant: TenantID, key: String) async throws -> StoredAPIKey?
    /// A tenant's keys, revoked ones too, oldest first.
    func listKeys(tenant: TenantID) async throws -> [StoredAPIKey]
    /// Revokes a key; false when there is no such key.
    func revokeKey(tenant: TenantID, keyId: String) async throws -> Bool
}
