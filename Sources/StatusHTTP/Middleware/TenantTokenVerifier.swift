import Foundation
import JWTKit
import StatusCore
import StatusRules
import Synchronization

/// Verifies bearer JWTs issued by the identity providers tenants configure in their rules
/// (`jwtIssuers`: issuer, audience, roles claim, and the keys inline as a JWKS; nothing is fetched).
///
/// A token is accepted when exactly one tenant configures its `iss` and `aud`, its signature
/// verifies with that issuer's keys, it has not expired (`exp` is required) and is valid already
/// (`nbf`), both with a minute's leeway, and its roles claim names at least one role of that
/// tenant. Issuers come from the current snapshots, so removing one in a publish stops its tokens
/// at once.
public final class TenantTokenVerifier: TokenVerifier {
    let registry: RulesRegistry
    let leeway: TimeInterval

    /// One configured issuer, ready to verify.
    struct Issuer: Sendable {
        let tenant: TenantID
        let definition: JWTIssuerDefinition
        let keys: JWTKeyCollection
    }

    private let index = Mutex<(generation: Int, byIssuer: [String: [Issuer]])?>(nil)

    /// A verifier reading issuers from `registry`.
    public init(registry: RulesRegistry, leeway: TimeInterval = 60) {
        self.registry = registry
        self.leeway = leeway
    }

    public func principal(for token: String) async throws -> Principal {
        let claims: Claims
        do {
            claims = try await JWTKeyCollection().unverified(token, as: Claims.self)
        } catch {
            throw StatusError.unauthenticated("the bearer token is not a well-formed JWT")
        }
        guard let issuer = claims.values["iss"]?.stringValue else { throw StatusError.unauthenticated("the token has no issuer") }
        let audiences = claims.audiences
        let candidates = try await issuers()[issuer, default: []].filter { audiences.contains($0.definition.audience) }
        var accepted: [(Issuer, Claims)] = []
        for candidate in candidates {
            if let verified = try? await candidate.keys.verify(token, as: Claims.self, iteratingKeys: true) {
                accepted.append((candidate, verified))
            }
        }
        guard accepted.count == 1, let (match, verified) = accepted.first else {
            throw StatusError.unauthenticated(
                accepted.isEmpty ? "no tenant accepts this token's issuer, audience and signature" : "the token matches several tenants")
        }
        let now = Date().timeIntervalSince1970
        guard let expiry = verified.number("exp") else { throw StatusError.unauthenticated("the token has no expiry") }
        guard now <= expiry + leeway else { throw StatusError.unauthenticated("the token has expired") }
        if let notBefore = verified.number("nbf"), now + leeway < notBefore {
            throw StatusError.unauthenticated("the token is not valid yet")
        }
        guard let snapshot = registry.snapshot(for: match.tenant) else {
            throw StatusError.unavailable("the tenant's rules are not loaded")
        }
        let roles = verified.roles(match.definition.rolesClaim).filter(snapshot.hasRole)
        guard !roles.isEmpty else { throw StatusError.unauthenticated("the token's roles claim names no role of this tenant") }
        let subject = verified.values["sub"]?.stringValue ?? "jwt"
        return Principal(tenant: match.tenant, roles: roles, subject: "jwt:\(issuer):\(subject)")
    }

    /// The issuers of every served snapshot, rebuilt when any snapshot changes.
    private func issuers() async throws -> [String: [Issuer]] {
        let (generation, snapshots) = registry.snapshots()
        if let cached = index.withLock({ $0 }), cached.generation == generation { return cached.byIssuer }
        var byIssuer: [String: [Issuer]] = [:]
        for (tenant, snapshot) in snapshots {
            for definition in snapshot.document.jwtIssuers {
                // A key set that does not load is left out; validation already reported it before publish.
                guard let keys = try? await Self.keys(definition.jwks) else { continue }
                byIssuer[definition.issuer, default: []].append(Issuer(tenant: tenant, definition: definition, keys: keys))
            }
        }
        index.withLock { $0 = (generation, byIssuer) }
        return byIssuer
    }

    /// Loads a JWKS, pinning each key's algorithm to its type so a token cannot choose another
    /// (RS256 for RSA, ES256/384/512 by curve, EdDSA for OKP) and naming keys without a `kid`.
    static func keys(_ jwks: JSONValue) async throws -> JWTKeyCollection {
        let collection = JWTKeyCollection()
        for (index, key) in (jwks["keys"]?.arrayValue ?? []).enumerated() {
            guard var members = key.objectValue else { continue }
            if members["alg"] == nil {
                switch (members["kty"]?.stringValue, members["crv"]?.stringValue) {
                case ("RSA", _): members["alg"] = .string("RS256")
                case ("EC", "P-256"): members["alg"] = .string("ES256")
                case ("EC", "P-384"): members["alg"] = .string("ES384")
                case ("EC", "P-521"): members["alg"] = .string("ES512")
                case ("OKP", _): members["alg"] = .string("EdDSA")
                default: continue
                }
            }
            if members["kid"] == nil { members["kid"] = .string("key-\(index)") }
            let jwk = try JSONDecoder().decode(JWK.self, from: Data(JSONValue.object(members).canonicalString.utf8))
            try await collection.add(jwk: jwk)
        }
        return collection
    }

    /// Every claim of a token; checks are made by the verifier, with the tenant's settings.
    struct Claims: JWTPayload {
        var values: [String: JSONValue]

        init(from decoder: any Decoder) throws {
            values = try [String: JSONValue](from: decoder)
        }

        func encode(to encoder: any Encoder) throws {
            try values.encode(to: encoder)
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {}

        var audiences: [String] {
            switch values["aud"] {
            case .string(let audience)?: [audience]
            case .array(let audiences)?: audiences.compactMap(\.stringValue)
            default: []
            }
        }

        func number(_ name: String) -> Double? {
            if case .number(let value)? = values[name] { return value }
            return nil
        }

        /// Roles as a list of strings, or one space-separated string (as OAuth scopes are).
        func roles(_ claim: String) -> [String] {
            switch values[claim] {
            case .array(let roles)?: roles.compactMap(\.stringValue)
            case .string(let roles)?: roles.split(separator: " ").map(String.init)
            default: []
            }
        }
    }
}
