import Foundation
import StatusRules

/// NAV's "Aktivitetskort as a service" (AkaaS 0.0.1, `shared/seeds/002_…`): producers create,
/// change and discard (kassere) the activity cards of a person's activity plan. Each card is a
/// case of the core: `externalCaseId` is the card's id, `sourceSystem` the producer (`source`),
/// the raw code `aktivitetStatus`, and the party the person's identity number.
public enum Aktivitetskort {
    /// The idempotency and dead-letter scope of both messages: NAV deduplicates across the topic.
    public static let scope = "nav-aktivitetskort"
    /// The producers the document knows (`source`).
    public static let sources = ["ARENA_TILTAK_AKTIVITET_ACL", "TEAM_TILTAK", "TEAM_KOMET", "REKRUTTERINGSBISTAND"]
    /// The card types the document allows (`aktivitetskortType`).
    public static let types = [
        "MIDLERTIDIG_LONNSTILSKUDD", "VARIG_LONNSTILSKUDD", "ARBEIDSTRENING", "MENTOR", "INDOPPFAG", "ARBFORB", "AVKLARAG", "VASV",
        "ARBRRHDAG", "DIGIOPPARB", "JOBBK", "GRUPPEAMO", "GRUFAGYRKE", "REKRUTTERINGSTREFF", "ARENA_TILTAK", "ENKELAMO", "ENKFAGYRKE",
        "HOYEREUTD",
    ]
    /// The columns of the plan (`aktivitetStatus`), the raw codes the tenant's rules map.
    public static let statuses = ["FORSLAG", "PLANLAGT", "GJENNOMFORES", "FULLFORT", "AVBRUTT"]
    /// "aktivitetskort som er fullført eller avbrutt [kan] ikke endres i etterkant, da dette er en endelig status".
    public static let finalStatuses: Set<String> = ["FULLFORT", "AVBRUTT"]
    /// Who changed a card (`endretAv.identType`; `TILTAKSARRAGOER` spelt as the document spells it).
    public static let identTypes = ["ARENAIDENT", "NAVIDENT", "PERSONBRUKERIDENT", "TILTAKSARRAGOER", "ARBEIDSGIVER", "SYSTEM"]
    /// The moods of a tag (`etiketter[].sentiment`).
    public static let sentiments = ["POSITIVE", "NEGATIVE", "NEUTRAL"]
    /// `actionType` of a create-or-change.
    public static let upsert = "UPSERT_AKTIVITETSKORT_V1"
    /// `actionType` of a discard.
    public static let discard = "KASSER_AKTIVITET"
    /// A date-time without an offset is read here, as the document says.
    public static let zone = TimeZone(identifier: "Europe/Oslo") ?? TimeZone(secondsFromGMT: 3600)!
    /// The most characters of a tag's text (`etiketter[].tekst`), counted as JSON Schema counts them.
    public static let maximumTagLength = 20
    /// The most characters of a link.
    public static let maximumURLLength = 2000
    /// What a `messageId` equal to its card's id is told (NAV: `MESSAGEID_LIK_AKTIVITETSID`).
    public static let messageIdIsCardId = "must not be the card's id: a message and a card each need their own UUID"
}

/// One message of the topic, as it is dispatched on `actionType`.
public enum AktivitetskortMelding: Sendable {
    case upsert(AktivitetskortBestilling)
    case discard(AktivitetskortKassering)

    /// Validates a body of either message, reporting every bad field at once.
    public init(json body: JSONValue) throws(StatusError) {
        switch body["actionType"] {
        case .string(Aktivitetskort.upsert)?: self = .upsert(try AktivitetskortBestilling(json: body))
        case .string(Aktivitetskort.discard)?: self = .discard(try AktivitetskortKassering(json: body))
        default:
            guard body.objectValue != nil else { throw StatusError.invalid("/", "must be a JSON object") }
            throw StatusError.invalid("/actionType", "must be \(Aktivitetskort.upsert) or \(Aktivitetskort.discard)")
        }
    }

    /// The producer that sent it.
    public var source: String {
        switch self {
        case .upsert(let bestilling): bestilling.source
        case .discard(let kassering): kassering.source
        }
    }
}

