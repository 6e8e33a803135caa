import Foundation
import HTTPTypes
import Hummingbird
import StatusRules
import StatusTestSupport
import Testing

@Suite("Event backfill (POST /api/v1/events:batch)")
struct BatchTests {
    static let ndjson: HTTPFields = [.contentType: "application/x-ndjson"]

    func batch(_ h: Harness, key: String, _ lines: [String]) async throws -> Reply {
        try await h.request(
            .post, "/api/v1/events:batch", key: key, json: lines.joined(separator: "\n") + "\n", contentType: "application/x-ndjson")
    }

    static func results(_ reply: Reply) -> [Int: JSONValue] {
        var byLine: [Int: JSONValue] = [:]
        for result in reply.json["results"]?.arrayValue ?? [] {
            if case .number(let line)? = result["line"] { byLine[Int(line)] = result }
        }
        return byLine
    }

    static func status(_ result: JSONValue?) -> Int? {
        if case .number(let status)? = result?["status"] { return Int(status) }
        return nil
    }

    @Test("good, duplicate, conflicting, unmapped, malformed and forbidden lines each get their own result; a rerun changes nothing")
    func mixedBatch() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let admin = try await h.key("sundsvall", "municipality-admin")
            let first = UUID().uuidString.lowercased()
            let before = UUID().uuidString.lowercased()
            let sentAlone = Harness.event(
                messageId: before, externalCaseId: "BATCH-2", status: "ANM", occurredAt: "2024-05-01T08:00:00Z")
            #expect(try await h.post("/api/v1/events", key: byggr, sentAlone).status == .created)

