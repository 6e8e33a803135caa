import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import StatusCore
import StatusRules

/// Where and how the HTTP server runs.
public struct ServerConfiguration: Sendable {
    /// The `Server` header of every answer.
    static let serverName = "statusbro"

    public var host: String
    public var port: Int
    /// The admin console's static files, served at `/admin/` (`nil`: no console).
    public var adminDirectory: String?
    /// The OpenAPI document served at `/openapi.json` (`nil`: none).
    public var openAPIDocument: String?
    /// The address clients reach the service at, for links such as `kvitteringUrl` (`nil`: the request's host).
    public var publicBaseURL: String?
    /// Whether the Swedish status reads are answered from memory on the event loop when they can
    /// be (`HotReads`). Only with traces not exported and requests not logged: both see the router only.
    public var hotReads: Bool

    /// A configuration.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, adminDirectory: String? = nil, openAPIDocument: String? = nil,
        publicBaseURL: String? = nil, hotReads: Bool = false
    ) {
        self.host = host
        self.port = port
        self.adminDirectory = adminDirectory
        self.openAPIDocument = openAPIDocument
        self.publicBaseURL = publicBaseURL
        self.hotReads = hotReads
    }
}

/// Sends `/admin` to `/admin/`, where the console's relative links resolve.
struct ConsoleRedirectMiddleware: RouterMiddleware {
    typealias Context = StatusRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path == "/admin" else { return try await next(request, context) }
        return Response(status: .permanentRedirect, headers: [.location: "/admin/"])
    }
}

/// The router with every face; the tests drive this same router.
public func buildRouter(
    configuration: ServerConfiguration, services: StatusServices, tokens: (any TokenVerifier)? = nil
) -> Router<StatusRequestContext> {
    let router = Router(context: StatusRequestContext.self)
    let metrics = StatusMetrics.shared
    router.add(middleware: CorrelationMiddleware())
    // Inside the correlation id (an attribute of the span) and outside the problem middleware (the
    // span records the status the client gets).
    router.add(middleware: RequestTracingMiddleware())
    // Requests counted and timed per route pattern (never the raw path, so no identifier becomes a
    // label), method and status; an access line at debug level (identity numbers masked by the
    // log handler).
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.add(middleware: ProblemMiddleware())
    if let adminDirectory = configuration.adminDirectory {
        router.add(middleware: ConsoleRedirectMiddleware())
        router.add(
            middleware: FileMiddleware<StatusRequestContext, LocalFileSystem>(
                adminDirectory, urlBasePath: "/admin", searchForIndexHtml: true
            )
            .withAdditionalMediaTypes(forFileExtensions: [
                "html": MediaType(type: .text, subType: "html", parameter: ("charset", "utf-8")),
                "css": MediaType(type: .text, subType: "css", parameter: ("charset", "utf-8")),
                "js": MediaType(type: .text, subType: "javascript", parameter: ("charset", "utf-8")),
            ]))
    }

    let health = HealthController(services: services)
    router.get("/health", use: health.health)
    router.get("/metrics") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: await metrics.render(services: services))))
    }
    if let openAPIDocument = configuration.openAPIDocument {
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: openAPIDocument)))
        }
    }

    let authentication = AuthenticationMiddleware(services: services, tokens: tokens ?? TenantTokenVerifier(registry: services.registry))
    let limits = RequestLimitMiddleware(limiter: services.limiter)
    let sweden = SwedenController(cases: services.cases)
    router.group("casestatus").add(middleware: authentication).add(middleware: limits).addRoutes(sweden.endpoints())
    router.group("caseStatus").add(middleware: authentication).add(middleware: limits).addRoutes(sweden.endpoints(infix: "api"))
    router.group("api/v1").add(middleware: authentication).add(middleware: limits)
        .addRoutes(EventsController(services: services).endpoints)
        .addRoutes(CasesController(cases: services.cases).endpoints)
        .addRoutes(FeedController(feed: services.feed).endpoints)
    router.group("dibk/api/v1").add(middleware: authentication).add(middleware: limits)
        .addRoutes(NorwayController(norway: services.norway, publicBaseURL: configuration.publicBaseURL).endpoints)
    router.group("nav/aktivitetskort").add(middleware: authentication).add(middleware: limits)
        .addRoutes(AktivitetskortController(nav: services.nav).endpoints)
    router.group("star/v1").add(middleware: authentication).add(middleware: limits)
        .addRoutes(STARController(star: services.star).endpoints)
    // Not limited: administration is people, and must stay usable to change the limits themselves.
    router.group("admin/v1").add(middleware: authentication)
        .addRoutes(RulesController(rules: services.rules).endpoints)
        .addRoutes(AuditController(rules: services.rules).endpoints)
        .addRoutes(StatisticsController(statistics: services.statistics).endpoints)
    return router
}

/// The application: the router, the background services (database pool, rules listener) and,
/// before the server accepts requests, every tenant's rules loaded.
public func buildApplication(
    configuration: ServerConfiguration, services: StatusServices, backgroundServices: [any Service],
    tokens: (any TokenVerifier)? = nil, logger: Logger
) -> some ApplicationProtocol {
    let router = buildRouter(configuration: configuration, services: services, tokens: tokens)
    var app = Application(
        router: router,
        server: server(configuration, services: services),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: ServerConfiguration.serverName),
        services: backgroundServices,
        logger: logger
    )
    app.beforeServerStarts {
        let outcomes = try await services.loader.resync()
        logger.info("rules loaded", metadata: ["tenants": "\(services.registry.count)", "reloaded": "\(outcomes.count)"])
    }
    return app
}

/// The HTTP/1.1 server, with the hot reads in front of the router when they are on.
func server(_ configuration: ServerConfiguration, services: StatusServices) -> HTTPServerBuilder {
    // A connection that sends nothing for a minute (a stalled upload included) is closed.
    let http1 = HTTP1Channel.Configuration(idleTimeout: .seconds(60))
    guard configuration.hotReads else { return .http1(configuration: http1) }
    let reads = HotReads(services: services)
    return HTTPServerBuilder { responder in
        HotReadChannel(inner: HTTP1Channel(responder: responder, configuration: http1), reads: reads)
    }
}
