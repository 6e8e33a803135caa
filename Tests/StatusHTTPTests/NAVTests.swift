import Foundation
import HTTPTypes
import Hummingbird
import PostgresNIO
import StatusRules
import StatusTestSupport
import Testing

/// NAV's Aktivitetskort face, with the document's own examples (`shared/seeds/002_…`).
@Suite("The NAV Aktivitetskort face")
struct NAVTests {
    /// The document's upsert example, verbatim. Its personIdent `10068831950` fails the first check
    /// digit, so as it stands it is refused; the tests that need it accepted use `example(…)`,
    /// the same JSON with a valid test number.
    static let upsertExample = """
        {
          "messageId": "8540d774-4863-4d2b-b788-4ecb19412e85",
          "source": "ARENA_TILTAK_AKTIVITET_ACL",
          "aktivitetskortType": "MIDLERTIDIG_LONNSTILSKUDD",
          "actionType": "UPSERT_AKTIVITETSKORT_V1",
          "aktivitetskort": {
            "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08",
            "personIdent": "10068831950",
            "tittel": "string",
            "aktivitetStatus": "FORSLAG",
            "startDato": "2022-03-01",
            "sluttDato": "2022-05-15",
            "beskrivelse": null,
            "endretAv": {
              "ident": "AAA123",
              "identType": "ARENAIDENT"
            },
            "endretTidspunkt": "2022-09-17T21:00:14+01:00",
            "avtaltMedNav": true,
            "oppgave": null,
            "handlinger": null,
            "detaljer": [
              {
                "label": "string",
                "verdi": "string"
              }
            ],
            "etiketter": [
              {
                "tekst": "string",
                "sentiment": "POSITIVE",
                "kode": "string"
              }
            ]
          }
        }
        """

    /// The document's kassering example, verbatim: the same invalid personIdent, the upsert's
    /// messageId, and an aktivitetsId that is not the upsert's card.
    static let kasseringExample = """
        {
          "source": "ARENA_TILTAK_AKTIVITET_ACL",
          "sendt": "2019-08-24T14:15:22Z",
          "actionType": "KASSER_AKTIVITET",
          "aktivitetsId": "2496547e-d7bb-486b-b8ce-fa3a10bf1f8e",
          "personIdent": "10068831950",
          "navIdent": "Z999999",
          "begrunnelse": "string",
          "messageId": "8540d774-4863-4d2b-b788-4ecb19412e85"
        }
        """

    static let cardId = "497f6eca-6276-4993-bfeb-53cbbbba6f08"
    static let person = "13097248022"
    static let otherPerson = "29029648784"
    static let call: HTTPFields = [HTTPField.Name("Nav-Call-Id")!: "string"]

    /// The upsert example with a valid personIdent (NAV's test number) and the given changes.
    static func example(
        messageId: String = "8540d774-4863-4d2b-b788-4ecb19412e85", id: String = cardId, person: String = person,
        status: String = "FORSLAG", changedAt: String = "2022-09-17T21:00:14+01:00", edit: (inout [String: JSONValue]) -> Void = { _ in }
    ) -> String {
        var body = (try! JSONValue.parse(Data(upsertExample.utf8))).objectValue!
        var card = body["aktivitetskort"]!.objectValue!
        card["id"] = .string(id)
        card["personIdent"] = .string(person)
        card["aktivitetStatus"] = .string(status)
        card["endretTidspunkt"] = .string(changedAt)
        body["messageId"] = .string(messageId)
        body["aktivitetskort"] = .object(card)
        edit(&body)
        return JSONValue.object(body).canonicalString
    }

    /// The kassering example with a valid personIdent, its own messageId, and the given card.
    static func kassering(messageId: String = UUID().uuidString.lowercased(), id: String = cardId, person: String = person) -> String {
        var body = (try! JSONValue.parse(Data(kasseringExample.utf8))).objectValue!
        body["messageId"] = .string(messageId)
        body["aktivitetsId"] = .string(id)
        body["personIdent"] = .string(person)
        return JSONValue.object(body).canonicalString
    }