            let good = Harness.event(messageId: first, externalCaseId: "BATCH-1", status: "ANM", occurredAt: "2024-05-01T08:00:00Z")
            let lines = [
                good,  // 1
                "",  // 2: blank, skipped but counted
                Harness.event(externalCaseId: "BATCH-1", status: "KOMP", occurredAt: "2024-05-02T08:00:00Z"),  // 3
                good,  // 4: the same event again in the same batch
                Harness.event(messageId: first, externalCaseId: "BATCH-1", status: "UNDER"),  // 5: its id, another body
                Harness.event(externalCaseId: "BATCH-3", status: "GRANSK"),  // 6: unmapped
                "{\"messageId\": \"not json",  // 7 (a bare null, line 12, is kept as text too)
                Harness.event(externalCaseId: "BATCH-4", status: "ANM", organisationNumber: "5564900009"),  // 8: bad check digit
                sentAlone,  // 9: accepted before, alone
                Harness.event(source: "ECOS", externalCaseId: "BATCH-5", status: "Anmälan"),  // 10: a source this key may not write
                Harness.event(externalCaseId: "BATCH-1", status: "ANM", occurredAt: "2024-04-01T08:00:00Z"),  // 11: older than the last
                "null",  // 12
            ]
            let reply = try await batch(h, key: byggr, lines)
            #expect(reply.status == .ok)
            let results = Self.results(reply)
            #expect(results.keys.sorted() == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
            #expect(Self.status(results[1]) == 201 && results[1]?["receipt"]?["status"] == .string("Inskickat"))
            #expect(Self.status(results[3]) == 201 && results[3]?["receipt"]?["status"] == .string("Väntar på komplettering"))
            #expect(Self.status(results[4]) == 200 && results[4]?["receipt"] == results[1]?["receipt"])
            #expect(Self.status(results[5]) == 409 && results[5]?["problem"]?["code"] == .string("DUPLICATE_MESSAGE_CONFLICT"))
            #expect(Self.status(results[6]) == 422 && results[6]?["problem"]?["code"] == .string("UNMAPPED_STATUS"))
            #expect(Self.status(results[7]) == 400 && results[7]?["problem"]?["code"] == .string("VALIDATION_FAILED"))
            #expect(Self.status(results[8]) == 400 && results[8]?["problem"]?["code"] == .string("INVALID_IDENT"))
            #expect(Self.status(results[9]) == 200 && results[9]?["receipt"]?["messageId"] == .string(before))
            #expect(Self.status(results[10]) == 403 && results[10]?["problem"]?["code"] == .string("FORBIDDEN"))
            #expect(Self.status(results[11]) == 201 && results[11]?["receipt"]?["applied"] == .bool(false))
            #expect(Self.status(results[12]) == 400 && results[12]?["problem"]?["code"] == .string("VALIDATION_FAILED"))
            for line in [6, 7, 8, 12] { #expect(results[line]?["problem"]?["deadLetterId"]?.stringValue != nil) }
            for line in [5, 10] { #expect(results[line]?["problem"]?["deadLetterId"] == nil) }
            #expect(reply.json["accepted"] == .number(3) && reply.json["replayed"] == .number(2) && reply.json["refused"] == .number(6))

            let portal = try await h.key("sundsvall", "oep-portal")
            #expect(try await h.get("/casestatus/1.0/BATCH-1/oepstatus", key: portal).json["value"] == .string("Väntar på komplettering"))
            let history = try await h.get("/api/v1/cases/BATCH-1/history", key: admin).json.arrayValue ?? []
            #expect(history.map { $0["rawStatus"] } == [.string("ANM"), .string("KOMP"), .string("ANM")])
            let pending = try await h.get("/api/v1/deadletters?state=pending", key: admin).json.arrayValue ?? []
            #expect(pending.count == 4)
            #expect(pending.contains { $0["payload"] == .string("{\"messageId\": \"not json") })
            #expect(pending.contains { $0["payload"] == .string("null") })
            let feed = try await h.get("/api/v1/changes?limit=100", key: admin).json["changes"]?.arrayValue ?? []

            // The same batch again: every accepted event answers with its first receipt, the
            // refused ones find their dead letters, and nothing is written twice.
            let again = try await batch(h, key: byggr, lines)
            let rerun = Self.results(again)
            for line in [1, 3, 4, 9, 11] {
                #expect(Self.status(rerun[line]) == 200 && rerun[line]?["receipt"] == (line == 4 ? results[1] : results[line])?["receipt"])
            }
            for line in [5, 6, 7, 8, 10, 12] { #expect(Self.status(rerun[line]) == Self.status(results[line])) }
            for line in [6, 7, 8, 12] { #expect(rerun[line]?["problem"]?["deadLetterId"] == results[line]?["problem"]?["deadLetterId"]) }
            #expect((try await h.get("/api/v1/cases/BATCH-1/history", key: admin).json.arrayValue ?? []).count == 3)
            #expect((try await h.get("/api/v1/deadletters?state=pending", key: admin).json.arrayValue ?? []).count == 4)
            #expect((try await h.get("/api/v1/changes?limit=100", key: admin).json["changes"]?.arrayValue ?? []).count == feed.count)
        }
    }

    @Test("a batch decides exactly as the same events sent one by one: statuses, refusals, history and feed")
    func sameAsSingle() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let admin = try await h.key("sundsvall", "municipality-admin")
            // Per case: created, moved on, an older event, decided, a forbidden move back, archived,
            // withdrawn, brought back.
            let story: [(String, String, String?)] = [
                ("ANM", "2024-05-01T08:00:00Z", nil), ("KOMP", "2024-05-02T08:00:00Z", nil), ("UNDER", "2024-04-30T08:00:00Z", nil),
                ("UAB", "2024-05-03T08:00:00Z", nil), ("ANM", "2024-05-04T08:00:00Z", nil), ("NYKOD", "2024-05-04T09:00:00Z", nil),
                ("Avslutat", "2024-05-05T08:00:00Z", nil), ("Avslutat", "2024-05-06T08:00:00Z", "Delete"),
                ("ANM", "2024-05-07T08:00:00Z", "Create"),
            ]
            var single: [(Int, String?, JSONValue?)] = []
            for (code, at, change) in story {
                let reply = try await h.post(
                    "/api/v1/events", key: byggr,
                    Harness.event(externalCaseId: "ALONE", status: code, occurredAt: at, changeType: change))
                single.append((Int(reply.status.code), reply.code, reply.json["applied"]))
            }
            let lines = story.map { code, at, change in
                Harness.event(externalCaseId: "TOGETHER", status: code, occurredAt: at, changeType: change)
            }
            let results = Self.results(try await batch(h, key: byggr, lines))
            let together = (1...story.count).map { line -> (Int, String?, JSONValue?) in
                let result = results[line]
                return (Self.status(result) ?? 0, result?["problem"]?["code"]?.stringValue, result?["receipt"]?["applied"])
            }
            #expect(together.map(\.0) == single.map(\.0))
            #expect(together.map(\.1) == single.map(\.1))
            #expect(together.map(\.2) == single.map(\.2))
            #expect(single.map(\.1).contains("ILLEGAL_TRANSITION") && single.map(\.1).contains("UNMAPPED_STATUS"))

            func view(_ id: String) async throws -> (JSONValue?, [JSONValue], [JSONValue]) {
                func pick(_ value: JSONValue, _ keys: [String]) -> JSONValue { .array(keys.map { value[$0] ?? .null }) }
                let shown = try await h.get("/api/v1/cases/\(id)", key: admin).json
                let history = try await h.get("/api/v1/cases/\(id)/history", key: admin).json.arrayValue ?? []
                let feed = (try await h.get("/api/v1/changes?limit=1000", key: admin).json["changes"]?.arrayValue ?? [])
                    .filter { $0["externalCaseId"] == .string(id) }
                return (
                    shown["status"], history.map { pick($0, ["rawStatus", "status", "applied", "changeType"]) },
                    feed.map { pick($0, ["status", "reason"]) }
                )
            }
            let alone = try await view("ALONE")
            let batched = try await view("TOGETHER")
            #expect(alone.0 == batched.0 && alone.1 == batched.1 && alone.2 == batched.2)
            #expect(alone.1.count == 7 && alone.2.count == 6)
        }
    }

