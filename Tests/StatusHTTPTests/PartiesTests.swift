import Foundation
import HTTPTypes
import Hummingbird
import StatusRules
import StatusTestSupport
import Testing

/// Helsenorge's "who changed since" (`shared/seeds/004_…`) over the change feed.
@Suite("Parties whose cases changed (/api/v1/changes/parties)")
struct PartiesTests {
    @Test("each party once per page, in order of first change; pages and offsets are the feed's, shared with /changes")
    func pages() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let portal = try await h.key("sundsvall", "oep-portal")
            let events: [(String, String?)] = [
                ("P-1", "556490-0008"), ("P-2", "5564900008"), ("P-3", nil), ("P-4", "2021005489"), ("P-1", "165564900008"),
            ]
            for (n, (id, organisation)) in events.enumerated() {
                let reply = try await h.post(
                    "/api/v1/events", key: byggr,
                    Harness.event(
                        externalCaseId: id, status: n == 4 ? "UNDER" : "ANSÖKAN", occurredAt: "2024-05-0\(n + 1)T08:00:00Z",
                        organisationNumber: organisation))
                #expect(reply.status == .created)
            }
            let all = try await h.get("/api/v1/changes/parties", key: portal)
            #expect(all.status == .ok)
            #expect(all.text.hasPrefix("{\"offset\":\""))
            #expect(all.json["parties"] == .array([.string("5564900008"), .string("2021005489")]))

            // Three changes a page: the organisation of P-1 and P-2 once, then the second organisation and the first again.
            let first = try await h.get("/api/v1/changes/parties?limit=3", key: portal)
            #expect(first.json["parties"] == .array([.string("5564900008")]))
            let offset = try #require(first.json["offset"]?.stringValue)
            let second = try await h.get("/api/v1/changes/parties?limit=3&offset=\(offset)", key: portal)
            #expect(second.json["parties"] == .array([.string("2021005489"), .string("5564900008")]))
            // The same offset on /changes reads the same changes.
            let changes = try await h.get("/api/v1/changes?limit=3&offset=\(offset)", key: portal)
            #expect(changes.json["changes"]?.arrayValue?.compactMap { $0["externalCaseId"]?.stringValue } == ["P-4", "P-1"])
            #expect(changes.json["offset"] == second.json["offset"])
            // Nothing new: no parties, and the offset stays.
            let last = try #require(second.json["offset"]?.stringValue)
            let none = try await h.get("/api/v1/changes/parties?offset=\(last)", key: portal)
            #expect(none.json["parties"] == .array([]) && none.json["offset"] == .string(last))

            // A publish that changes what P-2..P-4 show names their organisations again (reason "rules", in case order).
            let admin = try await h.key("sundsvall", "municipality-admin")
            let published = try await h.publishSundsvall(adminKey: admin, baseVersion: 1) {
                $0.sources["BYGGR"]!.codes["ANSÖKAN"] = "Under behandling"
            }
            #expect(published.status == .created, "\(published.text)")
            let remapped = try await h.get("/api/v1/changes/parties?offset=\(last)", key: portal)
            #expect(Set(remapped.json["parties"]?.arrayValue ?? []) == [.string("5564900008"), .string("2021005489")])
            #expect(remapped.json["parties"]?.arrayValue?.count == 2)
        }
    }

    @Test("persons too: a NAV card's fnr and a STAR summons' CPR, also after the card is discarded")
    func persons() async throws {
        try await Harness.run { h in
            let arena = try await h.key("nav-oslo", "arena-acl")
            let call: HTTPFields = [HTTPField.Name("Nav-Call-Id")!: "parties"]
            for (id, person) in [
                ("11111111-1111-4111-8111-111111111111", "13097248022"), ("22222222-2222-4222-8222-222222222222", "53097248016"),
            ] {
                let reply = try await h.request(
                    .post, "/nav/aktivitetskort/v1", key: arena,
                    json: NAVTests.example(messageId: UUID().uuidString.lowercased(), id: id, person: person), headers: call)
                #expect(reply.status == .created)
            }
            let plan = try await h.key("nav-oslo", "aktivitetsplan")
            let page = try await h.get("/api/v1/changes/parties", key: plan)
            #expect(page.json["parties"] == .array([.string("13097248022"), .string("53097248016")]))
            let offset = try #require(page.json["offset"]?.stringValue)
            let discarded = try await h.request(
                .post, "/nav/aktivitetskort/v1", key: arena,
                json: NAVTests.kassering(id: "11111111-1111-4111-8111-111111111111", person: "13097248022"), headers: call)
            #expect(discarded.status == .created)
            #expect(
                try await h.get("/api/v1/changes/parties?offset=\(offset)", key: plan).json["parties"] == .array([.string("13097248022")]))

            let star = try await h.key("aarhus", "star-wsb")
            #expect(
                try await h.post("/star/v1/wsb", key: star, STARTests.message(["Identifikation": .string("111111-1111")])).status
                    == .created)
            let danish = try await h.get("/api/v1/changes/parties", key: try await h.key("aarhus", "jobcenter-portal"))
            #expect(danish.json["parties"] == .array([.string("1111111111")]))
        }
    }

    @Test("offsets this server did not issue (a Helsenorge timestamp too) are 400; another tenant's parties never show")
    func refusalsAndIsolation() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            _ = try await h.post(
                "/api/v1/events", key: byggr, Harness.event(externalCaseId: "Q-1", status: "ANM", organisationNumber: "5564900008"))
            let portal = try await h.key("sundsvall", "oep-portal")
            for bad in ["offset=2021-03-09T00:00:00.00000Z", "offset=bogus", "limit=0", "limit=5001", "offset=a&offset=b"] {
                let reply = try await h.get("/api/v1/changes/parties?\(bad)", key: portal)
                #expect(reply.status == .badRequest && reply.code == "VALIDATION_FAILED", "\(bad)")
            }
            let timestamp = try await h.get("/api/v1/changes/parties?offset=2021-03-09T00:00:00.00000Z", key: portal)
            #expect(timestamp.json["detail"]?.stringValue?.contains("pass back the offset") == true)
            #expect(try await h.get("/api/v1/changes/parties", key: try await h.key("sundsvall", "byggr")).code == "FORBIDDEN")
            #expect(try await h.get("/api/v1/changes/parties", key: nil).code == "UNAUTHENTICATED")
            for (tenant, role) in [("bergen", "applicant-system"), ("nav-oslo", "aktivitetsplan"), ("aarhus", "jobcenter-portal")] {
                let other = try await h.get("/api/v1/changes/parties", key: try await h.key(tenant, role))
                #expect(other.json["parties"] == .array([]), "\(tenant)")
            }
        }
    }
}
