import Foundation
import HTTPTypes
import Hummingbird
import Logging
import StatusCore
import StatusRules

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
        guard let snapshot = services.registry.snapshot(for: principal.tenant) else {
            throw StatusError.unavailable("the rules of this tenant are not loaded yet")
        }
        var context = context
        context.principal = principal
        context.snapshot = snapshot
        context.permissions = snapshot.permissions(forRoles: principal.roles)
        context.logger[metadataKey: "tenant"] = .string(principal.tenant.rawValue)
        return try await next(request, context)
    }

    private func authenticate(_ request: Request) async throws -> Principal {
        if let key = request.headers[Self.apiKeyHeader] {
            return try await services.keys.authenticate(key: key.trimmingCharacters(in: .whitespaces))
        }
        guard let authorization = request.headers[.authorization] else {
            throw StatusError.unauthenticated("a credential is required: an 'apikey' header or 'Authorization: Bearer <key or token>'")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw StatusError.unauthenticated("the Authorization header must be 'Bearer <key or token>'")
        }
        let credential = parts[1].trimmingCharacters(in: .whitespaces)
        if APIKeyFormat.tenant(ofKey: credential) != nil {
            return try await services.keys.authenticate(key: credential)
        }
        guard let tokens, credential.split(separator: ".", omittingEmptySubsequences: false).count == 3 else {
            throw StatusError.unauthenticated("the bearer credential is neither a Statusbro API key nor a JWT")
        }
        return try await tokens.principal(for: credential)
    }
}
