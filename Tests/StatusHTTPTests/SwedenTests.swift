import Foundation
import Hummingbird
import StatusRules
import StatusTestSupport
import Testing

@Suite("The Swedish CaseStatus face")
struct SwedenTests {
    @Test("every Byggr and Ecos code of sundsvall.yaml, ingested and read back through all three endpoints, byte for byte")
    func everyCode() async throws {
        try await Harness.run { h in
            let writer = try await h.key("sundsvall", "municipality-admin")
            let portal = try await h.key("sundsvall", "oep-portal")
            // municipality-admin may not write events; give the writers their own keys.
            let byggr = try await h.key("sundsvall", "byggr")
            let ecos = try await h.key("sundsvall", "ecos")
            _ = writer
            let document = try TestDatabase.document("sundsvall")
            var expected: [(id: String, flow: String, status: String, minute: Int)] = []
            var minute = 0
            for source in ["BYGGR", "ECOS"] {
                for code in document.sources[source]!.codes.keys.sorted() {
                    let id = "\(source)-\(code)"
                    let flow = "F\(minute)"
                    let at = String(format: "2024-04-23T10:%02d:00Z", minute)
                    let reply = try await h.post(
                        "/api/v1/events", key: source == "BYGGR" ? byggr : ecos,
                        Harness.event(
                            source: source, externalCaseId: id, status: code, occurredAt: at, flowInstanceId: flow,
                            organisationNumber: "5564900008"))
                    #expect(reply.status == .created, "\(id): \(reply.text)")
                    expected.append((id, flow, document.sources[source]!.codes[code]!, minute))
                    minute += 1
                }
            }
            #expect(expected.count == 17)
            for prefix in ["/casestatus/1.0/", "/caseStatus/1.0/api/"] {
                for e in expected {
                    let statusJSON =
                        "{\"caseType\":\"Nybyggnadskarta\",\"id\":\"\(e.id)\",\"status\":\"\(e.status)\",\"lastStatusChange\":\"2024-04-23 12:\(String(format: "%02d", e.minute))\"}"
                    let oep = "{\"key\":\"status\",\"value\":\"\(e.status)\"}"
                    let byFlow = try await h.get(prefix + e.flow + "/oepstatus", key: portal)
                    #expect(byFlow.status == .ok && byFlow.text == oep, "\(e.id) \(byFlow.text)")
                    #expect(byFlow.headers[.contentType] == "application/json; charset=utf-8")
                    let byId = try await h.get(prefix + segment(e.id) + "/oepstatus", key: portal)
                    #expect(byId.text == oep)
                    let status = try await h.get(prefix + segment(e.id) + "/status", key: portal)
                    #expect(status.status == .ok && status.text == statusJSON, "\(status.text)")
                }
                let all = expected.reversed().map {
                    "{\"caseType\":\"Nybyggnadskarta\",\"id\":\"\($0.id)\",\"status\":\"\($0.status)\",\"lastStatusChange\":\"2024-04-23 12:\(String(format: "%02d", $0.minute))\"}"
                }
                for form in ["5564900008", "556490-0008", "165564900008"] {
                    let statuses = try await h.get(prefix + form + "/statuses", key: portal)
                    #expect(statuses.status == .ok)
                    #expect(statuses.text == "[" + all.joined(separator: ",") + "]")
                }
            }
        }
    }

    @Test("an organisation without cases is [], a bad organisation number is INVALID_IDENT, another version is 404")
    func edges() async throws {
        try await Harness.run { h in
            let portal = try await h.key("sundsvall", "oep-portal")
            #expect(try await h.get("/casestatus/1.0/2021005489/statuses", key: portal).text == "[]")
            for bad in ["5564900009", "55649000", "556490-000X", "255564900008", "' OR 1=1 --"] {
                let reply = try await h.get("/casestatus/1.0/\(segment(bad))/statuses", key: portal)
                #expect(reply.status == .badRequest && reply.code == "INVALID_IDENT", "\(bad): \(reply.text)")
                #expect(reply.headers[.contentType] == "application/problem+json; charset=utf-8")
            }
            #expect(try await h.get("/casestatus/2.0/X/status", key: portal).code == "NOT_FOUND")
            #expect(try await h.get("/casestatus/1.0/NO-SUCH-CASE/status", key: portal).status == .notFound)
            #expect(try await h.get("/casestatus/1.0/NO-SUCH-CASE/oepstatus", key: portal).code == "NOT_FOUND")
        }
    }

    @Test("a mapping corrected by a publish changes what an existing case shows, at once")
    func correctedMapping() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let portal = try await h.key("sundsvall", "oep-portal")
            let admin = try await h.key("sundsvall", "municipality-admin")
            _ = try await h.post(
                "/api/v1/events", key: byggr,
                Harness.event(externalCaseId: "BYGG 2024-1", status: "KOMPTEK", organisationNumber: "5564900008"))
            // All three reads, so each is cached before the publish.
            #expect(try await h.get("/casestatus/1.0/BYGG%202024-1/oepstatus", key: portal).json["value"] == .string("Kompletterad"))
            #expect(try await h.get("/casestatus/1.0/BYGG%202024-1/status", key: portal).json["status"] == .string("Kompletterad"))
            #expect(
                try await h.get("/casestatus/1.0/5564900008/statuses", key: portal).json.arrayValue?.first?["status"]
                    == .string("Kompletterad"))
            let published = try await h.publishSundsvall(adminKey: admin, baseVersion: 1) {
                $0.sources["BYGGR"]!.codes["KOMPTEK"] = "Under behandling"
            }
            #expect(published.status == .created && published.text == "{\"version\":2}")
            #expect(try await h.get("/casestatus/1.0/BYGG%202024-1/oepstatus", key: portal).json["value"] == .string("Under behandling"))
            #expect(try await h.get("/casestatus/1.0/BYGG%202024-1/status", key: portal).json["status"] == .string("Under behandling"))
            #expect(
                try await h.get("/casestatus/1.0/5564900008/statuses", key: portal).json.arrayValue?.first?["status"]
                    == .string("Under behandling"))
            let view = try await h.get("/api/v1/cases/BYGG%202024-1", key: admin).json
            #expect(view["ruleVersion"] == .number(2) && view["category"] == .string("Upplysning"))
            // History keeps what was in force when the event was recorded.
            let history = try await h.get("/api/v1/cases/BYGG%202024-1/history", key: admin).json.arrayValue ?? []
            #expect(history.first?["status"] == .string("Kompletterad") && history.first?["ruleVersion"] == .number(1))
        }
    }
}
