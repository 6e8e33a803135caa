import Foundation
import Hummingbird
import StatusCore
import StatusRules
import Tracing

/// Per-request state: the correlation id, and after authentication the principal, the rules
/// snapshot the whole request works with, and the permissions its roles have under that snapshot.
public struct StatusRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Echoed on the response and stored with events.
    public var correlationID: String = ""
    /// Who is calling; set by `AuthenticationMiddleware`.
    public var principal: Principal?
    /// The tenant's snapshot when the request was authenticated; a publish during the request
    /// does not change what this request sees.
    public var snapshot: RuleSnapshot?
    /// What the principal may do under `snapshot`.
    public var permissions = PermissionSet()
    /// The request's span while tracing is on, for what middleware further in learns (the tenant).
    var requestSpan: (any Span)?

    /// The largest request body accepted (1 MiB).
    public static let maxBodySize = 1 << 20

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    public var maxUploadSize: Int { Self.maxBodySize }

    /// The authenticated principal and its snapshot; only routes behind authentication call this.
    func authenticated() throws -> (principal: Principal, snapshot: RuleSnapshot) {
        guard let principal, let snapshot else { throw StatusError.unauthenticated("a credential is required") }
        return (principal, snapshot)
    }

    /// The principal, when it has `permission`; `forbidden` otherwise.
    @discardableResult
    func require(_ permission: Permission) throws -> (principal: Principal, snapshot: RuleSnapshot) {
        let authenticated = try authenticated()
        guard permissions.contains(permission) else {
            throw StatusError.forbidden("the credential's roles do not grant \(permission)")
        }
        return authenticated
    }
}