    static func send(_ h: Harness, _ key: String, _ body: String, headers: HTTPFields = call) async throws -> Reply {
        try await h.request(.post, "/nav/aktivitetskort/v1", key: key, json: body, headers: headers)
    }

    @Test("the document's examples as they stand are refused precisely: their personIdent fails its check digit")
    func examplesVerbatim() async throws {
        try await Harness.run { h in
            let arena = try await h.key("nav-oslo", "arena-acl")
            for (body, pointer) in [(Self.upsertExample, "/aktivitetskort/personIdent"), (Self.kasseringExample, "/personIdent")] {
                let reply = try await Self.send(h, arena, body)
                #expect(reply.status == .badRequest && reply.code == "INVALID_IDENT", "\(reply.text)")
                #expect(reply.json["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } == [pointer])
                #expect(reply.json["errorType"] == .string("UGYLDIG_IDENT"))
                #expect(!reply.text.contains("10068831950"))
                #expect(reply.headers[HTTPField.Name("Nav-Call-Id")!] == "string")
            }
        }
    }

    @Test(
        "the upsert example (valid ident): 201 with NAV's receipt; a retry gets it byte for byte; another body under its messageId is 409")
    func upsertAndRetry() async throws {
        try await Harness.run { h in
            let arena = try await h.key("nav-oslo", "arena-acl")
            let first = try await Self.send(h, arena, Self.example())
            #expect(first.status == .created, "\(first.text)")
            #expect(
                first.headers[HTTPField.Name("Nav-Call-Id")!] == "string" && first.headers[HTTPField.Name("X-Correlation-ID")!] == "string")
            #expect(
                first.text.hasPrefix(
                    "{\"aktivitetId\":\"\(Self.cardId)\",\"meldingId\":\"8540d774-4863-4d2b-b788-4ecb19412e85\",\"behandlingstype\":\"UPSERT_AKTIVITETSKORT_V1\",\"suksess\":true,\"behandlingsStatus\":\"OK\",\"behandlet\":\""
                ), "\(first.text)")
            #expect(first.json["status"] == .string("Forslag") && first.json["category"] == .string("Forslag"))
            #expect(first.json["ruleVersion"] == .number(1) && first.json["applied"] == .bool(true))

            // The same message again, with its members in another order: the first receipt, unchanged.
            let again = try await Self.send(h, arena, " " + Self.upsertExample.replacingOccurrences(of: "10068831950", with: Self.person))
            #expect(again.status == .ok && again.text == first.text)
            let conflict = try await Self.send(h, arena, Self.example(status: "PLANLAGT"))
            #expect(conflict.status == .conflict && conflict.code == "DUPLICATE_MESSAGE_CONFLICT")
            #expect(conflict.json["errorType"] == .string("DUPLIKATMELDINGFEIL"))
            // The kassering example shares the upsert's messageId: a conflict too (one scope for the topic).
            let sharedId = try await Self.send(
                h, arena, Self.kasseringExample.replacingOccurrences(of: "10068831950", with: Self.person))
            #expect(sharedId.code == "DUPLICATE_MESSAGE_CONFLICT")

