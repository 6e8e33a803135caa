import Foundation
import Synchronization

/// API keys as issued: `sbk_<tenant>_<secret>`. The key names its tenant so that its lookup runs
/// under that tenant's row-level security; the secret is 32 random bytes, base64url. Only a hash
/// of the whole key is stored.
public enum APIKeyFormat {
    static let prefix = "sbk_"

    /// A new key and its id (`<tenant>.<12 hex>`, shown in listings and used to revoke).
    public static func generate(for tenant: TenantID) -> (keyId: String, key: String) {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let idBytes = (0..<6).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let encoded = Data(secret).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let keyId = "\(tenant).\(idBytes.map { String(format: "%02x", $0) }.joined())"
        return (keyId, "\(prefix)\(tenant)_\(encoded)")
    }

    /// The tenant a key names, or `nil` when it is not shaped like one of ours.
    public static func tenant(ofKey key: String) -> TenantID? {
        guard key.hasPrefix(prefix), key.utf8.count <= 200 else { return nil }
        let rest = key.dropFirst(prefix.count)
        guard let separator = rest.firstIndex(of: "_"), rest.distance(from: separator, to: rest.endIndex) > 20 else { return nil }
        return TenantID(String(rest[..<separator]))
    }

    /// The tenant a key id names.
    public static func tenant(ofKeyId keyId: String) -> TenantID? {
        guard let dot = keyId.firstIndex(of: ".") else { return nil }
        return TenantID(String(keyId[..<dot]))
    }
}

/// A stored key, without its secret.
public struct StoredAPIKey: Sendable, Equatable {
    public var tenant: TenantID
    public var keyId: String
    public var name: String
    public var roles: [String]
    public var createdAt: Date
    public var revokedAt: Date?

    public init(tenant: TenantID, keyId: String, name: String, roles: [String], createdAt: Date, revokedAt: Date?) {
        self.tenant = tenant
        self.keyId = keyId
        self.name = name
        self.roles = roles
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// Resolves API keys to principals, with a short-lived cache so the hot read path needs no extra
/// query. Creating or revoking a key notifies every process, which forgets that tenant's entries;
/// entries also expire after `timeToLive`, so a lost notification heals.
public final class APIKeyAuthenticator: Sendable {
    struct Entry {
        var principal: Principal?
        var expires: ContinuousClock.Instant
    }

    let store: any APIKeyStore
    let timeToLive: Duration
    let capacity: Int
    private let cache = Mutex<[String: Entry]>([:])

    /// An authenticator over `store`.
    public init(store: any APIKeyStore, timeToLive: Duration = .seconds(30), capacity: Int = 50_000) {
        self.store = store
        self.timeToLive = timeToLive
        self.capacity = capacity
    }

    /// The principal of `key` as this process knows it, without waiting: `nil` when the key is not
    /// known here or known to be refused (then `authenticate` answers). The same cache as
    /// `authenticate`, so a revocation or `forget` is seen the same by both.
    public func cachedPrincipal(key: String) -> Principal? {
        guard let entry = cache.withLock({ $0[key] }), entry.expires > ContinuousClock.now else { return nil }
        return entry.principal
    }

    /// The principal of `key`; `unauthenticated` for a malformed, unknown or revoked key.
    public func authenticate(key: String) async throws -> Principal {
        let now = ContinuousClock.now
        if let entry = cache.withLock({ $0[key] }), entry.expires > now {
            guard let principal = entry.principal else { throw StatusError.unauthenticated("the API key is unknown or revoked") }
            return principal
        }
        guard let tenant = APIKeyFormat.tenant(ofKey: key) else {
            throw StatusError.unauthenticated("the credential is not an API key or token issued for Statusbro")
        }
        // Unknown and revoked keys take the same path (one indexed lookup by hash), so the answer
        // time does not tell which keys exist.
        let stored = try await store.lookupKey(tenant: tenant, key: key)
        var principal: Principal?
        if let stored, stored.revokedAt == nil {
            // The key's name makes audit records readable: "sundsvall.9f3c1a2b4d5e (Anna, bygglov)".
            principal = Principal(
                tenant: tenant, roles: stored.roles, subject: stored.name.isEmpty ? stored.keyId : "\(stored.keyId) (\(stored.name))")
        }
        cache.withLock { cache in
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[key] = Entry(principal: principal, expires: now.advanced(by: timeToLive))
        }
        guard let principal else { throw StatusError.unauthenticated("the API key is unknown or revoked") }
        return principal
    }

    /// Forgets every cached key of `tenant` (a key was created or revoked).
    public func forget(tenant: TenantID) {
        cache.withLock { cache in
            cache = cache.filter { $0.value.principal?.tenant != tenant && APIKeyFormat.tenant(ofKey: $0.key) != tenant }
        }
    }

    /// Forgets everything (the notification connection was lost, so a revocation may have been missed).
    public func forgetAll() {
        cache.withLock { $0.removeAll() }
    }
}
