import Foundation
import HTTPTypes
import Hummingbird
import StatusRules
import StatusTestSupport
import Testing

@Suite("The Norwegian DiBK face")
struct NorwayTests {
    static let receipt = """
        {"metadata":{"fraEbyggesaksystem":"Ebygg AS","innsendingReferanse":"AR12345679","ftBID":"BYGG-3001","avsenderId":"4601",
         "avsenderNavn":"Bergen kommune","ekspedertDato":"2024-05-02T09:00:00+02:00","offentligJournalUrl":"https://innsyn.example/4601"},
         "saksnummer":{"saksaar":"2024","sakssekvensnummer":"1234","journalpostnummer":"5"},
         "avsenderKontaktpunkt":{"navn":"Byggesak","epost":"byggesak@bergen.example","telefon":"55000000","mobil":"90000000"},
         "milepæl":"MS","saksbehandlingsfrist":"2024-06-01T00:00:00+02:00",
         "mottattDato":"2024-05-01T10:00:00+02:00","registrertDato":"2024-05-02T08:00:00+02:00",
         "mottattDokument":[{"dokumentNavn":"situasjonsplan.pdf","mimeType":"application/pdf","dokumentStorrelse":"1234",
           "ekstraMetadata":[{"key":"vedleggType","value":"Situasjonsplan"}]}]}
        """

    static func update(
        _ meldingId: String?, references: [String] = ["AR12345679"], at: String, saksnummer: String = "1234", _ fields: String = ""
    ) -> String {
        let id = meldingId.map { ",\"meldingId\":\"\($0)\"" } ?? ""
        let refs = references.map { "\"\($0)\"" }.joined(separator: ",")
        return """
            {"metadata":{"fraEbyggesaksystem":"Ebygg AS","innsendingReferanse":[\(refs)],"ftBID":["BYGG-3001"]\(id)},
             "saksnummer":{"saksaar":"2024","sakssekvensnummer":"\(saksnummer)"},"oppdatertDato":"\(at)"\(fields.isEmpty ? "" : "," + fields)}
            """
    }

