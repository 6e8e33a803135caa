import Foundation
import StatusRules

/// The source system of Norwegian e-building messages in a tenant's rules. Its codes are DiBK
/// milestone codes (`MS`, `MB`, `VF`, …) and `UTFALL:<utfallType>`.
public enum DIBK {
    public static let sourceSystem = "DIBK"
    /// Idempotency and dead-letter scope of receipts (write-once per innsendingReferanse).
    public static let receiptScope = "dibk-kvittering"
    /// Idempotency and dead-letter scope of updates (idempotent on metadata.meldingId).
    public static let updateScope = "dibk-oppdatering"

    /// The rules code of an outcome type.
    public static func outcomeCode(_ utfallType: String) -> String { "UTFALL:\(utfallType)" }
}

/// A municipal case number: year and sequence (and, in a receipt, the journal entry).
public struct Saksnummer: Sendable, Equatable {
    public var saksaar: String
    public var sakssekvensnummer: String
    public var journalpostnummer: String?

    /// The number of digits of `saksaar`.
    public static let yearLength = 4

    /// Reads `{saksaar, sakssekvensnummer, journalpostnummer?}`; the numbers may be given as digit strings or numbers.
    static func read(_ reader: FieldReader?) -> Saksnummer? {
        guard let reader else { return nil }
        let saksaar = digits(reader, "saksaar", required: true, length: yearLength)
        let sekvens = digits(reader, "sakssekvensnummer", required: true, length: nil)
        let journal = digits(reader, "journalpostnummer", required: false, length: nil)
        guard let saksaar, let sekvens else { return nil }
        return Saksnummer(saksaar: saksaar, sakssekvensnummer: sekvens, journalpostnummer: journal)
    }

    static func digits(_ reader: FieldReader, _ key: String, required: Bool, length: Int?) -> String? {
        let text: String
        switch reader.value(key) {
        case .string(let value)?: text = value
        case .number(let value)? where value.rounded() == value && value >= 0 && value < 1e12: text = String(Int64(value))
        case nil, .null?:
            if required { reader.fail(key, "is required") }
            return nil
        default:
            reader.fail(key, "must be a number or a string of digits")
            return nil
        }
        if let problem = problem(withDigits: text, length: length) {
            reader.fail(key, problem)
            return nil
        }
        return text
    }

    /// What is wrong with a part of a case number: it must be digits, at most 12 of them, and
    /// exactly `length` when given (the year: 4).
    public static func problem(withDigits text: String, length: Int?) -> String? {
        guard !text.isEmpty, text.count <= 12, text.allSatisfy({ $0.isASCII && $0.isNumber }), length.map({ text.count == $0 }) ?? true
        else { return length.map { "must be \($0) digits" } ?? "must be digits" }
        return nil
    }
}

/// Checks identity numbers wherever they appear in a Norwegian message: national identity numbers
/// (fødselsnummer, D-number: eleven digits, two mod-11 check digits) and organisation numbers
/// (nine digits, mod-11).
enum NorwegianIdentityFields {
    static let personKeys: Set<String> = [
        "fodselsnummer", "foedselsnummer", "fødselsnummer", "personnummer", "fnr", "dnr", "identitetsnummer",
    ]
    static let organisationKeys: Set<String> = ["organisasjonsnummer", "orgnr"]

    static func check(_ value: JSONValue, pointer: String, reader: FieldReader) {
        switch value {
        case .object(let members):
            for (key, member) in members {
                let path = pointer + "/" + key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                if personKeys.contains(key.lowercased()) {
                    if member.stringValue.flatMap(NorwegianIdentityNumber.init) == nil {
                        reader.fail(
                            pointer: path, "must be a Norwegian national identity number (11 digits with valid check digits)",
                            identityNumber: true)
                    }
                } else if organisationKeys.contains(key.lowercased()) {
                    if member.stringValue.map(isOrganisationNumber) != true {
                        reader.fail(
                            pointer: path, "must be a Norwegian organisation number (9 digits with a valid check digit)",
                            identityNumber: true)
                    }
                } else {
                    check(member, pointer: path, reader: reader)
                }
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() { check(element, pointer: pointer + "/\(index)", reader: reader) }
        default:
            break
        }
    }

    static func isOrganisationNumber(_ text: String) -> Bool {
        let digits = text.compactMap { $0.isASCII ? $0.wholeNumberValue : nil }
        guard text.count == 9, digits.count == 9 else { return false }
        let sum = zip(digits.prefix(8), [3, 2, 7, 6, 5, 4, 3, 2]).reduce(0) { $0 + $1.0 * $1.1 }
        let check = 11 - sum % 11
        return (check == 11 ? 0 : check) == digits[8] && check != 10
    }
}

/// A receipt (kvittering v2), validated.
public struct Kvittering: Sendable {
    public var innsendingReferanse: String
    public var saksnummer: Saksnummer
    public var milepael: String
    /// When the municipality registered (else received) the submission.
    public var registered: Date?
    public var payload: JSONValue

