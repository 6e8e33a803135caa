import Foundation
import HTTPTypes
import Hummingbird
import StatusCore
import StatusRules
import StatusTestSupport
import Testing

@Suite("The console's overview statistics over HTTP")
struct StatisticsTests {
    /// `(status, cases)` pairs of a `byStatus` or `(category, cases)` of a `byCategory` list.
    static func counts(_ list: JSONValue?, _ key: String) -> [String: Int] {
        var result: [String: Int] = [:]
        for entry in list?.arrayValue ?? [] {
            guard let name = entry[key]?.stringValue, case .number(let cases)? = entry["cases"] else { continue }
            result[name] = Int(cases)
        }
        return result
    }

    /// A JSON number as an integer (0 when it is not one).
    static func number(_ value: JSONValue?) -> Int {
        if case .number(let number)? = value { return Int(number) }
        return 0
    }

    @Test("cases per status and category follow the active rules, list every status, and leave withdrawn cases out")
    func cases() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let ecos = try await h.key("sundsvall", "ecos")
            let admin = try await h.key("sundsvall", "municipality-admin")
            let auditor = try await h.key("sundsvall", "auditor")
            for (n, code) in ["ANM", "ANSÖKAN", "KOMPTEK", "KOMPTEK", "SLU"].enumerated() {
                #expect(
                    try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "S-\(n)", status: code)).status == .created
                )
            }
            _ = try await h.post("/api/v1/events", key: ecos, Harness.event(source: "ECOS", externalCaseId: "E-1", status: "Komplettering"))
            // A withdrawn case is not counted.
            _ = try await h.post(
                "/api/v1/events", key: byggr,
                Harness.event(externalCaseId: "S-4", status: "SLU", occurredAt: "2024-04-24T10:00:00+02:00", changeType: "Delete"))

            let before = try await h.get("/admin/v1/stats/cases", key: auditor)
            #expect(before.status == .ok && before.text.hasPrefix("{\"rulesVersion\":1,\"total\":5,\"byStatus\":["))
            #expect(
                Self.counts(before.json["byStatus"], "status") == [
                    "Inskickat": 2, "Under behandling": 0, "Väntar på komplettering": 0, "Kompletterad": 3, "Klart": 0,
                    "Ärendet arkiveras": 0,
                ])
            #expect(before.json["byStatus"]?.arrayValue?.first?["category"] == .string("Mottagningskvittens"))
            let categories = Self.counts(before.json["byCategory"], "category")
            #expect(categories["Mottagningskvittens"] == 2 && categories["Svar"] == 3 && categories["Beslut"] == 0)
            #expect(before.json["byCategory"]?.arrayValue?.count == 10, "every category of the rules, in their order")

            // A publish that re-maps KOMPTEK moves its two cases at once, as every face shows them.
            #expect(
                try await h.publishSundsvall(adminKey: admin, baseVersion: 1) {
                    $0.sources["BYGGR"]!.codes["KOMPTEK"] = "Under behandling"
                }.status == .created)
            let after = try await h.get("/admin/v1/stats/cases", key: admin)
            #expect(after.json["rulesVersion"] == .number(2) && after.json["total"] == .number(5))
            let statuses = Self.counts(after.json["byStatus"], "status")
            #expect(statuses["Under behandling"] == 2 && statuses["Kompletterad"] == 1)
            #expect(Self.counts(after.json["byCategory"], "category")["Upplysning"] == 2)

            #expect(try await h.get("/admin/v1/stats/cases", key: byggr).code == "FORBIDDEN")
            #expect(try await h.get("/admin/v1/stats/cases", key: nil).code == "UNAUTHENTICATED")
            // Another tenant counts only its own cases.
            let bergen = try await h.get("/admin/v1/stats/cases", key: try await h.key("bergen", "auditor"))
            #expect(bergen.json["total"] == .number(0) && bergen.json["byStatus"]?.arrayValue?.first?["status"] == .string("Mottatt"))
        }
    }

    @Test("events accepted and dead-lettered per hour: every hour of the window, the current one last, bad windows 400")
    func ingest() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let auditor = try await h.key("sundsvall", "auditor")
            for n in 0..<3 { _ = try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "I-\(n)", status: "ANM")) }
            for n in 0..<2 {
                let parked = try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "P-\(n)", status: "NYKOD"))
                #expect(parked.code == "UNMAPPED_STATUS")
            }
            let reply = try await h.get("/admin/v1/stats/ingest", key: auditor)
            #expect(reply.status == .ok && reply.text.hasPrefix("{\"from\":\""))
            let hours = reply.json["perHour"]?.arrayValue ?? []
            #expect(hours.count == 72)
            #expect(hours.allSatisfy { $0["hour"]?.stringValue?.hasSuffix(":00:00Z") == true })
            // The events are in the current hour (or the one before, when the test straddles the hour).
            let recent = hours.suffix(2)
            #expect(recent.map { Self.number($0["accepted"]) }.reduce(0, +) == 3)
            #expect(recent.map { Self.number($0["deadLettered"]) }.reduce(0, +) == 2)
            #expect(reply.json["accepted"] == .number(3) && reply.json["deadLettered"] == .number(2))
            let lastStart = try #require(hours.last?["hour"]?.stringValue.flatMap(RFC3339.parse))
            #expect(Date().timeIntervalSince(lastStart) >= 0 && Date().timeIntervalSince(lastStart) < 3600)
            #expect(reply.json["to"]?.stringValue.flatMap(RFC3339.parse) == lastStart.addingTimeInterval(3600))
            #expect(reply.json["from"]?.stringValue.flatMap(RFC3339.parse) == lastStart.addingTimeInterval(-71 * 3600))

            let one = try await h.get("/admin/v1/stats/ingest?hours=1", key: auditor)
            #expect(one.json["perHour"]?.arrayValue?.count == 1 && one.json["accepted"] == .number(3))
            #expect(try await h.get("/admin/v1/stats/ingest?hours=720", key: auditor).json["perHour"]?.arrayValue?.count == 720)
            for bad in ["hours=0", "hours=721", "hours=-1", "hours=three", "hours=1.5", "hours=1&hours=2", "hours="] {
                let refused = try await h.get("/admin/v1/stats/ingest?\(bad)", key: auditor)
                #expect(refused.status == .badRequest && refused.code == "VALIDATION_FAILED", "\(bad)")
            }
            #expect(try await h.get("/admin/v1/stats/ingest", key: byggr).code == "FORBIDDEN")
            let other = try await h.get("/admin/v1/stats/ingest?hours=1", key: try await h.key("bergen", "auditor"))
            #expect(other.json["accepted"] == .number(0) && other.json["deadLettered"] == .number(0))
        }
    }

    @Test("pending dead letters per code carry the source codes; a replay after the fix empties them")
    func deadLetters() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let admin = try await h.key("sundsvall", "municipality-admin")
            let auditor = try await h.key("sundsvall", "auditor")
            #expect(try await h.get("/admin/v1/stats/deadletters", key: auditor).text == "{\"pending\":0,\"byCode\":[]}")
            for n in 0..<2 { _ = try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "D-\(n)", status: "ÄNDRAD")) }
            _ = try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "D-2", status: "SAKNAS"))
            // Klart → Inskickat is not allowed.
            _ = try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "D-3", status: "SLU"))
            let illegal = try await h.post(
                "/api/v1/events", key: byggr, Harness.event(externalCaseId: "D-3", status: "ANM", occurredAt: "2024-04-24T12:00:00+02:00"))
            #expect(illegal.code == "ILLEGAL_TRANSITION")

            let tally = try await h.get("/admin/v1/stats/deadletters", key: auditor)
            #expect(tally.status == .ok && tally.json["pending"] == .number(4))
            let codes = tally.json["byCode"]?.arrayValue ?? []
            #expect(codes.map { $0["code"] } == [.string("UNMAPPED_STATUS"), .string("ILLEGAL_TRANSITION")])
            #expect(codes.first?["count"] == .number(3))
            let subjects = codes.first?["subjects"]?.arrayValue ?? []
            #expect(
                subjects.map { [$0["sourceSystem"], $0["rawStatus"], $0["count"]] } == [
                    [.string("BYGGR"), .string("ÄNDRAD"), .number(2)], [.string("BYGGR"), .string("SAKNAS"), .number(1)],
                ])
            #expect(codes.last?["subjects"]?.arrayValue?.first?["rawStatus"] == .string("ANM"))
            #expect(codes.first?["oldest"]?.stringValue != nil && codes.first?["newest"]?.stringValue != nil)

            _ = try await h.publishSundsvall(adminKey: admin, baseVersion: 1) { $0.sources["BYGGR"]!.codes["ÄNDRAD"] = "Under behandling" }
            _ = try await h.request(.post, "/api/v1/deadletters/replay", key: admin)
            let after = try await h.get("/admin/v1/stats/deadletters", key: auditor)
            #expect(after.json["pending"] == .number(2))
            let unmapped = after.json["byCode"]?.arrayValue?.first { $0["code"] == .string("UNMAPPED_STATUS") }
            #expect(unmapped?["subjects"]?.arrayValue?.map { $0["rawStatus"] } == [.string("SAKNAS")])
            #expect(try await h.get("/admin/v1/stats/deadletters", key: byggr).code == "FORBIDDEN")
            let other = try await h.get("/admin/v1/stats/deadletters", key: try await h.key("bergen", "auditor"))
            #expect(other.text == "{\"pending\":0,\"byCode\":[]}")
        }
    }

    @Test("a DiBK message's source code is its milestone, or its last outcome as UTFALL:<type>")
    func dibkSubjects() async throws {
        try await Harness.run { h in
            let vendor = try await h.key("bergen", "ebygg-vendor")
            _ = try await h.post("/dibk/api/v1/kvittering", key: vendor, NorwayTests.receipt)
            let milestone = try await h.post(
                "/dibk/api/v1/oppdatering", key: vendor, NorwayTests.update(nil, at: "2024-05-03T09:00:00Z", "\"milepæl\":\"RS\""))
            #expect(milestone.code == "UNMAPPED_STATUS")
            let outcome = try await h.post(
                "/dibk/api/v1/oppdatering", key: vendor,
                NorwayTests.update(
                    nil, at: "2024-05-04T09:00:00Z",
                    "\"utfall\":[{\"sjekkpunktId\":\"1\",\"utfallType\":\"MANGEL\",\"beskrivelse\":\"a\"},{\"sjekkpunktId\":\"2\",\"utfallType\":\"UKJENT\",\"beskrivelse\":\"b\"}]"
                ))
            #expect(outcome.code == "UNMAPPED_STATUS")
            let tally = try await h.get("/admin/v1/stats/deadletters", key: try await h.key("bergen", "auditor"))
            let subjects = tally.json["byCode"]?.arrayValue?.first?["subjects"]?.arrayValue ?? []
            #expect(
                Set(subjects.compactMap { s in s["rawStatus"]?.stringValue.map { "\(s["sourceSystem"]?.stringValue ?? "-") \($0)" } }) == [
                    "DIBK RS", "DIBK UTFALL:UKJENT",
                ])
        }
    }
}