    @Test("receipt → updates → status: the story, with the JSON as documented")
    func story() async throws {
        try await Harness.run { h in
            let vendor = try await h.key("bergen", "ebygg-vendor")
            let applicant = try await h.key("bergen", "applicant-system")
            let first = try await h.post("/dibk/api/v1/kvittering", key: vendor, Self.receipt)
            #expect(first.status == .created, "\(first.text)")
            let url = try #require(first.json["kvitteringUrl"]?.stringValue)
            #expect(url.hasSuffix("/dibk/api/v1/kvittering?innsendingReferanse=AR12345679") && url.hasPrefix("http"))
            #expect(first.text == "{\"kvitteringUrl\":\"\(url)\"}")
            // Write-once: the same receipt again is 200 with the same answer; another body is 409.
            let again = try await h.post("/dibk/api/v1/kvittering", key: vendor, Self.receipt)
            #expect(again.status == .ok && again.text == first.text)
            let other = try await h.post(
                "/dibk/api/v1/kvittering", key: vendor, Self.receipt.replacingOccurrences(of: "\"MS\"", with: "\"MB\""))
            #expect(other.status == .conflict && other.code == "ALREADY_EXISTS")
            let stored = try await h.get("/dibk/api/v1/kvittering?innsendingReferanse=AR12345679", key: applicant)
            #expect(stored.json == (try JSONValue.parse(Data(Self.receipt.utf8))))

            let m1 = UUID().uuidString.lowercased()
            let u1 = try await h.post(
                "/dibk/api/v1/oppdatering", key: vendor,
                Self.update(
                    m1, at: "2024-05-03T09:00:00+02:00", "\"saksbehandler\":{\"navn\":\"Kari Nordmann\",\"epost\":\"kari@bergen.example\"}")
            )
            #expect(u1.status == .created, "\(u1.text)")
            #expect(u1.text.hasPrefix("{\"oppdateringId\":\""))
            #expect(
                u1.json["status"] == .string("Mottatt") && u1.json["category"] == .string("Mottak") && u1.json["ruleVersion"] == .number(1))

            let m2 = UUID().uuidString.lowercased()
            let body2 = Self.update(
                m2, at: "2024-05-10T09:00:00+02:00",
                "\"milepæl\":\"MB\",\"utfall\":[{\"sjekkpunktId\":\"1.2\",\"utfallType\":\"MANGEL\",\"beskrivelse\":\"Mangler situasjonsplan i målestokk\"}]"
            )
            let u2 = try await h.post("/dibk/api/v1/oppdatering", key: vendor, body2)
            #expect(u2.json["status"] == .string("Venter på søker") && u2.json["category"] == .string("Mangel"))
            let retry = try await h.post("/dibk/api/v1/oppdatering", key: vendor, body2)
            #expect(retry.status == .ok && retry.text == u2.text)
            let reused = try await h.post(
                "/dibk/api/v1/oppdatering", key: vendor, Self.update(m2, at: "2024-05-11T09:00:00+02:00", "\"milepæl\":\"VF\""))
            #expect(reused.code == "DUPLICATE_MESSAGE_CONFLICT")

            let u3 = try await h.post(
                "/dibk/api/v1/oppdatering", key: vendor,
                Self.update(
                    nil, references: ["AR12345679", "AR99999999"], at: "2024-05-20T09:00:00+02:00", saksnummer: "2000",
                    "\"utfall\":[{\"sjekkpunktId\":\"1.2\",\"utfallType\":\"OPPFYLT\"}],\"melding\":[\"Mangelen er besvart\"],\"tiltakstype\":[\"nyttbyggboligformal\"],\"soknadstype\":\"ET\""
                ))
            #expect(u3.json["status"] == .string("Under behandling"))
            let u4 = try await h.post(
                "/dibk/api/v1/oppdatering", key: vendor,
                Self.update(
                    nil, references: ["AR99999999"], at: "2024-06-01T09:00:00+02:00", saksnummer: "2000",
                    "\"milepæl\":\"VF\",\"utgaaendeDokument\":[{\"dokumentUrl\":\"https://innsyn.example/vedtak.pdf\",\"dokumentTittel\":\"Vedtak\"}]"
                ))
            #expect(u4.json["status"] == .string("Vedtak fattet"))

            let byAlias = try await h.get("/dibk/api/v1/status?innsendingReferanse=AR99999999", key: applicant)
            let byNumber = try await h.get("/dibk/api/v1/status?saksaar=2024&sakssekvensnummer=2000", key: applicant)
            #expect(byAlias.status == .ok && byAlias.text == byNumber.text)
            let expectedStart = """
                {"innsendingReferanse":["AR12345679","AR99999999"],"saksnummer":{"saksaar":"2024","sakssekvensnummer":"2000"},\
                "saksbehandler":{"navn":"Kari Nordmann","epost":"kari@bergen.example"},"soknadstype":"ET","tiltakstype":["nyttbyggboligformal"],\
                "saksbehandlingsfrist":"2024-05-31T22:00:00Z","milepæl":"VF","status":"Vedtak fattet","category":"Vedtak",\
                "mottattDato":"2024-05-01T08:00:00Z","sistOppdatert":"2024-06-01T07:00:00Z",\
                "utfall":[{"sjekkpunktId":"1.2","utfallType":"OPPFYLT","beskrivelse":null}],"hendelser":[
                """
            #expect(byAlias.text.hasPrefix(expectedStart), "\(byAlias.text)")
            let types = (byAlias.json["hendelser"]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue }
            #expect(
                types == [
                    "kvittering", "milepæl", "saksbehandler", "milepæl", "utfall", "saksnummer", "soknadstype", "tiltakstype", "utfall",
                    "melding", "milepæl", "dokument",
                ])
            #expect(try await h.get("/dibk/api/v1/status?saksaar=2024&sakssekvensnummer=1234", key: applicant).code == "NOT_FOUND")