    /// Validates a receipt body, reporting every bad field at once.
    public init(json body: JSONValue) throws(StatusError) {
        let reader = FieldReader(body)
        let metadata = reader.object("metadata")
        let reference = metadata?.string("innsendingReferanse")
        _ = metadata?.optionalString("ftBID")
        _ = metadata?.optionalString("fraEbyggesaksystem")
        _ = metadata?.optionalString("avsenderId")
        _ = metadata?.optionalString("avsenderNavn", maxLength: 500)
        _ = metadata?.optionalInstant("ekspedertDato")
        _ = metadata?.optionalString("offentligJournalUrl", maxLength: 2000)
        let saksnummer = Saksnummer.read(reader.object("saksnummer"))
        if let contact = reader.object("avsenderKontaktpunkt", required: false) {
            for key in ["navn", "epost", "telefon", "mobil"] { _ = contact.optionalString(key, maxLength: 500) }
        }
        if let handler = reader.object("saksbehandler", required: false) {
            for key in ["navn", "epost"] { _ = handler.optionalString(key, maxLength: 500) }
        }
        let milepael = reader.string("milepæl", maxLength: 64)
        _ = reader.optionalInstant("saksbehandlingsfrist")
        let received = reader.optionalInstant("mottattDato")
        let registered = reader.optionalInstant("registrertDato")
        for element in reader.list("mottattDokument") ?? [] {
            let document = reader.reader(for: element)
            _ = document.string("dokumentNavn", maxLength: 1000)
            _ = document.optionalString("mimeType")
            if let size = document.value("dokumentStorrelse"), size != .null {
                _ = Saksnummer.digits(document, "dokumentStorrelse", required: false, length: nil)
            }
            for pair in document.list("ekstraMetadata") ?? [] {
                let item = document.reader(for: pair)
                _ = item.string("key")
                _ = item.optionalString("value", maxLength: 2000)
            }
        }
        NorwegianIdentityFields.check(body, pointer: "", reader: reader)
        try reader.finish()
        self.innsendingReferanse = reference!
        self.saksnummer = saksnummer!
        self.milepael = milepael!
        self.registered = registered ?? received
        self.payload = body
    }
}

/// One outcome of a checkpoint.
public struct Utfall: Sendable, Equatable {
    public var sjekkpunktId: String
    public var utfallType: String
    public var beskrivelse: String?
}

/// An update (oppdatering), validated: metadata, saksnummer and oppdatertDato, then only what is new.
public struct Oppdatering: Sendable {
    /// The submissions it concerns (several when cases were merged or moved).
    public var innsendingReferanse: [String]
    public var meldingId: String?
    public var saksnummer: Saksnummer
    public var oppdatertDato: Date
    public var milepael: String?
    public var utfall: [Utfall]
    public var payload: JSONValue

    /// Validates an update body, reporting every bad field at once.
    public init(json body: JSONValue) throws(StatusError) {
        let reader = FieldReader(body)
        let metadata = reader.object("metadata")
        var references: [String] = []
        if let metadata {
            if let elements = metadata.list("innsendingReferanse", required: true, maxCount: 100) {
                references = elements.compactMap(metadata.text(at:))
                if elements.isEmpty { metadata.fail("innsendingReferanse", "must name at least one submission") }
            }
            for element in metadata.list("ftBID", maxCount: 100) ?? [] { _ = metadata.text(at: element) }
            _ = metadata.optionalString("fraEbyggesaksystem")
            _ = metadata.optionalString("avsenderId")
            _ = metadata.optionalString("avsenderNavn", maxLength: 500)
            _ = metadata.optionalInstant("ekspedertDato")
        }
        let meldingId = metadata?.optionalUUID("meldingId")
        let saksnummer = Saksnummer.read(reader.object("saksnummer"))
        let oppdatertDato = reader.instant("oppdatertDato")
        if let handler = reader.object("saksbehandler", required: false) {
            for key in ["navn", "epost"] { _ = handler.optionalString(key, maxLength: 500) }
        }
        _ = reader.optionalString("soknadstype")
        for element in reader.list("tiltakstype") ?? [] where element.value.stringValue == nil {
            reader.fail(pointer: element.pointer, "must be a code (string)")
        }
        _ = reader.optionalInstant("saksbehandlingsfrist")
        let milepael = reader.optionalString("milepæl", maxLength: 64)
        var outcomes: [Utfall] = []
        for element in reader.list("utfall") ?? [] {
            let item = reader.reader(for: element)
            let checkpoint = item.string("sjekkpunktId")
            let type = item.string("utfallType", maxLength: 64)
            let description = item.optionalString("beskrivelse", maxLength: FieldReader.maxTextLength)
            if let checkpoint, let type { outcomes.append(Utfall(sjekkpunktId: checkpoint, utfallType: type, beskrivelse: description)) }
        }
        for element in reader.list("melding") ?? [] {
            switch element.value {
            case .string, .object: break
            default: reader.fail(pointer: element.pointer, "must be a text or an object")
            }
        }
        for element in reader.list("utgaaendeDokument") ?? [] {
            let document = reader.reader(for: element)
            _ = document.string("dokumentUrl", maxLength: 2000)
            _ = document.optionalString("dokumentTittel", maxLength: 1000)
        }
        NorwegianIdentityFields.check(body, pointer: "", reader: reader)
        try reader.finish()
        self.innsendingReferanse = references
        self.meldingId = meldingId
        self.saksnummer = saksnummer!
        self.oppdatertDato = oppdatertDato!
        self.milepael = milepael
        self.utfall = outcomes
        self.payload = body
    }

    /// The rules code this update sets: its milestone, else its last outcome, else none (the status stays).
    public var rawStatus: String? {
        milepael ?? utfall.last.map { DIBK.outcomeCode($0.utfallType) }
    }
}
