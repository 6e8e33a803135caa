import Hummingbird
import Metrics
import StatusCore
import StatusRules

/// Holds every authenticated request to its tenant's `limits` (a token bucket for the tenant and
/// one for the credential, reads and writes apart). A refused request costs no database work and
/// is answered 429 `RATE_LIMITED` with `Retry-After`; the limits come from the snapshot the
/// request was authenticated with, so a publish changes them at once.
struct RequestLimitMiddleware: RouterMiddleware {
    typealias Context = StatusRequestContext

    /// The buckets, shared by every request of this process.
    let limiter: RequestLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let principal = context.principal, let limits = context.snapshot?.document.limits else {
            return try await next(request, context)
        }
        let kind: RequestLimiter.Kind = request.method == .get || request.method == .head ? .read : .write
        if let wait = limiter.admit(tenant: principal.tenant, credential: principal.subject, kind: kind, limits: limits) {
            Counter(label: "statusbro_requests_limited_total", dimensions: [("tenant", principal.tenant.rawValue)]).increment()
            let seconds = wait.components.seconds + (wait.components.attoseconds > 0 ? 1 : 0)
            throw StatusError.rateLimited(
                "this \(kind == .read ? "read" : "write") goes beyond the request rate the tenant's rules allow; retry after \(max(1, seconds)) s",
                retryAfterSeconds: Int(max(1, seconds)))
        }
        return try await next(request, context)
    }
}
