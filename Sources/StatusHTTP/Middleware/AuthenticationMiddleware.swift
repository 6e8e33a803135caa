import Foundation
import HTTPTypes
import Hummingbird
import Logging
import StatusCore
import StatusRules
import Tracing

/// Verifies bearer JWTs against the issuers a tenant's rules configure.
public protocol TokenVerifier: Sendable {
    /// The principal of `token`; `unauthenticated` when no tenant's issuer accepts it.
    func principal(for token: String) async throws -> Principal
}

/// Authenticates every API request: an API key in the `apikey` header or as a bearer token, or a
/// tenant-issued JWT as a bearer token. The principal's permissions come from its tenant's
/// current snapshot, so a role changed or an issuer removed by a publish takes effect at once.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = StatusRequestContext

    let services: StatusServices
    let tokens: (any TokenVerifier)?

    static let apiKeyHeader = HTTPField.Name("apikey")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let principal = try await authenticate(request)
        context.requestSpan?.attributes["statusbro.tenant"] = principal.tenant.rawValue
        // The rules lookup: which release answers this request, and what the principal's roles grant under it.
        let (snapshot, permissions) = try await ChildSpan.run("rules.snapshot") { span in
            span?.attributes["statusbro.tenant"] = principal.tenant.rawValue
            guard let snapshot = services.registry.snapshot(for: principal.tenant) else {
                throw StatusError.unavailable("the rules of this tenant are not loaded yet")
            }
            span?.attributes["statusbro.rules.version"] = snapshot.version
            return (snapshot, snapshot.permissions(forRoles: principal.roles))
        }
        var context = context
        context.principal = principal
        context.snapshot = snapshot
        context.permissions = permissions
        return try await next(request, context)
    }

    /// The value without surrounding spaces or tabs; no copy when there are none (the usual case).
    static func trimmed(_ value: some StringProtocol) -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = value.first, let last = value.last, isBlank(first) || isBlank(last) else { return String(value) }
        return String(value.drop(while: isBlank).reversed().drop(while: isBlank).reversed())
    }

    /// The API key a request carries: the `apikey` header, or a bearer credential in the key
    /// format; `nil` for none (or a token). The hot read path reads credentials with this too.
    static func apiKey(in fields: HTTPFields) -> String? {
        if let key = fields.value(apiKeyHeader) { return trimmed(key) }
        guard let credential = bearer(in: fields), APIKeyFormat.tenant(ofKey: credential) != nil else { return nil }
        return credential
    }

    /// The credential of an `Authorization: Bearer …` header.
    static func bearer(in fields: HTTPFields) -> String? {
        guard let authorization = fields.value(.authorization) else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return trimmed(Substring(parts[1]))
    }

    private func authenticate(_ request: Request) async throws -> Principal {
        if let key = Self.apiKey(in: request.headers) {
            return try await services.keys.authenticate(key: key)
        }
        guard request.headers[.authorization] != nil else {
            throw StatusError.unauthenticated("a credential is required: an 'apikey' header or 'Authorization: Bearer <key or token>'")
        }
        guard let credential = Self.bearer(in: request.headers) else {
            throw StatusError.unauthenticated("the Authorization header must be 'Bearer <key or token>'")
        }
        guard let tokens, credential.split(separator: ".", omittingEmptySubsequences: false).count == 3 else {
            throw StatusError.unauthenticated("the bearer credential is neither a Statusbro API key nor a JWT")
        }
        return try await tokens.principal(for: credential)
    }
}
