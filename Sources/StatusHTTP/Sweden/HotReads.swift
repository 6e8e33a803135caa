import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import NIOCore
import NIOHTTPTypes
import StatusCore
import StatusRules
import Synchronization

/// The Swedish status reads (`oepstatus`, `status`, `statuses`), answered on the connection's
/// event loop when everything the answer needs is already in this process's memory: the key's
/// principal (`APIKeyAuthenticator.cachedPrincipal`), the tenant's snapshot, the case or the
/// organisation's list (`CaseDirectory.cachedAnswer`). Portals poll these for every signed-in
/// applicant; answered here, a read costs no Swift task, no router walk and no middleware chain,
/// which is where a read spent most of its time (BENCHMARKS.md, profile).
///
/// It only ever answers what the router would answer, byte for byte: the same credential
/// parsing, permission, request limits, body (`SwedenController.Read.body`), correlation
/// headers and request metrics. Anything it is not sure of — a cold cache, a refusal of any kind,
/// a query string or percent-encoding, a request with a body, `Connection: close` —
/// goes to the router unchanged, so every error keeps one path. Off when traces are exported or
/// requests are logged (`ServerConfiguration.hotReads`), since both see only the router.
struct HotReads: Sendable {
    let services: StatusServices
    let loops = HotReadLoops()

    /// The request metrics Hummingbird's `MetricsMiddleware` records for these routes, made once.
    private let metrics: [Route: (counter: Counter, timer: Timer)]

    /// A read and the path form it came in (the route label of its metrics).
    struct Route: Hashable, Sendable {
        var read: SwedenController.Read
        /// `/caseStatus/{version}/api/{id}/…` rather than `/casestatus/{version}/{id}/…`.
        var apiForm: Bool

        var pattern: String {
            apiForm ? "/caseStatus/{version}/api/{id}/\(read.rawValue)" : "/casestatus/{version}/{id}/\(read.rawValue)"
        }
    }

    init(services: StatusServices) {
        self.services = services
        var metrics: [Route: (counter: Counter, timer: Timer)] = [:]
        for read in SwedenController.Read.allCases {
            for apiForm in [false, true] {
                let route = Route(read: read, apiForm: apiForm)
                let dimensions = [("http.route", route.pattern), ("http.request.method", "GET"), ("http.response.status_code", "200")]
                metrics[route] = (
                    Counter(label: "hb.requests", dimensions: dimensions),
                    Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
                )
            }
        }
        self.metrics = metrics
    }

    private static let plainPrefix = Array("/casestatus/\(SwedenController.version)/".utf8)
    private static let apiPrefix = Array("/caseStatus/\(SwedenController.version)/api/".utf8)

    /// The route and id of a path this can answer, `nil` for any other: `{prefix}{id}/{read}`
    /// with an id of visible ASCII other than `/`, `?`, `%` and `#` (anything the router would
    /// decode or treat specially is left to it).
    static func route(of path: String) -> (route: Route, id: String)? {
        let bytes = path.utf8
        let apiForm: Bool
        if bytes.starts(with: plainPrefix) {
            apiForm = false
        } else if bytes.starts(with: apiPrefix) {
            apiForm = true
        } else {
            return nil
        }
        let idStart = bytes.index(bytes.startIndex, offsetBy: apiForm ? apiPrefix.count : plainPrefix.count)
        guard let idEnd = bytes[idStart...].firstIndex(of: UInt8(ascii: "/")),
            let read = SwedenController.Read(rawValue: String(path[bytes.index(after: idEnd)...]))
        else { return nil }
        let id = bytes[idStart..<idEnd]
        guard !id.isEmpty, id.count <= FieldReader.maxIdentifierLength,
            id.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "%") && $0 != UInt8(ascii: "#") })
        else { return nil }
        return (Route(read: read, apiForm: apiForm), String(path[idStart..<idEnd]))
    }

    /// The whole answer to `request`, or `nil` when the router must answer it; `loop` is the
    /// state of the event loop it runs on.
    func answer(_ request: HTTPRequest, start: UInt64, on loop: HotReadLoop) -> (HTTPResponse, ByteBuffer)? {
        guard request.method == .get, let path = request.path, let (route, id) = Self.route(of: path) else { return nil }
        let fields = request.headerFields
        if let length = fields.value(.contentLength), length != "0" { return nil }
        guard fields.value(.transferEncoding) == nil, fields.value(.connection)?.lowercased() != "close" else { return nil }

        guard let key = AuthenticationMiddleware.apiKey(in: fields), let principal = services.keys.cachedPrincipal(key: key),
            let snapshot = services.registry.snapshot(for: principal.tenant),
            snapshot.permissions(forRoles: principal.roles).contains(.statusRead)
        else { return nil }

        let lookup: CaseLookup
        switch route.read {
        case .oepstatus: lookup = .flowInstanceOrExternalId(id)
        case .status: lookup = .externalId(id)
        case .statuses:
            guard let organisation = OrganisationNumber(id) else { return nil }
            lookup = .organisation(organisation.digits)
        }
        guard let records = services.cases.cachedAnswer(tenant: principal.tenant, lookup) else { return nil }
        // Last, so that a request the router answers after all has not taken a token.
        if let limits = snapshot.document.limits,
            services.limiter.admit(tenant: principal.tenant, credential: principal.subject, kind: .read, limits: limits) != nil
        {
            return nil
        }

        let body = loop.body(HotReadLoop.Key(tenant: principal.tenant, read: route.read, id: id), records, snapshot)
        var headers: HTTPFields = [:]
        headers.append(HTTPField(name: .contentType, value: JSONOut.contentType))
        headers.append(HTTPField(name: .contentLength, value: body.length))
        CorrelationMiddleware.answer(&headers, id: CorrelationMiddleware.id(for: fields, path: path), request: fields)
        headers.append(HTTPField(name: .date, value: loop.date()))
        headers.append(HTTPField(name: .server, value: ServerConfiguration.serverName))
        if let metrics = metrics[route] {
            metrics.counter.increment()
            metrics.timer.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - start)
        }
        return (HTTPResponse(status: .ok, headerFields: headers), body.buffer)
    }
}

