import HTTPTypes
import Hummingbird
import StatusCore
import Tracing

/// One span per request, the root of its trace: the rules lookup and every SQL statement the
/// request runs are spans below it.
///
/// Hummingbird's `TracingMiddleware` records the raw path and query (`url.path`, `url.query`) and
/// the user agent, and identity numbers travel in paths and queries here; this one names the span
/// by the route pattern (`GET /api/v1/cases/{id}`) and records only the method, the route, the
/// status, the correlation id (masked like a log line) and, once authenticated, the tenant.
///
/// Trace context sent by a client (`traceparent`, `tracestate`) is not adopted: clients are other
/// organisations' systems, and their trace ids and state are strings they choose, which would
/// enter our spans unchecked. The correlation id is the link across systems.
struct RequestTracingMiddleware: RouterMiddleware {
    typealias Context = StatusRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let tracer = InstrumentationSystem.tracer
        // Tracing off: no span and no task-local context, so the spans below see no request and
        // start nothing either.
        if tracer is NoOpTracer { return try await next(request, context) }

        let method = request.method.rawValue
        let span = tracer.startSpan(method, context: .topLevel, ofKind: .server)
        defer { span.end() }
        span.attributes["http.request.method"] = method
        span.attributes["statusbro.correlation_id"] = IdentityRedaction.redact(context.correlationID)
        var context = context
        context.requestSpan = span
        do {
            let response = try await InstrumentationContext.$current.withValue(span.context) {
                try await next(request, context)
            }
            Self.finish(span, method: method, route: context.endpointPath, status: response.status)
            return response
        } catch {
            // The problem middleware inside answers every error; this is for one that escapes it.
            Self.finish(
                span, method: method, route: context.endpointPath, status: (error as? any HTTPResponseError)?.status ?? .internalServerError
            )
            throw error
        }
    }

    /// Names the span by the route the router matched and records the status. No route (a static
    /// file, or Hummingbird's `NotFound` marker, which is no path): the method alone.
    private static func finish(_ span: any Span, method: String, route: String?, status: HTTPResponse.Status) {
        if let route, route.hasPrefix("/") {
            span.operationName = "\(method) \(route)"
            span.attributes["http.route"] = route
        }
        span.attributes["http.response.status_code"] = status.code
        if status.code >= 500 {
            span.attributes["error.type"] = String(status.code)
            span.setStatus(SpanStatus(code: .error))
        }
    }
}
