import Foundation
import HTTPTypes
import InMemoryTracing
import StatusCore
import StatusTestSupport
import Testing
import Tracing

/// Each test scopes its own in-memory tracer to its requests with `withTracer` (task-local), so no
/// test bootstraps the process-wide `InstrumentationSystem` and the suites stay parallel.
@Suite("Tracing: a trace per request, the SQL under it, no identity number in any span")
struct TracingTests {
    /// Each request names itself with a correlation id, to find its request span among the others.
    static let correlationHeader = HTTPField.Name("X-Correlation-ID")!

    @Test("one trace per request: the request span is its root; the rules lookup and every SQL statement sit under it")
    func tracePerRequest() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let admin = try await h.key("sundsvall", "municipality-admin")
            let tracer = InMemoryTracer()
            // (correlation id, method, path, key, body, the span name expected, whether it touches the database)
            let requests: [(String, HTTPRequest.Method, String, String?, String?, String, Bool)] = [
                (
                    "trace-event", .post, "/api/v1/events", byggr, Harness.event(externalCaseId: "BYGG 2024-000777", status: "ANM"),
                    "POST /api/v1/events", true
                ),
                (
                    "trace-history", .get, "/api/v1/cases/BYGG%202024-000777/history", admin, nil, "GET /api/v1/cases/{id}/history",
                    true
                ),
                ("trace-versions", .get, "/admin/v1/rules/versions", admin, nil, "GET /admin/v1/rules/versions", true),
                ("trace-health", .get, "/health", nil, nil, "GET /health", true),
                ("trace-missing", .get, "/no/such/route", nil, nil, "GET", false),
            ]
            try await withTracer(tracer) {
                for (id, method, path, key, body, _, _) in requests {
                    let reply = try await h.request(method, path, key: key, json: body, headers: [Self.correlationHeader: id])
                    #expect(reply.headers[Self.correlationHeader] == id)
                }
            }

            let spans = tracer.finishedSpans
            #expect(tracer.activeSpans.isEmpty, "every span ended")
            var traces: Set<String> = []
            for (id, _, _, _, _, name, touchesDatabase) in requests {
                let roots = spans.filter { $0.kind == .server && $0.attributes.get("statusbro.correlation_id") == .string(id) }
                try #require(roots.count == 1, "one request span for \(id)")
                let root = roots[0]
                #expect(root.parentSpanID == nil, "the request span starts its trace")
                #expect(root.operationName == name, "named by the route pattern, not the path")
                #expect(traces.insert(root.traceID).inserted, "a trace of its own for \(id)")

                let trace = spans.filter { $0.traceID == root.traceID }
                let byID = Dictionary(uniqueKeysWithValues: trace.map { ($0.spanID, $0) })
                for span in trace where span.spanID != root.spanID {
                    // Up the parent chain, within the trace, to the request span.
                    var current = span
                    var hops = 0
                    while let parent = current.parentSpanID, let next = byID[parent], hops < 10 {
                        current = next
                        hops += 1
                    }
                    #expect(current.spanID == root.spanID, "\(span.operationName) hangs under the request span of \(id)")
                }
                let statements = trace.filter { $0.attributes.get("db.system.name") == .string("postgresql") }
                if touchesDatabase {
                    #expect(!statements.isEmpty, "the SQL of \(id) is in its trace")
                } else {
                    #expect(trace.count == 1, "a request that runs nothing has the request span only")
                }
                for statement in statements {
                    #expect(statement.kind == .client)
                    #expect(statement.attributes.get("db.operation.name") != nil && statement.attributes.get("db.query.text") != nil)
                    #expect(statement.operationName == statement.attributes.get("db.query.summary").flatMap(Self.text))
                }
            }

            // The event: authenticated, its rules looked up, written in one round trip.
            let event = try #require(spans.first { $0.operationName == "POST /api/v1/events" })
            let eventTrace = spans.filter { $0.traceID == event.traceID }
            #expect(event.attributes.get("statusbro.tenant") == .string("sundsvall"))
            #expect(event.attributes.get("http.route") == .string("/api/v1/events"))
            #expect(event.attributes.get("http.response.status_code") == .int64(201))
            let rules = try #require(eventTrace.first { $0.operationName == "rules.snapshot" })
            #expect(rules.parentSpanID == event.spanID)
            #expect(rules.attributes.get("statusbro.rules.version") == .int64(1))
            let write = try #require(eventTrace.first { $0.operationName == "CALL statusbro_record_changes" })
            #expect(write.parentSpanID == event.spanID)
            #expect(write.attributes.get("statusbro.tenant") == .string("sundsvall"))
            #expect(write.attributes.get("db.operation.name") == .string("CALL"))