    @Test("a batch large enough to be copied into PostgreSQL keeps every character: tabs, backslashes, \\N, å")
    func copiedBatchKeepsText() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let admin = try await h.key("sundsvall", "municipality-admin")
            // Identifiers may not hold control characters; the line's own text (tabs between tokens,
            // escapes inside strings) and a parked line carry the rest.
            let tricky = "Bygg\\lov \\N \\t å \u{1F600}"
            var lines = (0..<40).map { n in
                Harness.event(externalCaseId: "COPY-\(n)", status: "ANM", caseType: tricky)
                    .replacingOccurrences(of: ",", with: ",\t")  // a literal tab between tokens is JSON whitespace
            }
            let malformed = "{\"messageId\":\t\"x\\\\y\", \"note\": \"\\N\\t\" "
            lines.append(malformed)
            let reply = try await batch(h, key: byggr, lines)
            #expect(reply.json["accepted"] == .number(40) && reply.json["refused"] == .number(1), "\(reply.text.prefix(600))")
            let shown = try await h.get("/api/v1/cases/COPY-7", key: admin)
            #expect(shown.json["caseType"] == .string(tricky))
            let parked = try await h.get("/api/v1/deadletters?state=pending", key: admin).json.arrayValue ?? []
            #expect(parked.count == 1 && parked.first?["payload"] == .string(malformed))
        }
    }

    @Test("a body that is not a batch gets a precise problem: empty, not an array, too many events, too large, wrong media type")
    func badBodies() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let empty = try await batch(h, key: byggr, ["", "  "])
            #expect(empty.status == .badRequest && empty.code == "VALIDATION_FAILED")
            let object = try await h.request(
                .post, "/api/v1/events:batch", key: byggr, json: Harness.event(externalCaseId: "X", status: "ANM"))
            #expect(object.status == .badRequest && object.code == "VALIDATION_FAILED")
            let broken = try await h.request(.post, "/api/v1/events:batch", key: byggr, json: "[{")
            #expect(broken.status == .badRequest && broken.code == "VALIDATION_FAILED")
            let tooMany = try await batch(h, key: byggr, Array(repeating: "{}", count: 10_001))
            #expect(tooMany.status == .badRequest && tooMany.json["detail"]?.stringValue?.contains("10000") == true)
            let huge = try await h.request(
                .post, "/api/v1/events:batch", key: byggr, contentType: "application/x-ndjson",
                bytes: [UInt8](repeating: 0x20, count: (32 << 20) + 1))
            #expect(huge.status == .contentTooLarge && huge.code == "PAYLOAD_TOO_LARGE")
            let text = try await h.request(.post, "/api/v1/events:batch", key: byggr, json: "hello", contentType: "text/plain")
            #expect(text.status == .unsupportedMediaType && text.code == "UNSUPPORTED_MEDIA_TYPE")
            let portal = try await h.key("sundsvall", "oep-portal")
            #expect(try await batch(h, key: portal, [Harness.event(externalCaseId: "X", status: "ANM")]).status == .forbidden)

            // A JSON array works like NDJSON, positions counting from 1.
            let array = try await h.request(
                .post, "/api/v1/events:batch", key: byggr,
                json: "[" + Harness.event(externalCaseId: "ARRAY-1", status: "ANM") + ",{\"status\":1}]")
            #expect(Self.status(Self.results(array)[1]) == 201 && Self.status(Self.results(array)[2]) == 400)
        }
    }
}
