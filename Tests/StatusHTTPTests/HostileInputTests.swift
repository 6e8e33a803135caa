import Foundation
import HTTPTypes
import Hummingbird
import StatusRules
import StatusTestSupport
import Testing

/// One bad request and the answer the contract promises.
struct HostileCase: Sendable, CustomStringConvertible {
    enum Credential: Sendable { case none, writer, portal, admin, vendor, applicant, garbage(String), header(String, String) }
    enum Body: Sendable { case none, text(String), bytes([UInt8]) }

    var name: String
    var method: HTTPRequest.Method
    var path: String
    var credential: Credential
    var body: Body = .none
    var contentType: String? = "application/json"
    var status: HTTPResponse.Status
    var code: String?

    var description: String { name }
}

let validEvent =
    #"{"messageId":"8540d774-4863-4d2b-b788-4ecb19412e85","sourceSystem":"BYGGR","externalCaseId":"H-1","caseType":"Bygglov","status":"ANM","occurredAt":"2024-04-23T12:47:17+02:00"}"#

/// The valid event with one member set to `rawValue`, written as raw JSON text (so it may be
/// something no JSON parser accepts).
func eventWith(_ key: String, _ rawValue: String) -> String {
    var members: [(String, String)] = [
        ("messageId", #""8540d774-4863-4d2b-b788-4ecb19412e85""#), ("sourceSystem", #""BYGGR""#), ("externalCaseId", #""H-1""#),
        ("caseType", #""Bygglov""#), ("status", #""ANM""#), ("occurredAt", #""2024-04-23T12:47:17+02:00""#),
    ]
    if let index = members.firstIndex(where: { $0.0 == key }) {
        members[index].1 = rawValue
    } else {
        members.append((key, rawValue))
    }
    return "{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
}

let hostileCases: [HostileCase] = [
    // Event ingestion: bodies.
    .init(
        name: "malformed JSON", method: .post, path: "/api/v1/events", credential: .writer, body: .text("{"), status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "truncated JSON", method: .post, path: "/api/v1/events", credential: .writer, body: .text(String(validEvent.prefix(60))),
        status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "a JSON array", method: .post, path: "/api/v1/events", credential: .writer, body: .text("[]"), status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "a JSON string", method: .post, path: "/api/v1/events", credential: .writer, body: .text("\"event\""), status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "JSON null", method: .post, path: "/api/v1/events", credential: .writer, body: .text("null"), status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "an empty body", method: .post, path: "/api/v1/events", credential: .writer, body: .text(""), status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "an empty object", method: .post, path: "/api/v1/events", credential: .writer, body: .text("{}"), status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "messageId a number", method: .post, path: "/api/v1/events", credential: .writer, body: .text(eventWith("messageId", "123")),
        status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "occurredAt a number", method: .post, path: "/api/v1/events", credential: .writer,
        body: .text(eventWith("occurredAt", "1713869237")), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "status an object", method: .post, path: "/api/v1/events", credential: .writer,
        body: .text(eventWith("status", "{\"code\":\"ANM\"}")), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "unknown changeType", method: .post, path: "/api/v1/events", credential: .writer,
        body: .text(eventWith("changeType", "\"Remove\"")), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "unknown field", method: .post, path: "/api/v1/events", credential: .writer, body: .text(eventWith("statsu", "\"ANM\"")),
        status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "invalid UTF-8", method: .post, path: "/api/v1/events", credential: .writer,
        body: .bytes(Array(#"{"messageId":""#.utf8) + [0xC3, 0x28, 0xFF] + Array(#""}"#.utf8)), status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "a 10 MB body", method: .post, path: "/api/v1/events", credential: .writer,
        body: .text("{\"pad\":\"" + String(repeating: "x", count: 10_000_000) + "\"}"), status: .contentTooLarge, code: "PAYLOAD_TOO_LARGE"),
    .init(
        name: "text/plain", method: .post, path: "/api/v1/events", credential: .writer, body: .text(validEvent), contentType: "text/plain",
        status: .unsupportedMediaType, code: "UNSUPPORTED_MEDIA_TYPE"),
    .init(
        name: "application/xml", method: .post, path: "/api/v1/events", credential: .writer, body: .text("<event/>"),
        contentType: "application/xml", status: .unsupportedMediaType, code: "UNSUPPORTED_MEDIA_TYPE"),
    .init(
        name: "no content type", method: .post, path: "/api/v1/events", credential: .writer, body: .text(validEvent), contentType: nil,
        status: .unsupportedMediaType, code: "UNSUPPORTED_MEDIA_TYPE"),
    .init(
        name: "a date that does not exist", method: .post, path: "/api/v1/events", credential: .writer,
        body: .text(eventWith("occurredAt", "\"2024-02-30T10:00:00Z\"")), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "a date without offset", method: .post, path: "/api/v1/events", credential: .writer,
        body: .text(eventWith("occurredAt", "\"2024-04-23T10:00:00\"")), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "a UUID cut short", method: .post, path: "/api/v1/events", credential: .writer,
        body: .text(eventWith("messageId", "\"8540d774-4863-4d2b-b788\"")), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "an overlong case id", method: .post, path: "/api/v1/events", credential: .writer,
        body: .text(eventWith("externalCaseId", "\"" + String(repeating: "A", count: 201) + "\"")), status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "a NUL in a case id", method: .post, path: "/api/v1/events", credential: .writer,
        body: .text(eventWith("externalCaseId", "\"a\\u0000b\"")), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "a bad organisation number", method: .post, path: "/api/v1/events", credential: .writer,
        body: .text(eventWith("organisationNumber", "\"5564900009\"")), status: .badRequest, code: "INVALID_IDENT"),
    .init(
        name: "an organisation number with letters", method: .post, path: "/api/v1/events", credential: .writer,
        body: .text(eventWith("organisationNumber", "\"55649O-0008\"")), status: .badRequest, code: "INVALID_IDENT"),
    .init(
        name: "JSON nested 10,000 deep", method: .post, path: "/api/v1/events", credential: .writer,
        body: .text(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)), status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "a number beyond double", method: .post, path: "/api/v1/events", credential: .writer,
        body: .text(eventWith("messageId", "1e999")), status: .badRequest, code: "VALIDATION_FAILED"),
    // The Swedish face: paths.
    .init(
        name: "path traversal in an id", method: .get, path: "/casestatus/1.0/..%2F..%2Fetc%2Fpasswd/status", credential: .portal,
        status: .notFound, code: "NOT_FOUND"),
    .init(
        name: "SQL metacharacters in an id", method: .get, path: "/casestatus/1.0/'%20OR%20'1'%3D'1/status", credential: .portal,
        status: .notFound, code: "NOT_FOUND"),
    .init(
        name: "a NUL in a path id", method: .get, path: "/casestatus/1.0/a%00b/oepstatus", credential: .portal, status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "an overlong path id", method: .get, path: "/casestatus/1.0/" + String(repeating: "x", count: 300) + "/status",
        credential: .portal, status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "broken percent encoding", method: .get, path: "/casestatus/1.0/%ZZ/status", credential: .portal, status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "letters as organisation number", method: .get, path: "/casestatus/1.0/abc/statuses", credential: .portal,
        status: .badRequest, code: "INVALID_IDENT"),
    .init(
        name: "a 12-digit number with a bad century", method: .get, path: "/casestatus/1.0/305564900008/statuses", credential: .portal,
        status: .badRequest, code: "INVALID_IDENT"),
    .init(
        name: "an unknown API version", method: .get, path: "/casestatus/9.9/X/status", credential: .portal, status: .notFound,
        code: "NOT_FOUND"),
    .init(
        name: "an unknown route", method: .get, path: "/casestatus/1.0/X/everything", credential: .portal, status: .notFound,
        code: "NOT_FOUND"),
    // Feed.
    .init(
        name: "a forged offset", method: .get, path: "/api/v1/changes?offset=ZjEuOTk5OTk5OTk5OTk5OTk5OTk5OTk5", credential: .admin,
        status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "a negative limit", method: .get, path: "/api/v1/changes?limit=-1", credential: .admin, status: .badRequest,
        code: "VALIDATION_FAILED"),
    // Rules administration.
    .init(
        name: "baseVersion a word", method: .post, path: "/admin/v1/rules/publish", credential: .admin,
        body: .text(#"{"baseVersion":"one"}"#), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "document a number", method: .post, path: "/admin/v1/rules/publish", credential: .admin,
        body: .text(#"{"baseVersion":1,"document":5}"#), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "a document with an unknown key", method: .post, path: "/admin/v1/rules/publish", credential: .admin,
        body: .text(
            #"{"baseVersion":1,"document":{"tenant":"sundsvall","displayName":"S","country":"SE","timeZone":"Europe/Stockholm","statuses":[],"hacker":true}}"#
        ), status: .unprocessableContent, code: "RULES_INVALID"),
    .init(
        name: "?at= not a date", method: .get, path: "/admin/v1/rules?at=yesterday", credential: .admin, status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "a version that is a word", method: .get, path: "/admin/v1/rules/versions/latest", credential: .admin, status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "a diff without versions", method: .get, path: "/admin/v1/rules/diff?from=x", credential: .admin, status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "simulate without a code", method: .post, path: "/admin/v1/rules/simulate", credential: .admin,
        body: .text(#"{"sourceSystem":"BYGGR"}"#), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "rollback to version -1", method: .post, path: "/admin/v1/rules/rollback", credential: .admin,
        body: .text(#"{"toVersion":-1}"#), status: .badRequest, code: "VALIDATION_FAILED"),
    // Dead letters.
    .init(
        name: "replay of a non-UUID", method: .post, path: "/api/v1/deadletters/1%20OR%201=1/replay", credential: .admin,
        status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "an unknown dead-letter state", method: .get, path: "/api/v1/deadletters?state=everything", credential: .admin,
        status: .badRequest, code: "VALIDATION_FAILED"),
    // The Norwegian face.
    .init(
        name: "a receipt without metadata", method: .post, path: "/dibk/api/v1/kvittering", credential: .vendor,
        body: .text(#"{"milepæl":"MS"}"#), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "an update whose references are not a list", method: .post, path: "/dibk/api/v1/oppdatering", credential: .vendor,
        body: .text(
            #"{"metadata":{"innsendingReferanse":"AR1"},"saksnummer":{"saksaar":"2024","sakssekvensnummer":"1"},"oppdatertDato":"2024-05-01T10:00:00Z"}"#
        ), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "a bad fødselsnummer", method: .post, path: "/dibk/api/v1/kvittering", credential: .vendor,
        body: .text(
            #"{"metadata":{"innsendingReferanse":"AR1"},"saksnummer":{"saksaar":"2024","sakssekvensnummer":"1"},"milepæl":"MS","avsenderKontaktpunkt":{"fodselsnummer":"12345678901"}}"#
        ), status: .badRequest, code: "INVALID_IDENT"),
    .init(
        name: "a year with a letter", method: .get, path: "/dibk/api/v1/status?saksaar=20x4&sakssekvensnummer=1", credential: .applicant,
        status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "an update's UUID cut short", method: .post, path: "/dibk/api/v1/oppdatering", credential: .vendor,
        body: .text(
            #"{"metadata":{"innsendingReferanse":["AR1"],"meldingId":"x"},"saksnummer":{"saksaar":"2024","sakssekvensnummer":"1"},"oppdatertDato":"2024-05-01T10:00:00Z"}"#
        ), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "an update naming a blank submission", method: .post, path: "/dibk/api/v1/oppdatering", credential: .vendor,
        body: .text(
            #"{"metadata":{"innsendingReferanse":["\u00a0"],"meldingId":"8540d774-4863-4d2b-b788-4ecb19412e85"},"saksnummer":{"saksaar":"2024","sakssekvensnummer":"1"},"oppdatertDato":"2024-05-01T10:00:00Z"}"#
        ), status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "an update with an empty ftBID", method: .post, path: "/dibk/api/v1/oppdatering", credential: .vendor,
        body: .text(
            #"{"metadata":{"innsendingReferanse":["AR1"],"ftBID":[""],"meldingId":"8540d774-4863-4d2b-b788-4ecb19412e85"},"saksnummer":{"saksaar":"2024","sakssekvensnummer":"1"},"oppdatertDato":"2024-05-01T10:00:00Z"}"#
        ), status: .badRequest, code: "VALIDATION_FAILED"),
    // Query parameters given twice: which value counts is not guessed (found by the fuzzer).
    .init(
        name: "a feed limit given twice", method: .get, path: "/api/v1/changes?limit=5&limit=x", credential: .admin, status: .badRequest,
        code: "VALIDATION_FAILED"),
    .init(
        name: "a dead-letter state given twice", method: .get, path: "/api/v1/deadletters?state=all&state=bogus", credential: .admin,
        status: .badRequest, code: "VALIDATION_FAILED"),
    .init(
        name: "a Norwegian case year that is not one, beside a reference", method: .get,
        path: "/dibk/api/v1/status?innsendingReferanse=AR1&saksaar=keys", credential: .applicant, status: .badRequest,
        code: "VALIDATION_FAILED"),
    // Credentials.
    .init(
        name: "a 10 kB apikey", method: .get, path: "/api/v1/changes", credential: .garbage(String(repeating: "k", count: 10_000)),
        status: .unauthorized, code: "UNAUTHENTICATED"),
    .init(
        name: "a bearer that looks like a JWT", method: .get, path: "/api/v1/changes",
        credential: .header("Authorization", "Bearer eyJ.eyJ.sig"), status: .unauthorized, code: "UNAUTHENTICATED"),
    .init(
        name: "a key with SQL in it", method: .get, path: "/api/v1/changes",
        credential: .garbage("sbk_sundsvall_' OR 1=1; DROP TABLE api_keys; --xxxxxxxxxxx"), status: .unauthorized, code: "UNAUTHENTICATED"),
    .init(
        name: "a key for a tenant that does not exist", method: .get, path: "/api/v1/changes",
        credential: .garbage("sbk_nowhere_" + String(repeating: "a", count: 43)), status: .unauthorized, code: "UNAUTHENTICATED"),
]

@Suite("Hostile input")
struct HostileInputTests {
    @Test("every bad request gets its documented problem, never a 5xx or an internal detail, and the service stays healthy")
    func table() async throws {
        #expect(hostileCases.count >= 40)
        try await Harness.run { h in
            let keys: [String: String] = [
                "writer": try await h.key("sundsvall", "byggr"), "portal": try await h.key("sundsvall", "oep-portal"),
                "admin": try await h.key("sundsvall", "municipality-admin"), "vendor": try await h.key("bergen", "ebygg-vendor"),
                "applicant": try await h.key("bergen", "applicant-system"),
            ]
            for c in hostileCases {
                var headers = HTTPFields()
                var key: String?
                switch c.credential {
                case .none: break
                case .writer: key = keys["writer"]
                case .portal: key = keys["portal"]
                case .admin: key = keys["admin"]
                case .vendor: key = keys["vendor"]
                case .applicant: key = keys["applicant"]
                case .garbage(let value): key = value
                case .header(let name, let value): headers[HTTPField.Name(name)!] = value
                }
                var json: String?
                var bytes: [UInt8]?
                switch c.body {
                case .none: break
                case .text(let text): json = text
                case .bytes(let raw): bytes = raw
                }
                let reply = try await h.request(
                    c.method, c.path, key: key, json: json, headers: headers, contentType: c.contentType, bytes: bytes)
                #expect(reply.status == c.status, "\(c.name): \(reply.status) \(reply.text.prefix(300))")
                if let code = c.code { #expect(reply.code == code, "\(c.name): \(reply.text.prefix(300))") }
                #expect(reply.status.code < 500, "\(c.name)")
                #expect(reply.headers[.contentType] == "application/problem+json; charset=utf-8", "\(c.name)")
                for leak in ["PSQL", "SQLSTATE", "Swift", "Error(", "Sources/", ".swift"] {
                    #expect(!reply.text.contains(leak), "\(c.name) leaks \(leak)")
                }
            }
            // Data that merely looks dangerous is just data.
            let odd = eventWith("externalCaseId", #""x'; DROP TABLE cases; --""#)
            #expect(try await h.post("/api/v1/events", key: keys["writer"], odd).status == .created)
            #expect(
                try await h.get("/casestatus/1.0/x'%3B%20DROP%20TABLE%20cases%3B%20--/oepstatus", key: keys["portal"]).json["value"]
                    == .string("Inskickat"))
            #expect(try await h.get("/health", key: nil).status == .ok)
            #expect(
                try await h.post("/api/v1/events", key: keys["writer"], Harness.event(externalCaseId: "H-2", status: "ANM")).status
                    == .created)
        }
    }
}