/// `aktivitetskortBestilling`: a card created or changed, the whole card each time.
public struct AktivitetskortBestilling: Sendable {
    public var messageId: String
    public var source: String
    public var aktivitetskortType: String
    /// The card's functional id (lower case).
    public var id: String
    /// The owner's fødselsnummer or D-number.
    public var personIdent: String
    public var aktivitetStatus: String
    public var endretTidspunkt: Date
    /// The body as received: what a retry is compared with, and what a dead letter keeps.
    public var payload: JSONValue

    static let fields: Set<String> = ["messageId", "source", "aktivitetskortType", "actionType", "aktivitetskort"]
    static let cardFields: Set<String> = [
        "id", "personIdent", "tittel", "aktivitetStatus", "startDato", "sluttDato", "beskrivelse", "endretAv", "endretTidspunkt",
        "avtaltMedNav", "oppgave", "handlinger", "detaljer", "etiketter",
    ]

    /// Validates a body: strict where the document says "Additional properties are NOT allowed"
    /// (the message, the card, `endretAv`, the items of `detaljer` and `etiketter`), and checking the
    /// types it gives where it says nothing (`oppgave`, `handlinger`).
    public init(json body: JSONValue) throws(StatusError) {
        let reader = FieldReader(body)
        let messageId = reader.uuid("messageId")
        let source = reader.oneOf("source", Aktivitetskort.sources)
        let type = reader.oneOf("aktivitetskortType", Aktivitetskort.types)
        _ = reader.oneOf("actionType", [Aktivitetskort.upsert])
        var id: String?
        var personIdent: String?
        var status: String?
        var changedAt: Date?
        if let card = reader.object("aktivitetskort") {
            id = card.uuid("id")
            personIdent = card.norwegianPerson("personIdent")
            _ = card.string("tittel", maxLength: FieldReader.maxTextLength)
            status = card.oneOf("aktivitetStatus", Aktivitetskort.statuses)
            _ = card.optionalDate("startDato")
            _ = card.optionalDate("sluttDato")
            _ = card.freeText("beskrivelse")
            if let by = card.object("endretAv") { Self.checkChangedBy(by) }
            changedAt = card.zonedInstant("endretTidspunkt", zone: Aktivitetskort.zone)
            _ = card.bool("avtaltMedNav")
            if let task = card.object("oppgave", required: false) {
                for key in ["ekstern", "intern"] {
                    guard let panel = task.object(key, required: false) else { continue }
                    _ = panel.text("tekst", nullable: false)
                    _ = panel.text("subtekst", nullable: false)
                    panel.link("url")
                }
            }
            for element in card.list("handlinger") ?? [] where element.value.objectValue == nil {
                card.fail(pointer: element.pointer, "must be a JSON object")
            }
            card.refuseNull("detaljer")
            for element in card.list("detaljer") ?? [] {
                let item = card.reader(for: element)
                _ = item.text("label", nullable: false)
                _ = item.text("verdi", nullable: false)
                item.rejectUnknown(["label", "verdi"])
            }
            card.refuseNull("etiketter")
            for element in card.list("etiketter") ?? [] {
                let item = card.reader(for: element)
                if let text = item.text("tekst", nullable: false), text.unicodeScalars.count > Aktivitetskort.maximumTagLength {
                    item.fail("tekst", "must be at most \(Aktivitetskort.maximumTagLength) characters")
                }
                item.refuseNull("sentiment")
                if item.has("sentiment") { _ = item.oneOf("sentiment", Aktivitetskort.sentiments) }
                _ = item.text("kode", nullable: false)
                item.rejectUnknown(["tekst", "sentiment", "kode"])
            }
            card.rejectUnknown(Self.cardFields)
        }
        reader.rejectUnknown(Self.fields)
        if let messageId, messageId == id { reader.fail("messageId", Aktivitetskort.messageIdIsCardId) }
        try reader.finish()
        self.messageId = messageId!
        self.source = source!
        self.aktivitetskortType = type!
        self.id = id!
        self.personIdent = personIdent!
        self.aktivitetStatus = status!
        self.endretTidspunkt = changedAt!
        self.payload = body
    }

