import CryptoExtras
import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import StatusRules
import StatusTestSupport
import Testing

/// Claims the tests sign; any shape, so tests can leave out or break claims.
struct TestClaims: JWTPayload {
    var values: [String: JSONValue]
    init(_ values: [String: JSONValue]) { self.values = values }
    init(from decoder: any Decoder) throws { values = try [String: JSONValue](from: decoder) }
    func encode(to encoder: any Encoder) throws { try values.encode(to: encoder) }
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// An identity provider the tests run: keys, a JWKS to put in a tenant's rules, and tokens.
struct TestIssuer {
    let issuer: String
    let signer = JWTKeyCollection()
    let jwks: JSONValue

    static func es256(_ issuer: String) async -> TestIssuer {
        let key = ES256PrivateKey()
        let (x, y) = key.publicKey.parameters!
        let issuer = TestIssuer(
            issuer: issuer,
            jwks: .object(["keys": .array([.object(["kty": .string("EC"), "crv": .string("P-256"), "x": .string(x), "y": .string(y)])])]))
        await issuer.signer.add(ecdsa: key, kid: "key-0")
        return issuer
    }

    static func rs256(_ issuer: String) async throws -> TestIssuer {
        let key = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let (n, e) = try key.publicKey.getKeyPrimitives()
        func b64url(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let issuer = TestIssuer(
            issuer: issuer,
            jwks: .object(["keys": .array([.object(["kty": .string("RSA"), "n": .string(b64url(n)), "e": .string(b64url(e))])])]))
        await issuer.signer.add(rsa: key, digestAlgorithm: .sha256, kid: "key-0")
        return issuer
    }

    func token(
        roles: [String] = ["oep-portal"], audience: String = "statusbro", expiresIn: TimeInterval? = 300, notBefore: TimeInterval? = nil,
        issuer: String? = nil
    ) async throws -> String {
        var claims: [String: JSONValue] = [
            "iss": .string(issuer ?? self.issuer), "aud": .string(audience), "sub": .string("portal-service"),
            "roles": .array(roles.map(JSONValue.string)),
        ]
        let now = Date().timeIntervalSince1970
        if let expiresIn { claims["exp"] = .number((now + expiresIn).rounded()) }
        if let notBefore { claims["nbf"] = .number((now + notBefore).rounded()) }
        return try await signer.sign(TestClaims(claims), kid: "key-0")
    }

    var definition: JWTIssuerDefinition { JWTIssuerDefinition(issuer: issuer, audience: "statusbro", jwks: jwks) }
}

@Suite("Tenant JWT bearer tokens")
struct TokenTests {
    func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    @Test("ES256 and RS256 tokens from a tenant's configured issuers are accepted, with the roles they name")
    func accepted() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            let es = await TestIssuer.es256("https://idp.sundsvall.example")
            let rs = try await TestIssuer.rs256("https://login.sundsvall.example")
            #expect(
                try await h.publishSundsvall(adminKey: admin, baseVersion: 1) { $0.jwtIssuers = [es.definition, rs.definition] }.status
                    == .created)
            for issuer in [es, rs] {
                let token = try await issuer.token()
                #expect(try await h.request(.get, "/api/v1/changes", headers: bearer(token)).status == .ok)
                #expect(try await h.request(.get, "/casestatus/1.0/X/status", headers: bearer(token)).code == "NOT_FOUND")
                // oep-portal may not publish.
                #expect(try await h.request(.get, "/admin/v1/rules", headers: bearer(token)).code == "FORBIDDEN")
            }
            // A token only a minute past its expiry is still inside the leeway.
            #expect(try await h.request(.get, "/api/v1/changes", headers: bearer(try await es.token(expiresIn: -30))).status == .ok)
        }
    }

    @Test("expired, not yet valid, wrong audience, wrong issuer, foreign key, tampered, no expiry, unknown roles, alg none: all 401")
    func refused() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            let es = await TestIssuer.es256("https://idp.sundsvall.example")
            let stranger = await TestIssuer.es256("https://idp.sundsvall.example")  // same issuer name, other key
            #expect(try await h.publishSundsvall(adminKey: admin, baseVersion: 1) { $0.jwtIssuers = [es.definition] }.status == .created)
            let good = try await es.token()
            let parts = good.split(separator: ".").map(String.init)
            let tamperedPayload = Data(
                #"{"iss":"https://idp.sundsvall.example","aud":"statusbro","exp":9999999999,"roles":["municipality-admin"]}"#.utf8
            )
            .base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(
                of: "/", with: "_")
            let noneHeader = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
            let tokens: [(String, String)] = [
                ("expired", try await es.token(expiresIn: -600)),
                ("not yet valid", try await es.token(notBefore: 600)),
                ("wrong audience", try await es.token(audience: "someone-else")),
                ("wrong issuer", try await es.token(issuer: "https://evil.example")),
                ("foreign key", try await stranger.token()),
                ("tampered", [parts[0], tamperedPayload, parts[2]].joined(separator: ".")),
                ("no expiry", try await es.token(expiresIn: nil)),
                ("unknown roles", try await es.token(roles: ["superuser"])),
                ("alg none", [noneHeader, parts[1], ""].joined(separator: ".")),
                ("garbage", "a.b.c"),
            ]
            for (name, token) in tokens {
                let reply = try await h.request(.get, "/api/v1/changes", headers: bearer(token))
                #expect(reply.status == .unauthorized && reply.code == "UNAUTHENTICATED", "\(name): \(reply.text)")
            }
            #expect(try await h.request(.get, "/api/v1/changes", headers: bearer(good)).status == .ok)
        }
    }

    @Test("an issuer removed by a publish stops working at once, without a restart")
    func issuerRemoved() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            let es = await TestIssuer.es256("https://idp.sundsvall.example")
            _ = try await h.publishSundsvall(adminKey: admin, baseVersion: 1) { $0.jwtIssuers = [es.definition] }
            let token = try await es.token()
            #expect(try await h.request(.get, "/api/v1/changes", headers: bearer(token)).status == .ok)
            #expect(try await h.publishSundsvall(adminKey: admin, baseVersion: 2) { $0.jwtIssuers = [] }.status == .created)
            #expect(try await h.request(.get, "/api/v1/changes", headers: bearer(token)).code == "UNAUTHENTICATED")
        }
    }

    @Test("a token of one tenant's issuer never reaches another tenant's data")
    func tenantBound() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            let byggr = try await h.key("sundsvall", "byggr")
            _ = try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "S-1", status: "ANM"))
            let es = await TestIssuer.es256("https://idp.bergen.example")
            var bergen = try TestDatabase.document("bergen")
            bergen.jwtIssuers = [es.definition]
            let bergenAdmin = try await h.key("bergen", "municipality-admin")
            let published = try await h.post(
                "/admin/v1/rules/publish", key: bergenAdmin, "{\"baseVersion\":1,\"document\":\(bergen.jsonValue().canonicalString)}")
            #expect(published.status == .created)
            let token = try await es.token(roles: ["municipality-admin"])
            #expect(try await h.request(.get, "/api/v1/cases/S-1", headers: bearer(token)).code == "NOT_FOUND")
            #expect(try await h.request(.get, "/api/v1/cases/S-1", key: admin).status == .ok)
            // Its roles are bergen's: it cannot claim a role only sundsvall has.
            #expect(
                try await h.request(.get, "/api/v1/changes", headers: bearer(try await es.token(roles: ["oep-portal"]))).code
                    == "UNAUTHENTICATED")
        }
    }
}
