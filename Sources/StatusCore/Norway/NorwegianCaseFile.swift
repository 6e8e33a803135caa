import Foundation
import StatusRules

/// What happened to a submission, for `hendelser`.
public struct Hendelse: Sendable, Equatable {
    public var tidspunkt: Date
    /// `kvittering`, `milepæl`, `utfall`, `saksbehandler`, `saksnummer`, `saksbehandlingsfrist`,
    /// `soknadstype`, `tiltakstype`, `melding`, `dokument`.
    public var type: String
    public var beskrivelse: String
}

/// A Norwegian submission's state: the receipt, then each update's new or changed fields in order.
public struct NorwegianCaseFile: Sendable {
    public var innsendingReferanse: [String]
    public var saksnummer: JSONValue
    public var saksbehandler: JSONValue?
    public var soknadstype: String?
    public var tiltakstype: [String]
    public var saksbehandlingsfrist: Date?
    public var milepael: String?
    /// Shown now: the case's code mapped through the active rules.
    public var status: String
    public var category: String
    public var mottattDato: Date?
    public var sistOppdatert: Date?
    /// The latest outcome per checkpoint, in the order checkpoints first appeared.
    public var utfall: [Utfall]
    public var hendelser: [Hendelse]

    /// Folds a receipt and its updates (in the order they happened).
    /// A receipt without `registrertDato` or `mottattDato` is dated by when Statusbro recorded it (`recordedAt`).
    static func fold(receipt: JSONValue, updates: [JSONValue], references: [String], shown: DisplayedStatus, recordedAt: Date)
        -> NorwegianCaseFile
    {
        func instant(_ value: JSONValue?) -> Date? { value?.stringValue.flatMap(RFC3339.parse) }
        let received = instant(receipt["mottattDato"])
        let registered = instant(receipt["registrertDato"]) ?? received ?? recordedAt
        var file = NorwegianCaseFile(
            innsendingReferanse: [], saksnummer: receipt["saksnummer"] ?? .null, saksbehandler: receipt["saksbehandler"],
            soknadstype: nil, tiltakstype: [], saksbehandlingsfrist: instant(receipt["saksbehandlingsfrist"]),
            milepael: receipt["milepæl"]?.stringValue, status: shown.status, category: shown.category, mottattDato: received,
            sistOppdatert: registered, utfall: [], hendelser: [])
        file.add(receipt["metadata"]?["innsendingReferanse"]?.stringValue)
        file.hendelser.append(Hendelse(tidspunkt: registered, type: "kvittering", beskrivelse: "Innsendingen er mottatt og registrert"))
        if let milestone = file.milepael {
            file.hendelser.append(Hendelse(tidspunkt: registered, type: "milepæl", beskrivelse: "Milepæl \(milestone)"))
        }
        for update in updates {
            file.apply(update)
        }
        for reference in references { file.add(reference) }
        return file
    }

    private mutating func add(_ reference: String?) {
        if let reference, !innsendingReferanse.contains(reference) { innsendingReferanse.append(reference) }
    }

    private mutating func apply(_ update: JSONValue) {
        guard let at = update["oppdatertDato"]?.stringValue.flatMap(RFC3339.parse) else { return }
        sistOppdatert = max(sistOppdatert ?? at, at)
        for reference in update["metadata"]?["innsendingReferanse"]?.arrayValue ?? [] { add(reference.stringValue) }
        func note(_ type: String, _ text: String) { hendelser.append(Hendelse(tidspunkt: at, type: type, beskrivelse: text)) }
        if let number = update["saksnummer"], number.objectValue != nil, !sameCaseNumber(number, saksnummer) {
            saksnummer = number
            note(
                "saksnummer",
                "Nytt saksnummer \(number["saksaar"]?.displayString ?? "")/\(number["sakssekvensnummer"]?.displayString ?? "")")
        }
        if let handler = update["saksbehandler"], handler.objectValue != nil {
            saksbehandler = handler
            note("saksbehandler", "Saksbehandler: \(handler["navn"]?.stringValue ?? "tildelt")")
        }
        if let type = update["soknadstype"]?.stringValue {
            soknadstype = type
            note("soknadstype", "Søknadstype: \(type)")
        }
        if let types = update["tiltakstype"]?.arrayValue {
            tiltakstype = types.compactMap(\.stringValue)
            note("tiltakstype", "Tiltakstype: \(tiltakstype.joined(separator: ", "))")
        }
        if let deadline = update["saksbehandlingsfrist"]?.stringValue.flatMap(RFC3339.parse) {
            saksbehandlingsfrist = deadline
            note("saksbehandlingsfrist", "Saksbehandlingsfrist: \(RFC3339.format(deadline))")
        }
        if let milestone = update["milepæl"]?.stringValue {
            milepael = milestone
            note("milepæl", "Milepæl \(milestone)")
        }
        for item in update["utfall"]?.arrayValue ?? [] {
            guard let checkpoint = item["sjekkpunktId"]?.stringValue, let type = item["utfallType"]?.stringValue else { continue }
            let outcome = Utfall(sjekkpunktId: checkpoint, utfallType: type, beskrivelse: item["beskrivelse"]?.stringValue)
            if let index = utfall.firstIndex(where: { $0.sjekkpunktId == checkpoint }) {
                utfall[index] = outcome
            } else {
                utfall.append(outcome)
            }
            note("utfall", "\(checkpoint): \(type)" + (outcome.beskrivelse.map { " – \($0)" } ?? ""))
        }
        for message in update["melding"]?.arrayValue ?? [] {
            note(
                "melding",
                message.stringValue ?? message["tekst"]?.stringValue ?? message["beskrivelse"]?.stringValue ?? message.canonicalString)
        }
        for document in update["utgaaendeDokument"]?.arrayValue ?? [] {
            note("dokument", document["dokumentTittel"]?.stringValue ?? document["dokumentUrl"]?.stringValue ?? "Dokument")
        }
    }

    private func sameCaseNumber(_ a: JSONValue, _ b: JSONValue) -> Bool {
        a["saksaar"]?.displayString == b["saksaar"]?.displayString
            && a["sakssekvensnummer"]?.displayString == b["sakssekvensnummer"]?.displayString
    }
}
