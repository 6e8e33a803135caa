import Foundation
import HTTPTypes
import Hummingbird
import StatusRules
import StatusTestSupport
import Testing

/// STAR's WSB face, with the document's own example (`shared/seeds/003_…`).
@Suite("The STAR WSB face")
struct STARTests {
    /// The document's example header, verbatim ("Indkaldelse - Payload Header - eksempel fra T3").
    static let header = #"""
        {"Oprindelse":{"RegistrerendeMyndighed":{"OrganisationType":8,"OrganisationKode":"44000"},"RegistrerendeBruger":{"BrugertypeId":2,"BrugertypeNavn":"Caseworker","Brugernavn":"xxxxxx","Brugeridentifikation":"exxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx","Brugeremail":"xxxxxx@netcompany.com","KaldendeMyndighed":{"OrganisationType":8,"OrganisationKode":"44000"}},"SystemId":1,"Systemnavn":"Andet"},"BeskedIdentifier":"xxxxxxxx-b4a7-44c7-9a30-8e89f52e575d","HaendelsesTid":"2024-04-23T12:47:17.154073+02:00","Miljoe":"T3","KorrelationsIdentifier":"xxxxxxxx-53f2-4f3d-b21a-e94494ec338c","EntitetstypeId":90000,"EntitetstypeNavn":"Indkaldelse","EksternIdentifier":"xxxxxxxx-54a7-4f3b-9b81-dd2661e45600","VersionIdentifier":null,"Identifikation":"1111111111","IdentifikationstypeId":1,"IdentifikationstypeNavn":"CPR","AendringstypeId":1,"AendringstypeNavn":"Create"}
        """#
    /// The document's example body, verbatim.
    static let body = #"{"Indkaldelsehaendelsestype":3}"#
    /// The example as one message: the header's members, and the body in `Body`.
    static let example = String(header.dropLast()) + ",\"Body\":" + body + "}"

    /// The example with members replaced (`nil` removes one).
    static func message(_ changes: [String: JSONValue?]) -> String {
        var members = (try! JSONValue.parse(Data(example.utf8))).objectValue!
        for (key, value) in changes { members[key] = value }
        return JSONValue.object(members).canonicalString
    }

    @Test("the document's example, header and body: 201 with a receipt; a retry gets it byte for byte; another body is 409")
    func example() async throws {
        try await Harness.run { h in
            let star = try await h.key("aarhus", "star-wsb")
            let first = try await h.post("/star/v1/wsb", key: star, Self.example)
            #expect(first.status == .created, "\(first.text)")
            #expect(first.text.hasPrefix("{\"messageId\":\"xxxxxxxx-b4a7-44c7-9a30-8e89f52e575d\",\"caseId\":\""))
            #expect(first.json["externalCaseId"] == .string("xxxxxxxx-54a7-4f3b-9b81-dd2661e45600"))
            #expect(first.json["rawStatus"] == .string("Indkaldelse:3") && first.json["status"] == .string("Deltagelse bekræftet"))
            #expect(first.json["category"] == .string("Bekræftelse") && first.json["applied"] == .bool(true))
            let again = try await h.post("/star/v1/wsb", key: star, Self.message([:]))
            #expect(again.status == .ok && again.text == first.text)
            // The header alone (the document's "Body - ingen") is another body under the same BeskedIdentifier.
            let conflict = try await h.post("/star/v1/wsb", key: star, Self.header)
            #expect(conflict.status == .conflict && conflict.code == "DUPLICATE_MESSAGE_CONFLICT")
            // Without a body, the change type is the code.
            let update = try await h.post(
                "/star/v1/wsb", key: star,
                Self.message([
                    "BeskedIdentifier": .string(UUID().uuidString), "AendringstypeId": .number(2), "AendringstypeNavn": .string("Update"),
                    "Body": nil, "HaendelsesTid": .string("2024-04-24T09:00:00+02:00"),
                ]))
            #expect(update.json["rawStatus"] == .string("Indkaldelse:Update") && update.json["status"] == .string("Ændret"))
            // A UUID id in upper case is the same key as in lower case.
            let id = UUID().uuidString
            let upper = Self.message(["BeskedIdentifier": .string(id), "HaendelsesTid": .string("2024-04-25T09:00:00+02:00")])
            #expect(try await h.post("/star/v1/wsb", key: star, upper).status == .created)
            let lower = Self.message([
                "BeskedIdentifier": .string(id.lowercased()), "HaendelsesTid": .string("2024-04-25T09:00:00+02:00"),
            ])
            #expect(try await h.post("/star/v1/wsb", key: star, lower).code == "DUPLICATE_MESSAGE_CONFLICT")
            // Only STAR may send: a portal key cannot.
            #expect(try await h.post("/star/v1/wsb", key: try await h.key("aarhus", "jobcenter-portal"), Self.example).code == "FORBIDDEN")
        }
    }

    @Test(
        "malformed messages get precise problems, never a 500",
        arguments: [
            ("a CPR number that names no date", ["Identifikation": .string("3102621234")], "/Identifikation", "INVALID_IDENT"),
            ("a CPR number of someone not born yet", ["Identifikation": .string("010136-9000")], "/Identifikation", "INVALID_IDENT"),
            ("another identification type", ["IdentifikationstypeId": .number(2)], "/IdentifikationstypeId", "VALIDATION_FAILED"),
            ("an unknown change type", ["AendringstypeId": .number(4)], "/AendringstypeId", "VALIDATION_FAILED"),
            (
                "a change type name that is not its id's", ["AendringstypeNavn": .string("Delete")], "/AendringstypeNavn",
                "VALIDATION_FAILED"
            ),
            ("an entity type id that is not its name's", ["EntitetstypeId": .number(90001)], "/EntitetstypeId", "VALIDATION_FAILED"),
            ("a time without an offset", ["HaendelsesTid": .string("2024-04-23T12:47:17")], "/HaendelsesTid", "VALIDATION_FAILED"),
            ("a body that is not an object", ["Body": .string("3")], "/Body", "VALIDATION_FAILED"),
            (
                "an event type that is not a number", ["Body": .object(["Indkaldelsehaendelsestype": .string("3")])],
                "/Body/Indkaldelsehaendelsestype", "VALIDATION_FAILED"
            ),
            ("an unknown member", ["Besked": .string("x")], "/Besked", "VALIDATION_FAILED"),
            ("no BeskedIdentifier", ["BeskedIdentifier": nil], "/BeskedIdentifier", "VALIDATION_FAILED"),
            ("a fractional id", ["AendringstypeId": .number(1.5)], "/AendringstypeId", "VALIDATION_FAILED"),
        ] as [(String, [String: JSONValue?], String, String)])
    func malformed(name: String, changes: [String: JSONValue?], pointer: String, code: String) async throws {
        try await Harness.run { h in
            let reply = try await h.post("/star/v1/wsb", key: try await h.key("aarhus", "star-wsb"), Self.message(changes))
            #expect(reply.status == .badRequest && reply.code == code, "\(name): \(reply.text)")
            #expect(reply.json["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } == [pointer], "\(name)")
            #expect(!reply.text.contains("3102621234"))
        }
    }

    @Test("history: of an entity oldest first (also after a Delete), and of a citizen across entities; CPR in either form")
    func history() async throws {
        try await Harness.run { h in
            let star = try await h.key("aarhus", "star-wsb")
            let portal = try await h.key("aarhus", "jobcenter-portal")
            let other = "211062-5629"
            func send(_ id: String, _ entity: String, _ at: String, change: Int, person: String = "1111111111", body: JSONValue? = nil)
                async throws
                -> Reply
            {
                try await h.post(
                    "/star/v1/wsb", key: star,
                    Self.message([
                        "BeskedIdentifier": .string(id), "EksternIdentifier": .string(entity), "HaendelsesTid": .string(at),
                        "AendringstypeId": .number(Double(change)),
                        "AendringstypeNavn": .string(["", "Create", "Update", "Delete"][change]),
                        "Identifikation": .string(person), "Body": body ?? .null,
                    ]))
            }
            #expect(try await send("m1", "S-1", "2024-05-01T09:00:00+02:00", change: 1).status == .created)
            #expect(try await send("m2", "S-2", "2024-05-02T09:00:00+02:00", change: 1).status == .created)
            // Recorded late, happened early: the history is ordered by HaendelsesTid.
            #expect(try await send("m0", "S-1", "2024-04-30T09:00:00+02:00", change: 2).json["applied"] == .bool(false))
            #expect(try await send("m3", "S-1", "2024-05-03T09:00:00+02:00", change: 3).status == .created)
            #expect(try await send("m4", "S-3", "2024-05-04T09:00:00+02:00", change: 1, person: other).status == .created)

            let s1 = try await h.get("/star/v1/Indkaldelse/historik/S-1", key: portal)
            #expect(s1.status == .ok)
            let entries = s1.json.arrayValue ?? []
            #expect(entries.compactMap { $0["BeskedIdentifier"]?.stringValue } == ["m0", "m1", "m3"])
            #expect(entries.compactMap { $0["AendringstypeNavn"]?.stringValue } == ["Update", "Create", "Delete"])
            #expect(entries.map { $0["applied"] } == [.bool(false), .bool(true), .bool(true)])
            #expect(entries.last?["status"] == .string("Aflyst"))
            let keys = entries.first?.objectValue.map { Array($0.keys).sorted() } ?? []
            #expect(keys.contains("Body") && !keys.contains("Identifikation") && !keys.contains("Oprindelse"))
            #expect(s1.text.hasPrefix("[{\"BeskedIdentifier\":\"m0\",\"KorrelationsIdentifier\":"))
            // The entity type in the path is compared without regard to case; a Delete withdraws the case.
            #expect(try await h.get("/star/v1/indkaldelse/historik/S-1", key: portal).text == s1.text)
            #expect(try await h.get("/api/v1/cases/S-1", key: try await h.key("aarhus", "jobcenter-admin")).code == "NOT_FOUND")

            let citizen = try await h.get("/star/v1/Indkaldelse/historik?identifikation=111111-1111", key: portal)
            #expect(citizen.json.arrayValue?.compactMap { $0["BeskedIdentifier"]?.stringValue } == ["m0", "m1", "m2", "m3"])
            #expect(try await h.get("/star/v1/Indkaldelse/historik?identifikation=1111111111", key: portal).text == citizen.text)
            let second = try await h.get("/star/v1/Indkaldelse/historik?identifikation=2110625629", key: portal)
            #expect(second.json.arrayValue?.compactMap { $0["EksternIdentifier"]?.stringValue } == ["S-3"])
            #expect(try await h.get("/star/v1/Indkaldelse/historik?identifikation=0101011111", key: portal).text == "[]")

            #expect(try await h.get("/star/v1/Indkaldelse/historik/S-9", key: portal).code == "NOT_FOUND")
            #expect(try await h.get("/star/v1/Samtale/historik/S-1", key: portal).code == "NOT_FOUND")
            #expect(try await h.get("/star/v1/Samtale/historik?identifikation=1111111111", key: portal).text == "[]")
            let missing = try await h.get("/star/v1/Indkaldelse/historik", key: portal)
            #expect(
                missing.code == "VALIDATION_FAILED"
                    && missing.json["errors"]?.arrayValue?.first?["pointer"] == .string("/query/identifikation"))
            let bad = try await h.get("/star/v1/Indkaldelse/historik?identifikation=3102621234", key: portal)
            #expect(bad.code == "INVALID_IDENT" && !bad.text.contains("3102621234"))
            #expect(
                try await h.get("/star/v1/Indkaldelse/historik?identifikation=1&identifikation=2", key: portal).code == "VALIDATION_FAILED")
        }
    }

    @Test("the tenant's rules decide: a final status takes no Update, and the message is parked, never lost")
    func rules() async throws {
        try await Harness.run { h in
            let star = try await h.key("aarhus", "star-wsb")
            let cancelled = Self.message([
                "BeskedIdentifier": .string("c1"), "EksternIdentifier": .string("S-7"),
                "Body": .object(["Indkaldelsehaendelsestype": .number(4)]),
            ])
            #expect(try await h.post("/star/v1/wsb", key: star, cancelled).json["status"] == .string("Aflyst"))
            let update = try await h.post(
                "/star/v1/wsb", key: star,
                Self.message([
                    "BeskedIdentifier": .string("c2"), "EksternIdentifier": .string("S-7"), "AendringstypeId": .number(2),
                    "AendringstypeNavn": .string("Update"), "HaendelsesTid": .string("2024-05-01T09:00:00Z"), "Body": nil,
                ]))
            #expect(update.status == .conflict && update.code == "ILLEGAL_TRANSITION" && update.json["deadLetterId"] != nil)
            let unmapped = try await h.post(
                "/star/v1/wsb", key: star,
                Self.message(["BeskedIdentifier": .string("c3"), "Body": .object(["Indkaldelsehaendelsestype": .number(99)])]))
            #expect(unmapped.status == .unprocessableContent && unmapped.code == "UNMAPPED_STATUS")
            let letters = try await h.get("/api/v1/deadletters", key: try await h.key("aarhus", "jobcenter-admin")).json.arrayValue ?? []
            #expect(letters.map { $0["kind"] } == [.string("star-wsb"), .string("star-wsb")])
            // The same EksternIdentifier for another citizen is a clash, never a merge.
            let clash = try await h.post(
                "/star/v1/wsb", key: star,
                Self.message([
                    "BeskedIdentifier": .string("c4"), "EksternIdentifier": .string("S-7"), "Identifikation": .string("2110625629"),
                    "HaendelsesTid": .string("2024-06-01T09:00:00Z"),
                ]))
            #expect(clash.code == "ILLEGAL_TRANSITION")
        }
    }

    @Test("a key of another tenant gets 404 for this tenant's histories, and an empty citizen history")
    func isolation() async throws {
        try await Harness.run { h in
            #expect(try await h.post("/star/v1/wsb", key: try await h.key("aarhus", "star-wsb"), Self.example).status == .created)
            let intruder = try await TenantIntruder.key(h)
            #expect(
                try await h.get("/star/v1/Indkaldelse/historik/xxxxxxxx-54a7-4f3b-9b81-dd2661e45600", key: intruder).code == "NOT_FOUND")
            #expect(try await h.get("/star/v1/Indkaldelse/historik?identifikation=1111111111", key: intruder).text == "[]")
            // Its own STAR message lands in its own tenant (whose rules know no STAR), not in aarhus.
            let own = try await h.post("/star/v1/wsb", key: intruder, Self.message(["BeskedIdentifier": .string("own")]))
            #expect(own.code == "UNKNOWN_SOURCE_SYSTEM")
            let aarhus = try await h.get(
                "/star/v1/Indkaldelse/historik/xxxxxxxx-54a7-4f3b-9b81-dd2661e45600", key: try await h.key("aarhus", "jobcenter-portal"))
            #expect(aarhus.json.arrayValue?.count == 1)
        }
    }
}