/// What the hot reads of one event loop keep between requests: each read's encoded body and the
/// `Date` header's text. Only the handlers of its own loop use it, so it takes no lock.
///
/// A body is reused only for equal records under the same snapshot object: the body is made from
/// nothing else (`SwedenController.Read.body`), so reuse is exact whatever changed meanwhile, and a
/// publish (a new snapshot) or a write (new records from the case cache) shows on the next read.
final class HotReadLoop {
    struct Key: Hashable {
        var tenant: TenantID
        var read: SwedenController.Read
        var id: String
    }

    struct Body {
        let records: [CaseRecord]
        let snapshot: RuleSnapshot
        let buffer: ByteBuffer
        let length: String
    }

    /// What the kept bodies may weigh (their bytes and about 256 bytes each for the entry); past it
    /// the loop starts over, which also lets go of the old snapshots and records entries hold.
    static let capacity = 16 << 20
    private var bodies: [Key: Body] = [:]
    private var weight = 0
    private var date = (second: -1, text: "")

    func body(_ key: Key, _ records: [CaseRecord], _ snapshot: RuleSnapshot) -> Body {
        if let body = bodies[key], body.snapshot === snapshot, body.records == records { return body }
        let buffer = ByteBuffer(string: key.read.body(records, snapshot).text)
        let body = Body(records: records, snapshot: snapshot, buffer: buffer, length: String(buffer.readableBytes))
        if weight + buffer.readableBytes + 256 > Self.capacity {
            bodies.removeAll(keepingCapacity: true)
            weight = 0
        }
        weight += buffer.readableBytes + 256
        if let old = bodies.updateValue(body, forKey: key) { weight -= old.buffer.readableBytes + 256 }
        return body
    }

    /// The `Date` header's value (RFC 9110, IMF-fixdate), made once a second.
    func date(now: Int = time(nil)) -> String {
        if date.second != now {
            var seconds = now
            var parts = tm()
            gmtime_r(&seconds, &parts)
            var buffer = [CChar](repeating: 0, count: 40)
            let count = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
            date = (now, String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return date.text
    }
}

/// Each event loop's `HotReadLoop`, made when the loop's first connection opens.
final class HotReadLoops: Sendable {
    private let loops = Mutex<[ObjectIdentifier: NIOLoopBound<HotReadLoop>]>([:])

    /// The state of `eventLoop`; call on that loop.
    func state(on eventLoop: any EventLoop) -> HotReadLoop {
        loops.withLock { loops in
            if let bound = loops[ObjectIdentifier(eventLoop)] { return bound }
            let bound = NIOLoopBound(HotReadLoop(), eventLoop: eventLoop)
            loops[ObjectIdentifier(eventLoop)] = bound
            return bound
        }.value
    }
}

/// The channel handler in front of Hummingbird's: a request `HotReads` can answer is answered
/// here and never reaches the router; every other request passes through untouched.
///
/// It sits after Hummingbird's connection-state handler, so keep-alive, idle time-outs and
/// graceful shutdown see every request and answer. Pipelined requests keep their order: while
/// the router owes an answer, every request goes to the router.
final class HotReadHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let reads: HotReads
    let loop: HotReadLoop
    /// Whether the current request goes to the router (else it is answered here).
    private var passing = true
    /// Requests passed to the router whose answers are not written yet. Hummingbird reads a
    /// connection's pipelined requests ahead and answers them in order; an answer from here must
    /// not overtake one of those, so while any is open every request goes to the router.
    private var routed = 0
    /// The answer to the current request, written once the request has been read to its end.
    private var answer: (HTTPResponse, ByteBuffer)?
    /// Whether anything went on to the router since the last read completed.
    private var forwarded = false

    init(reads: HotReads, loop: HotReadLoop) {
        self.reads = reads
        self.loop = loop
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            answer = routed == 0 ? reads.answer(request, start: DispatchTime.now().uptimeNanoseconds, on: loop) : nil
            passing = answer == nil
            if passing {
                routed += 1
                forward(context, data)
            }
        case .body:
            if passing { forward(context, data) }
        case .end:
            guard let (response, body) = answer else {
                forward(context, data)
                return
            }
            answer = nil
            passing = true
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    private func forward(_ context: ChannelHandlerContext, _ data: NIOAny) {
        forwarded = true
        context.fireChannelRead(data)
    }

    /// Passed on only when something was: a read completed with every request answered here
    /// would wake the router's connection task for nothing.
    func channelReadComplete(context: ChannelHandlerContext) {
        guard forwarded else { return }
        forwarded = false
        context.fireChannelReadComplete()
    }

    /// The router's answers pass here on their way out: count the ones it finished.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { routed = max(0, routed - 1) }
        context.write(data, promise: promise)
    }
}

/// Hummingbird's HTTP/1.1 channel with `HotReadHandler` placed before the router's side.
struct HotReadChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let reads: HotReads

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let state = try operations.handler(type: HTTPConnectionStateHandler.self)
            try operations.addHandler(HotReadHandler(reads: reads, loop: reads.loops.state(on: channel.eventLoop)), position: .after(state))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