            // The submission is a case of the core: history and feed like any other.
            let admin = try await h.key("bergen", "municipality-admin")
            let history = try await h.get("/api/v1/cases/AR12345679/history", key: admin).json.arrayValue ?? []
            #expect(history.map { $0["rawStatus"] } == ["MS", "MS", "MB", "UTFALL:OPPFYLT", "VF"].map(JSONValue.string))
            let feed = try await h.get("/api/v1/changes", key: applicant).json["changes"]?.arrayValue ?? []
            #expect(feed.count == 5 && feed.allSatisfy { $0["externalCaseId"] == .string("AR12345679") })
        }
    }

    @Test("an update for an unknown submission is 404; a reference must be a list")
    func unknownAndInvalid() async throws {
        try await Harness.run { h in
            let vendor = try await h.key("bergen", "ebygg-vendor")
            let unknown = try await h.post(
                "/dibk/api/v1/oppdatering", key: vendor,
                Self.update(nil, references: ["AR0"], at: "2024-05-03T09:00:00Z", "\"milepæl\":\"MB\""))
            #expect(unknown.status == .notFound && unknown.code == "NOT_FOUND")
            let invalid = try await h.post(
                "/dibk/api/v1/oppdatering", key: vendor,
                "{\"metadata\":{\"innsendingReferanse\":\"AR1\"},\"saksnummer\":{\"saksaar\":\"24\"}}")
            #expect(invalid.code == "VALIDATION_FAILED")
            let pointers = Set((invalid.json["errors"]?.arrayValue ?? []).compactMap { $0["pointer"]?.stringValue })
            #expect(
                pointers == ["/metadata/innsendingReferanse", "/saksnummer/saksaar", "/saksnummer/sakssekvensnummer", "/oppdatertDato"])
            #expect(
                try await h.get("/dibk/api/v1/kvittering", key: try await h.key("bergen", "applicant-system")).code == "VALIDATION_FAILED")
            #expect(
                try await h.get("/dibk/api/v1/kvittering?innsendingReferanse=AR0", key: try await h.key("bergen", "applicant-system")).code
                    == "NOT_FOUND")
            // A Swedish tenant's key has no DiBK permissions.
            #expect(
                try await h.post("/dibk/api/v1/kvittering", key: try await h.key("sundsvall", "byggr"), Self.receipt).code == "FORBIDDEN")
        }
    }

    @Test("Norwegian identity numbers are checked wherever they appear (both mod-11 check digits)")
    func identityNumbers() async throws {
        try await Harness.run { h in
            let vendor = try await h.key("bergen", "ebygg-vendor")
            let bad = Self.receipt.replacingOccurrences(
                of: "\"mobil\":\"90000000\"", with: "\"mobil\":\"90000000\",\"fodselsnummer\":\"15078610091\"")
            let reply = try await h.post("/dibk/api/v1/kvittering", key: vendor, bad)
            #expect(reply.status == .badRequest && reply.code == "INVALID_IDENT")
            #expect(reply.json["errors"]?.arrayValue?.first?["pointer"] == .string("/avsenderKontaktpunkt/fodselsnummer"))
            #expect(!reply.text.contains("15078610091"))
            let good = Self.receipt.replacingOccurrences(
                of: "\"mobil\":\"90000000\"", with: "\"mobil\":\"90000000\",\"fodselsnummer\":\"15078610090\"")
            #expect(try await h.post("/dibk/api/v1/kvittering", key: vendor, good).status == .created)
        }
    }

    @Test("a milestone the rules do not map is parked and replayed after the fix, like any message")
    func deadLetter() async throws {
        try await Harness.run { h in
            let vendor = try await h.key("bergen", "ebygg-vendor")
            let admin = try await h.key("bergen", "municipality-admin")
            _ = try await h.post("/dibk/api/v1/kvittering", key: vendor, Self.receipt)
            let parked = try await h.post(
                "/dibk/api/v1/oppdatering", key: vendor, Self.update(nil, at: "2024-05-03T09:00:00Z", "\"milepæl\":\"RS\""))
            #expect(parked.status == .unprocessableContent && parked.code == "UNMAPPED_STATUS")
            let letters = try await h.get("/api/v1/deadletters", key: admin).json.arrayValue ?? []
            #expect(letters.first?["kind"] == .string("dibk-oppdatering"))
            var document = try TestDatabase.document("bergen")
            document.sources["DIBK"]!.codes["RS"] = "Under behandling"
            let published = try await h.post(
                "/admin/v1/rules/publish", key: admin, "{\"baseVersion\":1,\"document\":\(document.jsonValue().canonicalString)}")
            #expect(published.status == .created)
            let replay = try await h.request(.post, "/api/v1/deadletters/replay", key: admin)
            #expect(replay.json["accepted"] == .number(1))
            let status = try await h.get(
                "/dibk/api/v1/status?innsendingReferanse=AR12345679", key: try await h.key("bergen", "applicant-system"))
            #expect(status.json["status"] == .string("Under behandling") && status.json["milepæl"] == .string("RS"))
        }
    }
}

@Suite("The change feed over HTTP")
struct FeedHTTPTests {
    @Test("a reader passing back offsets sees each change once; bad offsets and limits are 400")
    func follow() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let portal = try await h.key("sundsvall", "oep-portal")
            for n in 0..<7 { _ = try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "F-\(n)", status: "ANM")) }
            var offset = ""
            var seen: [String] = []
            for _ in 0..<5 {
                let page = try await h.get("/api/v1/changes?limit=3" + (offset.isEmpty ? "" : "&offset=\(offset)"), key: portal)
                #expect(page.text.hasPrefix("{\"offset\":\""))
                seen += (page.json["changes"]?.arrayValue ?? []).compactMap { $0["externalCaseId"]?.stringValue }
                offset = page.json["offset"]!.stringValue!
            }
            #expect(seen == (0..<7).map { "F-\($0)" })
            for bad in ["offset=bogus", "offset=MTIz", "limit=0", "limit=5001", "limit=many"] {
                let reply = try await h.get("/api/v1/changes?\(bad)", key: portal)
                #expect(reply.status == .badRequest && reply.code == "VALIDATION_FAILED", "\(bad)")
            }
            let entry = try #require(try await h.get("/api/v1/changes?limit=1", key: portal).json["changes"]?.arrayValue?.first)
            #expect(entry.objectValue.map { Set($0.keys) } == ["externalCaseId", "caseId", "status", "category", "changedAt", "reason"])
        }
    }
}