            // The card is a case of the core, shown through the tenant's rules.
            let plan = try await h.key("nav-oslo", "aktivitetsplan")
            let shown = try await h.get("/api/v1/cases/\(Self.cardId)", key: plan)
            #expect(shown.json["status"] == .string("Forslag") && shown.json["sourceSystem"] == .string("ARENA_TILTAK_AKTIVITET_ACL"))
            #expect(shown.json["caseType"] == .string("MIDLERTIDIG_LONNSTILSKUDD"))
            // An older version is history, not news: 201 with applied false.
            let older = try await Self.send(
                h, arena, Self.example(messageId: UUID().uuidString.lowercased(), status: "PLANLAGT", changedAt: "2022-09-17T08:00:00"))
            #expect(older.status == .created && older.json["applied"] == .bool(false))
            // Without an offset the time is Oslo's (+02:00 in September): 22:00:13 there is a second before
            // the card's 21:00:14+01:00, 22:00:15 a second after.
            let before = try await Self.send(
                h, arena, Self.example(messageId: UUID().uuidString.lowercased(), status: "PLANLAGT", changedAt: "2022-09-17T22:00:13"))
            #expect(before.status == .created && before.json["applied"] == .bool(false))
            let later = try await Self.send(
                h, arena, Self.example(messageId: UUID().uuidString.lowercased(), status: "PLANLAGT", changedAt: "2022-09-17T22:00:15"))
            #expect(later.json["applied"] == .bool(true) && later.json["status"] == .string("Planlagt"))
        }
    }

    @Test("a producer may only send as itself: events:write:<source>")
    func permissions() async throws {
        try await Harness.run { h in
            let tiltak = try await h.key("nav-oslo", "team-tiltak")
            let reply = try await Self.send(h, tiltak, Self.example())
            #expect(reply.status == .forbidden && reply.code == "FORBIDDEN" && reply.json["errorType"] == nil)
            let plan = try await h.key("nav-oslo", "aktivitetsplan")
            #expect(try await Self.send(h, plan, Self.example()).code == "FORBIDDEN")
            #expect(try await h.get("/nav/aktivitetskort/v1/feil", key: plan).code == "FORBIDDEN")
            #expect(try await Self.send(h, "sbk_nav-oslo_" + String(repeating: "x", count: 43), Self.example()).code == "UNAUTHENTICATED")
        }
    }

    @Test(
        "malformed messages get precise problems with NAV's error type, never a 500",
        arguments: [
            ("no actionType", #"{"messageId":"8540d774-4863-4d2b-b788-4ecb19412e85"}"#, ["/actionType"], "DESERIALISERINGSFEIL"),
            ("an unknown actionType", #"{"actionType":"SLETT"}"#, ["/actionType"], "DESERIALISERINGSFEIL"),
            ("not an object", "[1]", ["/"], "DESERIALISERINGSFEIL"),
            ("not JSON", "{", ["/"], "DESERIALISERINGSFEIL"),
        ])
    func malformedShapes(name: String, body: String, pointers: [String], errorType: String) async throws {
        try await Harness.run { h in
            let reply = try await Self.send(h, try await h.key("nav-oslo", "arena-acl"), body)
            #expect(reply.status == .badRequest && reply.code == "VALIDATION_FAILED", "\(name): \(reply.text)")
            #expect(reply.json["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } == pointers, "\(name)")
            #expect(reply.json["errorType"] == .string(errorType), "\(name)")
        }
    }

    @Test("where the document says 'Additional properties are NOT allowed' they are refused, and every field is checked")
    func strictness() async throws {
        try await Harness.run { h in
            let arena = try await h.key("nav-oslo", "arena-acl")
            let bad = Self.example { body in
                body["sendt"] = .string("2022-09-17T21:00:14Z")  // not a member of the upsert (only upstream's newer schema has it)
                var card = body["aktivitetskort"]!.objectValue!
                card["farge"] = .string("blå")
                card["endretAv"] = .object(["ident": .string("Z999999"), "identType": .string("NAVIDENT"), "navn": .string("Kari")])
                card["detaljer"] = .array([.object(["label": .string("a"), "verdi": .string("b"), "ekstra": .bool(true)])])
                card["etiketter"] = .array([.object(["tekst": .string(String(repeating: "x", count: 21)), "sentiment": .string("GLAD")])])
                card["oppgave"] = .object(["ekstern": .object(["tekst": .string("Signer"), "url": .string("javascript:alert(1)")])])
                card["startDato"] = .string("2022-02-30")
                card["endretTidspunkt"] = .string("2022-09-17")
                card["avtaltMedNav"] = .string("ja")
                card["handlinger"] = .array([.string("lenke")])
                card["aktivitetStatus"] = .string("SLETTET")
                body["aktivitetskort"] = .object(card)
            }
            let reply = try await Self.send(h, arena, bad)
            #expect(reply.status == .badRequest && reply.code == "VALIDATION_FAILED")
            let pointers = Set((reply.json["errors"]?.arrayValue ?? []).compactMap { $0["pointer"]?.stringValue })
            #expect(
                pointers == [
                    "/sendt", "/aktivitetskort/farge", "/aktivitetskort/endretAv/navn", "/aktivitetskort/detaljer/0/ekstra",
                    "/aktivitetskort/etiketter/0/tekst", "/aktivitetskort/etiketter/0/sentiment", "/aktivitetskort/oppgave/ekstern/url",
                    "/aktivitetskort/startDato", "/aktivitetskort/endretTidspunkt", "/aktivitetskort/avtaltMedNav",
                    "/aktivitetskort/handlinger/0", "/aktivitetskort/aktivitetStatus",
                ], "\(reply.text)")

            // What the document leaves open is accepted: unknown members of an oppgave, any handling object, empty texts.
            let open = Self.example { body in
                var card = body["aktivitetskort"]!.objectValue!
                card["oppgave"] = .object([
                    "intern": .object(["tekst": .string(""), "subtekst": .string(""), "url": .string("https://nav.no/a?b=c"), "ny": .null]),
                    "ekstern": .null,
                ])
                card["handlinger"] = .array([.object(["tekst": .string("Les avtalen"), "lenkeType": .string("EKSTERN")])])
                card["beskrivelse"] = .string("")
                body["aktivitetskort"] = .object(card)
            }
            #expect(try await Self.send(h, arena, open).status == .created)

            // An identity number where the document says whose it is: a person's fnr, an organiser's orgnr.
            for (type, ident) in [("PERSONBRUKERIDENT", "13097248023"), ("TILTAKSARRAGOER", "123456789")] {
                let wrongIdent = Self.example(messageId: UUID().uuidString.lowercased()) { body in
                    var card = body["aktivitetskort"]!.objectValue!
                    card["endretAv"] = .object(["ident": .string(ident), "identType": .string(type)])
                    body["aktivitetskort"] = .object(card)
                }
                let refused = try await Self.send(h, arena, wrongIdent)
                #expect(refused.code == "INVALID_IDENT" && refused.json["errorType"] == .string("UGYLDIG_IDENT"), "\(type)")
            }
            let sameIds = try await Self.send(h, arena, Self.example(messageId: Self.cardId))
            #expect(sameIds.code == "VALIDATION_FAILED" && sameIds.json["errorType"] == .string("MESSAGEID_LIK_AKTIVITETSID"))
            let nullBegrunnelse = try await Self.send(h, arena, Self.kassering().replacingOccurrences(of: "\"string\"", with: "null"))
            #expect(nullBegrunnelse.json["errors"]?.arrayValue?.first?["pointer"] == .string("/begrunnelse"))
            let text = try await h.request(
                .post, "/nav/aktivitetskort/v1", key: arena, json: Self.example(), headers: Self.call, contentType: "text/plain")
            #expect(text.status == .unsupportedMediaType && text.json["errorType"] == .string("DESERIALISERINGSFEIL"))
        }
    }

    @Test("Nav-Call-Id is required on a message, and must be fit for a log line")
    func callId() async throws {
        try await Harness.run { h in
            let arena = try await h.key("nav-oslo", "arena-acl")
            let missing = try await Self.send(h, arena, Self.example(), headers: [:])
            #expect(
                missing.status == .badRequest && missing.json["errors"]?.arrayValue?.first?["pointer"] == .string("/header/Nav-Call-Id"))
            #expect(missing.json["errorType"] == .string("DESERIALISERINGSFEIL"))
            let spaced = try await Self.send(h, arena, Self.example(), headers: [HTTPField.Name("Nav-Call-Id")!: "a b"])
            #expect(spaced.status == .badRequest && spaced.json["errors"]?.arrayValue?.first?["pointer"] == .string("/header/Nav-Call-Id"))
            // Nav-Call-Id names the call on NAV's routes, also when X-Correlation-ID is sent too.
            let both: HTTPFields = [HTTPField.Name("Nav-Call-Id")!: "nav-1", HTTPField.Name("X-Correlation-ID")!: "other"]
            let reply = try await Self.send(h, arena, Self.example(), headers: both)
            #expect(reply.status == .created && reply.headers[HTTPField.Name("X-Correlation-ID")!] == "nav-1")
            let history = try await h.get("/api/v1/cases/\(Self.cardId)/history", key: try await h.key("nav-oslo", "nav-admin"))
            #expect(history.json.arrayValue?.first?["correlationId"] == .string("nav-1"))
        }
    }

    @Test(
        "FULLFORT and AVBRUTT are final: a later upsert is refused, parked, and shown in /feil as in /api/v1/deadletters",
        arguments: ["FULLFORT", "AVBRUTT"])
    func finalStatus(status: String) async throws {
        try await Harness.run { h in
            let komet = try await h.key("nav-oslo", "team-komet")
            let admin = try await h.key("nav-oslo", "nav-admin")
            let source: (inout [String: JSONValue]) -> Void = { $0["source"] = .string("TEAM_KOMET") }
            #expect(try await Self.send(h, komet, Self.example(messageId: UUID().uuidString.lowercased(), edit: source)).status == .created)
            let finalBody = Self.example(
                messageId: UUID().uuidString.lowercased(), status: status, changedAt: "2022-10-01T10:00:00+02:00", edit: source)
            let done = try await Self.send(h, komet, finalBody)
            #expect(done.status == .created && done.json["category"] == .string("Avsluttet"))
            // Even an identical later card, or an older one, is refused; a retry of the final message is not.
            for changedAt in ["2022-10-02T10:00:00+02:00", "2022-01-01T10:00:00+01:00"] {
                let refused = try await Self.send(
                    h, komet, Self.example(messageId: UUID().uuidString.lowercased(), status: status, changedAt: changedAt, edit: source))
                #expect(refused.status == .conflict && refused.code == "ILLEGAL_TRANSITION", "\(refused.text)")
                #expect(refused.json["errorType"] == .string("ULOVLIG_ENDRING") && refused.json["deadLetterId"]?.stringValue != nil)
                #expect(refused.json["detail"]?.stringValue?.contains("final status \(status)") == true)
            }
            #expect(try await Self.send(h, komet, finalBody).status == .ok)

            let feil = try await h.get("/nav/aktivitetskort/v1/feil", key: admin)
            #expect(feil.status == .ok)
            let entries = feil.json.arrayValue ?? []
            #expect(entries.count == 2)
            let first = try #require(entries.first?.objectValue)
            #expect(Set(first.keys) == ["key", "source", "timestamp", "failingMessage", "errorMessage", "errorType"])
            #expect(first["key"] == .string(Self.cardId) && first["source"] == .string("TEAM_KOMET"))
            #expect(first["errorType"] == .string("ULOVLIG_ENDRING"))
            #expect(first["errorMessage"]?.stringValue?.hasPrefix("UlovligEndringFeil ILLEGAL_TRANSITION: ") == true)
            let failing = try JSONValue.parse(Data((first["failingMessage"]?.stringValue ?? "").utf8))
            #expect(failing["aktivitetskort"]?["aktivitetStatus"] == .string(status))
            let letters = try await h.get("/api/v1/deadletters", key: admin).json.arrayValue ?? []
            #expect(letters.count == 2 && letters.allSatisfy { $0["kind"] == .string("nav-aktivitetskort") })
            #expect(letters.compactMap { $0["payload"]?.canonicalString } == entries.compactMap { $0["failingMessage"]?.stringValue })
            // A replay keeps it parked: the card is still final.
            let replay = try await h.request(.post, "/api/v1/deadletters/replay", key: admin)
            #expect(replay.json["rejected"] == .number(2))
            #expect(try await h.get("/nav/aktivitetskort/v1/feil?state=bogus", key: admin).code == "VALIDATION_FAILED")
        }
    }

    @Test("a card never changes owner: another personIdent is refused (upsert) or not found (kassering)")
    func owner() async throws {
        try await Harness.run { h in
            let arena = try await h.key("nav-oslo", "arena-acl")
            #expect(try await Self.send(h, arena, Self.example()).status == .created)
            let upsert = try await Self.send(h, arena, Self.example(messageId: UUID().uuidString.lowercased(), person: Self.otherPerson))
            #expect(upsert.status == .conflict && upsert.json["errorType"] == .string("ULOVLIG_ENDRING"))
            let kassering = try await Self.send(h, arena, Self.kassering(person: Self.otherPerson))
            #expect(kassering.status == .notFound && kassering.json["errorType"] == .string("AKTIVITET_IKKE_FUNNET"))
            #expect(!kassering.text.contains(Self.otherPerson) && !upsert.text.contains(Self.person))
        }
    }

    @Test("kassering erases every version of the card, keeps an audit row, and the card takes no more changes")
    func kasseringErases() async throws {
        try await Harness.run { h in
            let arena = try await h.key("nav-oslo", "arena-acl")
            let admin = try await h.key("nav-oslo", "nav-admin")
            let plan = try await h.key("nav-oslo", "aktivitetsplan")
            let created = try await Self.send(h, arena, Self.example())
            #expect(created.status == .created)
            let secondId = UUID().uuidString.lowercased()
            let second = Self.example(messageId: secondId, status: "GJENNOMFORES", changedAt: "2022-09-18T10:00:00+02:00") { body in
                var card = body["aktivitetskort"]!.objectValue!
                card["tittel"] = .string("Lønnstilskudd hos Hemmelig AS")
                card["beskrivelse"] = .string("Privat beskrivelse")
                body["aktivitetskort"] = .object(card)
            }
            #expect(try await Self.send(h, arena, second).status == .created)
            // A version the tenant's rules cannot take is parked with the card's content.
            var document = try TestDatabase.document("nav-oslo")
            document.sources["ARENA_TILTAK_AKTIVITET_ACL"]!.codes["PLANLAGT"] = nil
            let published = try await h.post(
                "/admin/v1/rules/publish", key: admin, "{\"baseVersion\":1,\"document\":\(document.jsonValue().canonicalString)}")
            #expect(published.status == .created, "\(published.text)")
            let parked = try await Self.send(
                h, arena,
                Self.example(messageId: UUID().uuidString.lowercased(), status: "PLANLAGT", changedAt: "2022-09-19T10:00:00+02:00"))
            #expect(parked.code == "UNMAPPED_STATUS" && parked.json["errorType"] == .string("ULOVLIG_ENDRING"))
            #expect(try await h.get("/nav/aktivitetskort/v1/feil", key: admin).json.arrayValue?.count == 1)

            // The document's kassering example, with a valid ident and its own messageId, names no card of
            // this tenant: 404, parked (a kassering may overtake its card).
            let unknown = try await Self.send(h, arena, Self.kassering(id: "2496547e-d7bb-486b-b8ce-fa3a10bf1f8e"))
            #expect(unknown.status == .notFound && unknown.code == "NOT_FOUND", "\(unknown.text)")
            #expect(unknown.json["errorType"] == .string("AKTIVITET_IKKE_FUNNET") && unknown.json["deadLetterId"] != nil)

            let kasseringId = UUID().uuidString.lowercased()
            let kassering = Self.kassering(messageId: kasseringId)
            let discarded = try await Self.send(h, arena, kassering)
            #expect(discarded.status == .created, "\(discarded.text)")
            #expect(discarded.json["behandlingstype"] == .string("KASSER_AKTIVITET") && discarded.json["status"] == .null)
            #expect(try await Self.send(h, arena, kassering).text == discarded.text)
            #expect(try await h.get("/api/v1/cases/\(Self.cardId)", key: plan).code == "NOT_FOUND")
            let feed = try await h.get("/api/v1/changes", key: plan).json["changes"]?.arrayValue ?? []
            #expect(feed.last?["reason"] == .string("delete") && feed.last?["externalCaseId"] == .string(Self.cardId))

            // Stored: only tombstones where the card's content was, and an audit row of who and why.
            let stored = try await TestDatabase.asOwner(h.app.settings) { client in
                var texts: [String] = []
                for query: PostgresQuery in [
                    "SELECT payload::text FROM case_events WHERE tenant_id = 'nav-oslo' ORDER BY recorded_at",
                    "SELECT request::text FROM idempotency_keys WHERE tenant_id = 'nav-oslo' ORDER BY created_at",
                    "SELECT payload::text || state FROM dead_letters WHERE tenant_id = 'nav-oslo' ORDER BY received_at",
                ] {
                    for try await text in try await client.query(query).decode(String.self) { texts.append(text) }
                }
                var audit: [String] = []
                for try await row in try await client.query(
                    "SELECT erased_by, reason, party, versions_erased::text, message_id, source_system FROM case_erasures WHERE tenant_id = 'nav-oslo'"
                ).decode((String, String, String, String, String, String).self) {
                    audit = [row.0, row.1, row.2, row.3, row.4, row.5]
                }
                return (texts, audit)
            }
            let everything = stored.0.joined(separator: "\n")
            for secret in ["Hemmelig", "Privat", "AAA123", "2022-03-01"] { #expect(!everything.contains(secret), "\(secret)") }
            // 2 versions (the kassering's own event keeps its payload), their 2 requests, 1 dead letter.
            #expect(stored.0.filter { $0.contains("statusbro:erased") }.count == 2 + 2 + 1)
            #expect(stored.0.contains { $0.contains("statusbro:erased") && $0.hasSuffix("erased") })
            #expect(stored.1 == ["Z999999", "string", Self.person, "2", kasseringId, "ARENA_TILTAK_AKTIVITET_ACL"])
            // The erased dead letter is gone from /feil; the one of the unknown card stays.
            let feil = try await h.get("/nav/aktivitetskort/v1/feil", key: admin).json.arrayValue ?? []
            #expect(feil.map { $0["key"] } == [.string("2496547e-d7bb-486b-b8ce-fa3a10bf1f8e")])

            // A retry of an erased message is still recognised by its digest; another body is still a conflict.
            let retry = try await Self.send(h, arena, Self.example())
            #expect(retry.status == .ok && retry.text == created.text)
            #expect(try await Self.send(h, arena, Self.example(status: "PLANLAGT")).code == "DUPLICATE_MESSAGE_CONFLICT")
            // A discarded card takes no more changes.
            let revived = try await Self.send(
                h, arena, Self.example(messageId: UUID().uuidString.lowercased(), status: "GJENNOMFORES", changedAt: "2023-01-01T10:00:00Z")
            )
            #expect(revived.status == .conflict && revived.json["detail"]?.stringValue?.contains("kassert") == true)
        }
    }

    @Test("a key of another tenant gets 404 for this tenant's cards and sees none of its dead letters")
    func isolation() async throws {
        try await Harness.run { h in
            let arena = try await h.key("nav-oslo", "arena-acl")
            #expect(try await Self.send(h, arena, Self.example()).status == .created)
            _ = try await Self.send(h, arena, Self.kassering(id: UUID().uuidString.lowercased()))  // parked in nav-oslo
            let intruder = try await TenantIntruder.key(h)
            let kassering = try await Self.send(h, intruder, Self.kassering())
            #expect(kassering.status == .notFound && kassering.json["errorType"] == .string("AKTIVITET_IKKE_FUNNET"))
            #expect(try await h.get("/api/v1/cases/\(Self.cardId)", key: intruder).code == "NOT_FOUND")
            #expect(try await h.get("/api/v1/cases/\(Self.cardId)/history", key: intruder).code == "NOT_FOUND")
            // Only its own parked kassering, none of nav-oslo's.
            let feil = try await h.get("/nav/aktivitetskort/v1/feil?state=all", key: intruder).json.arrayValue ?? []
            #expect(feil.count == 1 && feil.first?["key"] == .string(Self.cardId))
            // The card is still there for its own tenant.
            #expect(try await h.get("/api/v1/cases/\(Self.cardId)", key: try await h.key("nav-oslo", "aktivitetsplan")).status == .ok)
        }
    }
}

/// A key of sundsvall with every permission the new faces use, for isolation tests: sundsvall's
/// rules are published with one more role.
enum TenantIntruder {
    static func key(_ h: Harness) async throws -> String {
        let admin = try await h.key("sundsvall", "municipality-admin")
        let published = try await h.publishSundsvall(adminKey: admin, baseVersion: 1) {
            $0.roles["intruder"] = ["events:write", "status:read", "feed:read", "deadletters:manage"]
        }
        #expect(published.status == .created)
        return try await h.key("sundsvall", "intruder")
    }
}
