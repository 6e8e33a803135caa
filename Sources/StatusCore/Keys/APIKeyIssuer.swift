import Foundation
import StatusRules

/// Issues, lists and revokes API keys: the operations behind `statusbro keys` and tenant setup.
public struct APIKeyIssuer: Sendable {
    let store: any StatusStore
    let keys: any APIKeyStore
    /// This process's authenticator, told at once of a revocation (other processes hear of it
    /// through the database's notification).
    let authenticator: APIKeyAuthenticator?

    /// An issuer checking roles against `store`'s active rules and keeping keys in `keys`.
    public init(store: any StatusStore, keys: any APIKeyStore, authenticator: APIKeyAuthenticator? = nil) {
        self.store = store
        self.keys = keys
        self.authenticator = authenticator
    }

    /// A key just issued: shown once, only its hash is kept.
    public struct IssuedKey: Sendable {
        public var keyId: String
        public var key: String
    }

    /// Issues a key for `role` of `tenant`'s active rules.
    public func issue(tenant: TenantID, role: String, name: String) async throws -> IssuedKey {
        guard let release = try await store.activeRelease(tenant: tenant) else {
            throw StatusError.notFound("tenant '\(tenant)' has no published rules; run 'statusbro tenants import' first")
        }
        guard release.document.roles[role] != nil else {
            let roles = release.document.roles.keys.sorted().joined(separator: ", ")
            throw StatusError.invalid("/role", "tenant '\(tenant)' has no role '\(role)'; its roles are: \(roles)")
        }
        let (keyId, key) = APIKeyFormat.generate(for: tenant)
        try await keys.createKey(tenant: tenant, keyId: keyId, key: key, name: name, roles: [role])
        return IssuedKey(keyId: keyId, key: key)
    }

    /// Every key of `tenant`, without their secrets.
    public func list(tenant: TenantID) async throws -> [StoredAPIKey] {
        try await keys.listKeys(tenant: tenant)
    }

    /// Revokes a key by its id; every process stops accepting it at once.
    public func revoke(keyId: String) async throws {
        guard let tenant = APIKeyFormat.tenant(ofKeyId: keyId) else { throw StatusError.invalid("/keyId", "'\(keyId)' is not a key id") }
        guard try await keys.revokeKey(tenant: tenant, keyId: keyId) else { throw StatusError.notFound("no key '\(keyId)'") }
        authenticator?.forget(tenant: tenant)
    }
}