            // The history: a tenant transaction, each of its statements a span of its own.
            let history = try #require(spans.first { $0.operationName == "GET /api/v1/cases/{id}/history" })
            let historyNames = spans.filter { $0.traceID == history.traceID }.map(\.operationName)
            #expect(historyNames.contains("BEGIN") && historyNames.contains("COMMIT") && historyNames.contains("SELECT case_events"))

            // Nothing else was traced: every span belongs to one of the requests.
            #expect(Set(spans.map(\.traceID)) == traces)
        }
    }

    @Test("a request that fails inside still ends its span, marked as the status the client got")
    func failedRequest() async throws {
        try await Harness.run { h in
            let tracer = InMemoryTracer()
            let reply = try await withTracer(tracer) {
                try await h.request(.get, "/api/v1/cases/X", key: "sbk_sundsvall_not-a-key", headers: [Self.correlationHeader: "trace-401"])
            }
            #expect(reply.status == .unauthorized)
            let root = try #require(tracer.finishedSpans.first { $0.kind == .server })
            #expect(root.operationName == "GET /api/v1/cases/{id}")
            #expect(root.attributes.get("http.response.status_code") == .int64(401))
            #expect(root.status == nil, "a client error is not the server's")
            #expect(tracer.activeSpans.isEmpty)
        }
    }

    /// Identity numbers as the system tests use them: a Swedish personnummer (Skatteverket's test
    /// person), Norwegian fødselsnummer, Swedish organisation numbers and a Danish CPR, each in
    /// every form it is written in.
    static let identityNumbers = [
        "191212121212", "19121212-1212", "121212-1212", "1212121212", "15078610090", "15078610091", "5564900008", "556490-0008",
        "5564900009", "0102031234", "010203-1234", "13097248022", "10068831950", "53097248016", "211062-5629", "2110625629",
        "3102621234",
    ]

    @Test("no identity number reaches a span: not from paths, queries, bodies, nor the correlation id")
    func identityNumbersStayOut() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let portal = try await h.key("sundsvall", "oep-portal")
            let admin = try await h.key("sundsvall", "municipality-admin")
            let auditor = try await h.key("sundsvall", "auditor")
            let vendor = try await h.key("bergen", "ebygg-vendor")
            let applicant = try await h.key("bergen", "applicant-system")
            let arena = try await h.key("nav-oslo", "arena-acl")
            let star = try await h.key("aarhus", "star-wsb")
            let jobcenter = try await h.key("aarhus", "jobcenter-portal")
            let tracer = InMemoryTracer()
            let identified: HTTPFields = [Self.correlationHeader: "191212121212"]
            let receipt = NorwayTests.receipt.replacingOccurrences(
                of: "\"mobil\":\"90000000\"", with: "\"mobil\":\"90000000\",\"fodselsnummer\":\"15078610090\"")
            let badReceipt = receipt.replacingOccurrences(of: "15078610090", with: "15078610091")
            let card = """
                {"messageId":"\(UUID().uuidString.lowercased())","source":"ARENA_TILTAK_AKTIVITET_ACL","aktivitetskortType":"ARBEIDSTRENING",
                 "actionType":"UPSERT_AKTIVITETSKORT_V1","aktivitetskort":{"id":"\(UUID().uuidString.lowercased())","personIdent":"13097248022",
                 "tittel":"Arbeidstrening","aktivitetStatus":"FULLFORT","endretAv":{"ident":"53097248016","identType":"PERSONBRUKERIDENT"},
                 "endretTidspunkt":"2024-05-01T10:00:00","avtaltMedNav":false}}
                """
            let besked = """
                {"BeskedIdentifier":"\(UUID().uuidString.lowercased())","HaendelsesTid":"2024-04-23T12:47:17+02:00",
                 "EntitetstypeNavn":"Indkaldelse","EksternIdentifier":"P-1","Identifikation":"211062-5629","IdentifikationstypeId":1,
                 "AendringstypeId":1}
                """
            let navCall: HTTPFields = [HTTPField.Name("Nav-Call-Id")!: "13097248022"]
            let statuses = try await withTracer(tracer) {
                [
                    try await h.request(
                        .post, "/api/v1/events", key: byggr,
                        json: Harness.event(externalCaseId: "19121212-1212", status: "ANM", organisationNumber: "556490-0008"),
                        headers: identified),
                    try await h.request(
                        .post, "/api/v1/events", key: byggr,
                        json: Harness.event(externalCaseId: "PNR-2", status: "ANM", organisationNumber: "5564900009"), headers: identified),
                    try await h.request(
                        .post, "/api/v1/events", key: byggr, json: Harness.event(externalCaseId: "010203-1234", status: "NYKOD"),
                        headers: [Self.correlationHeader: "010203-1234"]),
                    try await h.request(.get, "/casestatus/1.0/5564900008/statuses", key: portal, headers: identified),
                    try await h.request(.get, "/casestatus/1.0/5564900009/statuses", key: portal),
                    try await h.request(.get, "/casestatus/1.0/191212121212/status", key: portal),
                    try await h.request(.get, "/api/v1/cases/\(segment("19121212-1212"))", key: admin),
                    try await h.request(
                        .get, "/api/v1/cases/\(segment("19121212-1212"))/history?organisationNumber=5564900008", key: admin),
                    try await h.request(.get, "/admin/v1/audit/decisions?externalCaseId=191212121212&format=json", key: auditor),
                    try await h.request(.get, "/api/v1/deadletters?state=pending&cpr=0102031234", key: admin),
                    try await h.request(.post, "/dibk/api/v1/kvittering", key: vendor, json: receipt),
                    try await h.request(.post, "/dibk/api/v1/kvittering", key: vendor, json: badReceipt),
                    try await h.request(.get, "/dibk/api/v1/kvittering?innsendingReferanse=15078610090", key: applicant),
                    try await h.request(.get, "/dibk/api/v1/status?innsendingReferanse=AR12345679&fnr=15078610090", key: applicant),
                    try await h.request(.post, "/nav/aktivitetskort/v1", key: arena, json: card, headers: navCall),
                    try await h.request(
                        .post, "/nav/aktivitetskort/v1", key: arena,
                        json: card.replacingOccurrences(of: "13097248022", with: "10068831950"),
                        headers: navCall),
                    try await h.request(.post, "/star/v1/wsb", key: star, json: besked),
                    try await h.request(
                        .post, "/star/v1/wsb", key: star, json: besked.replacingOccurrences(of: "211062-5629", with: "3102621234")),
                    try await h.request(.get, "/star/v1/Indkaldelse/historik?identifikation=2110625629", key: jobcenter),
                    try await h.request(.get, "/star/v1/Indkaldelse/historik/2110625629", key: jobcenter),
                    try await h.request(.get, "/no/such/191212121212?pnr=19121212-1212"),
                ].map(\.status)
            }
            // The requests did real work (and so ran SQL with identity numbers bound), good and bad.
            #expect(statuses.contains(.created) && statuses.contains(.badRequest) && statuses.contains(.unprocessableContent))
            let spans = tracer.finishedSpans
            #expect(spans.filter { $0.kind == .server }.count == statuses.count)
            #expect(spans.contains { $0.operationName == "CALL statusbro_record_changes" })

            var texts = 0
            for span in spans {
                var values = [("name", span.operationName)]
                span.attributes.forEach { key, attribute in values.append((key, Self.text(attribute))) }
                values += span.events.map { ("event", $0.name) } + span.errors.map { ("error", "\($0.error)") }
                for (key, value) in values {
                    texts += 1
                    #expect(
                        IdentityRedaction.redact(value) == value, "\(span.operationName): \(key) looks like an identity number: \(value)")
                    for number in Self.identityNumbers {
                        #expect(!value.contains(number), "\(span.operationName): \(key) holds \(number)")
                    }
                }
            }
            #expect(texts > 100)
            // The correlation id is kept, masked as a log line masks it.
            #expect(spans.contains { $0.attributes.get("statusbro.correlation_id") == .string("************") })
        }
    }

    /// An attribute as the text an exporter would send.
    static func text(_ attribute: SpanAttribute) -> String {
        switch attribute {
        case .string(let value): value
        case .stringArray(let values): values.joined(separator: ",")
        case .stringConvertible(let value): value.description
        case .int64(let value): String(value)
        case .int32(let value): String(value)
        case .double(let value): String(value)
        case .bool(let value): String(value)
        default: "\(attribute)"
        }
    }
}
