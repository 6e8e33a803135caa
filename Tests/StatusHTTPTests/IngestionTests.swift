import Foundation
import HTTPTypes
import Hummingbird
import StatusRules
import StatusTestSupport
import Testing

@Suite("Event ingestion and dead letters")
struct IngestionTests {
    @Test("a retry with the same body gets the first receipt unchanged; another body with the same messageId is 409")
    func idempotency() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let id = "8540d774-4863-4d2b-b788-4ecb19412e85"
            let body = Harness.event(messageId: id, externalCaseId: "BYGG 2024-000123", status: "KOMP", flowInstanceId: "771234")
            let first = try await h.post("/api/v1/events", key: byggr, body)
            #expect(first.status == .created)
            let receipt = first.json
            #expect(receipt["messageId"] == .string(id) && receipt["status"] == .string("Väntar på komplettering"))
            #expect(
                receipt["category"] == .string("Kompletteringsbegäran") && receipt["ruleVersion"] == .number(1)
                    && receipt["applied"] == .bool(true))
            #expect(first.text.hasPrefix("{\"messageId\":\"\(id)\",\"caseId\":"))
            // Same body (other key order and spacing): the same receipt, byte for byte, and nothing written twice.
            let reordered = try JSONValue.parse(Data(body.utf8))
            let again = try await h.post(
                "/api/v1/events", key: byggr, " " + JSONValue.object(reordered.objectValue!).canonicalString + "\n")
            #expect(again.status == .ok && again.text == first.text)
            let history = try await h.get(
                "/api/v1/cases/BYGG%202024-000123/history", key: try await h.key("sundsvall", "municipality-admin"))
            #expect(history.json.arrayValue?.count == 1)
            let conflict = try await h.post(
                "/api/v1/events", key: byggr, Harness.event(messageId: id, externalCaseId: "BYGG 2024-000123", status: "UNDER"))
            #expect(conflict.status == .conflict && conflict.code == "DUPLICATE_MESSAGE_CONFLICT")
        }
    }

    @Test("Byggr starts sending a new code: messages park, the mapping is added and published, replay moves the cases on")
    func deadLetterStory() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let admin = try await h.key("sundsvall", "municipality-admin")
            let portal = try await h.key("sundsvall", "oep-portal")
            _ = try await h.post(
                "/api/v1/events", key: byggr, Harness.event(externalCaseId: "B-1", status: "ANM", occurredAt: "2024-05-01T08:00:00Z"))
            var parked: [String] = []
            for n in 1...3 {
                let reply = try await h.post(
                    "/api/v1/events", key: byggr,
                    Harness.event(externalCaseId: "B-\(n)", status: "GRANSK", occurredAt: "2024-05-02T08:0\(n):00Z"))
                #expect(reply.status == .unprocessableContent && reply.code == "UNMAPPED_STATUS")
                parked.append(try #require(reply.json["deadLetterId"]?.stringValue))
            }
            let adminWrite = try await h.post("/api/v1/events", key: admin, Harness.event(externalCaseId: "X", status: "A"))
            #expect(adminWrite.status == .forbidden)  // the admin role does not write events
            let pending = try await h.get("/api/v1/deadletters?state=pending", key: admin).json.arrayValue ?? []
            #expect(pending.compactMap { $0["id"]?.stringValue } == parked)
            #expect(pending.first?["payload"]?["status"] == .string("GRANSK"))
            #expect(try await h.get("/casestatus/1.0/B-1/oepstatus", key: portal).json["value"] == .string("Inskickat"))

            // Replaying before the fix keeps them parked and says why.
            let early = try await h.post("/api/v1/deadletters/\(parked[0])/replay", key: admin, "{}")
            #expect(early.json["outcome"] == .string("rejected") && early.json["code"] == .string("UNMAPPED_STATUS"))

            #expect(
                try await h.publishSundsvall(adminKey: admin, baseVersion: 1) { $0.sources["BYGGR"]!.codes["GRANSK"] = "Under behandling" }
                    .status == .created)
            let replay = try await h.request(.post, "/api/v1/deadletters/replay", key: admin)
            #expect(replay.json["replayed"] == .number(3) && replay.json["accepted"] == .number(3))
            for n in 1...3 {
                #expect(try await h.get("/casestatus/1.0/B-\(n)/oepstatus", key: portal).json["value"] == .string("Under behandling"))
            }
            #expect(try await h.get("/api/v1/deadletters?state=pending", key: admin).json.arrayValue?.isEmpty == true)
            let replayed = try await h.get("/api/v1/deadletters?state=replayed", key: admin).json.arrayValue ?? []
            #expect(
                replayed.count == 3
                    && replayed.allSatisfy { $0["replayResult"]?["outcome"] == .string("accepted") && $0["replayedAt"] != .null })
            // A second replay of one finds nothing left to do, and nothing is applied twice.
            _ = try await h.post("/api/v1/deadletters/\(parked[0])/replay", key: admin, "{}")
            #expect(try await h.get("/api/v1/cases/B-1/history", key: admin).json.arrayValue?.count == 2)
        }
    }

    @Test("an unknown source system is parked too; the same rejected message retried finds its dead letter")
    func unknownSource() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            let writer = try await h.publishSundsvall(adminKey: admin, baseVersion: 1) { $0.roles["all-writer"] = ["events:write"] }
            #expect(writer.status == .created)
            let all = try await h.key("sundsvall", "all-writer")
            let body = Harness.event(source: "SOLEN", externalCaseId: "S-1", status: "X")
            let first = try await h.post("/api/v1/events", key: all, body)
            #expect(first.status == .unprocessableContent && first.code == "UNKNOWN_SOURCE_SYSTEM")
            let second = try await h.post("/api/v1/events", key: all, body)
            #expect(second.json["deadLetterId"] == first.json["deadLetterId"])
            #expect(try await h.get("/api/v1/deadletters", key: admin).json.arrayValue?.count == 1)
        }
    }

    @Test("a forbidden transition is 409 ILLEGAL_TRANSITION, parked, and the case keeps its status")
    func illegalTransition() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let portal = try await h.key("sundsvall", "oep-portal")
            _ = try await h.post(
                "/api/v1/events", key: byggr, Harness.event(externalCaseId: "T-1", status: "UAB", occurredAt: "2024-05-01T08:00:00Z"))
            let reply = try await h.post(
                "/api/v1/events", key: byggr, Harness.event(externalCaseId: "T-1", status: "ANM", occurredAt: "2024-05-02T08:00:00Z"))
            #expect(reply.status == .conflict && reply.code == "ILLEGAL_TRANSITION" && reply.json["deadLetterId"]?.stringValue != nil)
            #expect(try await h.get("/casestatus/1.0/T-1/oepstatus", key: portal).json["value"] == .string("Klart"))
            let archived = try await h.post(
                "/api/v1/events", key: byggr, Harness.event(externalCaseId: "T-1", status: "Avslutat", occurredAt: "2024-05-03T08:00:00Z"))
            #expect(archived.status == .created)
        }
    }

    @Test("an event older than the case's last applied one is kept with applied false and changes nothing")
    func outOfOrder() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let admin = try await h.key("sundsvall", "municipality-admin")
            _ = try await h.post(
                "/api/v1/events", key: byggr, Harness.event(externalCaseId: "O-1", status: "KOMP", occurredAt: "2024-05-02T08:00:00Z"))
            let late = try await h.post(
                "/api/v1/events", key: byggr, Harness.event(externalCaseId: "O-1", status: "ANM", occurredAt: "2024-05-01T08:00:00Z"))
            #expect(late.status == .created && late.json["applied"] == .bool(false))
            let view = try await h.get("/api/v1/cases/O-1", key: admin).json
            #expect(view["rawStatus"] == .string("KOMP") && view["lastStatusChange"] == .string("2024-05-02T08:00:00Z"))
            let history = try await h.get("/api/v1/cases/O-1/history", key: admin).json.arrayValue ?? []
            #expect(history.map { $0["applied"] } == [.bool(true), .bool(false)])
        }
    }

    @Test("Delete withdraws the case (404 afterwards) and keeps its history for audit")
    func delete() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let admin = try await h.key("sundsvall", "municipality-admin")
            let auditor = try await h.key("sundsvall", "auditor")
            _ = try await h.post(
                "/api/v1/events", key: byggr, Harness.event(externalCaseId: "D-1", status: "ANM", occurredAt: "2024-05-01T08:00:00Z"))
            let delete = try await h.post(
                "/api/v1/events", key: byggr,
                Harness.event(externalCaseId: "D-1", status: "ANM", occurredAt: "2024-05-02T08:00:00Z", changeType: "Delete"))
            #expect(delete.status == .created)
            #expect(try await h.get("/api/v1/cases/D-1", key: admin).status == .notFound)
            #expect(try await h.get("/casestatus/1.0/D-1/status", key: try await h.key("sundsvall", "oep-portal")).code == "NOT_FOUND")
            let decisions = try await h.get("/admin/v1/audit/decisions?externalCaseId=D-1&format=json", key: auditor).json.arrayValue ?? []
            #expect(decisions.map { $0["changeType"] } == [.string("Update"), .string("Delete")])
            let feed = try await h.get("/api/v1/changes", key: admin).json["changes"]?.arrayValue ?? []
            #expect(feed.map { $0["reason"] } == [.string("event"), .string("delete")])
        }
    }

    @Test("scoped permissions: events:write:BYGGR may only send BYGGR; a reading role may not write")
    func scopedPermissions() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let ecosFromByggr = try await h.post(
                "/api/v1/events", key: byggr, Harness.event(source: "ECOS", externalCaseId: "E-1", status: "Anmälan"))
            #expect(ecosFromByggr.status == .forbidden && ecosFromByggr.code == "FORBIDDEN")
            let portal = try await h.key("sundsvall", "oep-portal")
            #expect(
                try await h.post("/api/v1/events", key: portal, Harness.event(externalCaseId: "E-1", status: "ANM")).code == "FORBIDDEN")
            #expect(try await h.get("/api/v1/deadletters", key: portal).code == "FORBIDDEN")
        }
    }

    @Test("every bad field is reported at once, with a pointer each")
    func validation() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let reply = try await h.post(
                "/api/v1/events", key: byggr,
                "{\"messageId\":\"not-a-uuid\",\"sourceSystem\":7,\"status\":\"\",\"occurredAt\":\"2024-02-30T10:00:00Z\",\"changeType\":\"Remove\",\"organisationNumber\":\"5564900009\",\"surprise\":true}"
            )
            #expect(reply.status == .badRequest && reply.code == "VALIDATION_FAILED")
            let pointers = Set((reply.json["errors"]?.arrayValue ?? []).compactMap { $0["pointer"]?.stringValue })
            #expect(
                pointers == [
                    "/messageId", "/sourceSystem", "/externalCaseId", "/caseType", "/status", "/occurredAt", "/changeType",
                    "/organisationNumber", "/surprise",
                ])
            let ident = try await h.post(
                "/api/v1/events", key: byggr, Harness.event(externalCaseId: "I-1", status: "ANM", organisationNumber: "5564900009"))
            #expect(ident.code == "INVALID_IDENT")
            #expect(try await h.post("/api/v1/events", key: byggr, "{\"messageId\":").code == "VALIDATION_FAILED")
            #expect(
                try await h.request(.post, "/api/v1/events", key: byggr, json: "messageId=1", contentType: "text/plain").code
                    == "UNSUPPORTED_MEDIA_TYPE")
            let large = "{\"pad\":\"" + String(repeating: "x", count: 1_100_000) + "\"}"
            let tooLarge = try await h.post("/api/v1/events", key: byggr, large)
            #expect(tooLarge.status == .contentTooLarge && tooLarge.code == "PAYLOAD_TOO_LARGE")
        }
    }

    @Test("the correlation id is echoed and stored with the event; one is made when absent")
    func correlation() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let admin = try await h.key("sundsvall", "municipality-admin")
            let reply = try await h.request(
                .post, "/api/v1/events", key: byggr, json: Harness.event(externalCaseId: "C-1", status: "ANM"),
                headers: [HTTPField.Name("Nav-Call-Id")!: "call-4711"])
            #expect(reply.headers[HTTPField.Name("X-Correlation-ID")!] == "call-4711")
            let history = try await h.get("/api/v1/cases/C-1/history", key: admin).json.arrayValue ?? []
            #expect(history.first?["correlationId"] == .string("call-4711"))
            let generated = try await h.get("/health", key: nil)
            #expect(generated.headers[HTTPField.Name("X-Correlation-ID")!]?.count == 36)
        }
    }
}