    /// `endretAv`: an organisation number for an organiser or employer, an identity number for the
    /// person; other idents (NAV's, Arena's, a system's) are opaque.
    private static func checkChangedBy(_ by: FieldReader) {
        let identType = by.oneOf("identType", Aktivitetskort.identTypes)
        let ident = by.string("ident")
        by.rejectUnknown(["ident", "identType"])
        guard let ident, let identType else { return }
        switch identType {
        case "PERSONBRUKERIDENT":
            if NorwegianIdentityNumber(ident) == nil {
                by.fail(
                    "ident",
                    "must be a Norwegian fødselsnummer or D-number (11 digits naming a real date, with valid check digits) when identType is PERSONBRUKERIDENT",
                    identityNumber: true)
            }
        case "TILTAKSARRAGOER", "ARBEIDSGIVER":
            if !NorwegianIdentityFields.isOrganisationNumber(ident) {
                by.fail(
                    "ident", "must be a Norwegian organisation number (9 digits with a valid check digit) when identType is \(identType)",
                    identityNumber: true)
            }
        default:
            break
        }
    }
}

/// `aktivitetskortkassering`: "Melding som overskriver alle versjoner og historikk for aktiviteten".
public struct AktivitetskortKassering: Sendable {
    public var messageId: String
    public var source: String
    /// The card's functional id (lower case).
    public var aktivitetsId: String
    public var personIdent: String
    /// Who discards it.
    public var navIdent: String
    /// Why, shown to the person in the card.
    public var begrunnelse: String?
    public var sendt: Date?
    public var payload: JSONValue

    static let fields: Set<String> = [
        "source", "sendt", "actionType", "aktivitetsId", "personIdent", "navIdent", "begrunnelse", "messageId",
    ]

    /// Validates a body; additional members are refused, as the document says.
    public init(json body: JSONValue) throws(StatusError) {
        let reader = FieldReader(body)
        let source = reader.oneOf("source", Aktivitetskort.sources)
        reader.refuseNull("sendt")
        let sendt = reader.zonedInstant("sendt", zone: Aktivitetskort.zone, required: false)
        _ = reader.oneOf("actionType", [Aktivitetskort.discard])
        let id = reader.uuid("aktivitetsId")
        let personIdent = reader.norwegianPerson("personIdent")
        let navIdent = reader.string("navIdent")
        let begrunnelse = reader.text("begrunnelse", nullable: false, maxLength: FieldReader.maxTextLength)
        let messageId = reader.uuid("messageId")
        reader.rejectUnknown(Self.fields)
        if let messageId, messageId == id { reader.fail("messageId", Aktivitetskort.messageIdIsCardId) }
        try reader.finish()
        self.messageId = messageId!
        self.source = source!
        self.aktivitetsId = id!
        self.personIdent = personIdent!
        self.navIdent = navIdent!
        self.begrunnelse = begrunnelse
        self.sendt = sendt
        self.payload = body
    }
}

extension FieldReader {
    /// A required Norwegian fødselsnummer or D-number; a bad one is an identity-number error (`INVALID_IDENT`).
    func norwegianPerson(_ key: String) -> String? {
        guard let text = string(key, maxLength: 20) else { return nil }
        guard let number = NorwegianIdentityNumber(text) else {
            fail(
                key, "must be a Norwegian fødselsnummer or D-number: 11 digits naming a real date, with valid check digits",
                identityNumber: true)
            return nil
        }
        return number.digits
    }

    /// Optional text that may be empty; `null` is refused unless `nullable` (the document types
    /// these members `string`, not `string,null`).
    func text(_ key: String, nullable: Bool, maxLength: Int = FieldReader.maxTextLength) -> String? {
        if !nullable { refuseNull(key) }
        return freeText(key, maxLength: maxLength)
    }

    /// Refuses an explicit `null` for a member the document does not allow to be null.
    func refuseNull(_ key: String) {
        if members[key] == .null { fail(key, "must not be null; leave it out instead") }
    }

    /// An optional link shown to citizens: an absolute http(s) URL of visible ASCII characters, so
    /// no `javascript:` or other scheme reaches a page.
    func link(_ key: String) {
        refuseNull(key)
        guard let url = freeText(key, maxLength: Aktivitetskort.maximumURLLength) else { return }
        let bytes = Array(url.utf8)
        let scheme = url.hasPrefix("https://") ? 8 : url.hasPrefix("http://") ? 7 : 0
        guard scheme > 0, bytes.count > scheme, bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            fail(key, "must be an absolute http or https URL of visible ASCII characters (percent-encode the rest)")
            return
        }
    }
}
