import Foundation
import HTTPTypes
import Hummingbird
import StatusCore
import StatusRules

/// DiBK's e-building APIs (`/dibk/api/v1`): receipt v2 (write-once), update (idempotent on
/// `metadata.meldingId`), and the status folded from both, with `status`/`category` from the
/// tenant's rules for source system `DIBK`. Field names are DiBK's, `milepæl` included.
struct NorwayController {
    let norway: NorwegianSubmissions
    /// The public address receipts are linked from; `nil`: the request's own host.
    let publicBaseURL: String?

    var endpoints: RouteCollection<StatusRequestContext> {
        let routes = RouteCollection(context: StatusRequestContext.self)
        routes.post("kvittering", use: receive)
        routes.get("kvittering", use: receipt)
        routes.post("oppdatering", use: update)
        routes.get("status", use: status)
        return routes
    }

    /// 201 `{"kvitteringUrl"}`; the same receipt again is 200 with the same answer.
    func receive(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try context.require(.dibkWrite)
        let kvittering = try Kvittering(json: try await request.jsonBody(context: context))
        let submitted = try await norway.receive(
            kvittering, snapshot: snapshot, tenant: principal.tenant, correlationId: context.correlationID)
        let url = baseURL(request) + Self.receiptPath(submitted.answer.innsendingReferanse)
        return JSONOut.object([("kvitteringUrl", .string(url))]).response(submitted.replayed ? .ok : .created)
    }

    /// The stored receipt, as it was received.
    func receipt(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.dibkRead)
        let reference = try Self.reference(request)
        return JSONOut.value(try await norway.receipt(tenant: principal.tenant, innsendingReferanse: reference)).response()
    }

    /// 201 `{"oppdateringId","status","category","ruleVersion"}`.
    func update(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try context.require(.dibkWrite)
        let oppdatering = try Oppdatering(json: try await request.jsonBody(context: context))
        let submitted = try await norway.update(
            oppdatering, snapshot: snapshot, tenant: principal.tenant, correlationId: context.correlationID)
        let a = submitted.answer
        return JSONOut.object([
            ("oppdateringId", .string(a.oppdateringId)), ("status", .string(a.status)), ("category", .string(a.category)),
            ("ruleVersion", .int(a.ruleVersion)),
        ]).response(submitted.replayed ? .ok : .created)
    }

    /// The folded state, by `innsendingReferanse` or by `saksaar` and `sakssekvensnummer`.
    func status(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try context.require(.dibkRead)
        // Every parameter given is checked, also one the lookup will not use.
        let reference = try request.query("innsendingReferanse").map { try Self.checked($0, "innsendingReferanse") }
        let year = try request.query("saksaar")
        let sequence = try request.query("sakssekvensnummer")
        if let year, let problem = Saksnummer.problem(withDigits: year, length: Saksnummer.yearLength) {
            throw StatusError.invalid("/query/saksaar", problem)
        }
        if let sequence, let problem = Saksnummer.problem(withDigits: sequence, length: nil) {
            throw StatusError.invalid("/query/sakssekvensnummer", problem)
        }
        let lookup: NorwegianSubmissions.Lookup
        if let reference {
            lookup = .reference(reference)
        } else if let year, let sequence {
            lookup = .caseNumber(saksaar: year, sakssekvensnummer: sequence)
        } else {
            throw StatusError.invalid("/query", "give innsendingReferanse, or saksaar and sakssekvensnummer")
        }
        return Self.render(try await norway.status(tenant: principal.tenant, snapshot: snapshot, lookup)).response()
    }

    static func render(_ f: NorwegianCaseFile) -> JSONOut {
        .object([
            ("innsendingReferanse", .array(f.innsendingReferanse.map(JSONOut.string))),
            ("saksnummer", ordered(f.saksnummer, first: ["saksaar", "sakssekvensnummer", "journalpostnummer"])),
            ("saksbehandler", f.saksbehandler.map { ordered($0, first: ["navn", "epost"]) } ?? .null),
            ("soknadstype", .optional(f.soknadstype)),
            ("tiltakstype", .array(f.tiltakstype.map(JSONOut.string))),
            ("saksbehandlingsfrist", .instant(f.saksbehandlingsfrist)),
            ("milepæl", .optional(f.milepael)),
            ("status", .string(f.status)),
            ("category", .string(f.category)),
            ("mottattDato", .instant(f.mottattDato)),
            ("sistOppdatert", .instant(f.sistOppdatert)),
            (
                "utfall",
                .array(
                    f.utfall.map { u in
                        .object([
                            ("sjekkpunktId", .string(u.sjekkpunktId)), ("utfallType", .string(u.utfallType)),
                            ("beskrivelse", .optional(u.beskrivelse)),
                        ])
                    })
            ),
            (
                "hendelser",
                .array(
                    f.hendelser.map { h in
                        .object([("tidspunkt", .instant(h.tidspunkt)), ("type", .string(h.type)), ("beskrivelse", .string(h.beskrivelse))])
                    })
            ),
        ])
    }

    /// An object with `first` keys in that order, then the rest sorted.
    static func ordered(_ value: JSONValue, first: [String]) -> JSONOut {
        guard let members = value.objectValue else { return .value(value) }
        let rest = members.keys.filter { !first.contains($0) }.sorted()
        return .object((first.filter { members[$0] != nil } + rest).map { ($0, JSONOut.value(members[$0]!)) })
    }

    static func reference(_ request: Request) throws -> String {
        guard let reference = try request.query("innsendingReferanse") else {
            throw StatusError.invalid("/query/innsendingReferanse", "is required")
        }
        return try checked(reference, "innsendingReferanse")
    }

    static func checked(_ value: String, _ name: String) throws -> String {
        guard !value.isEmpty, value.count <= FieldReader.maxIdentifierLength,
            !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { throw StatusError.invalid("/query/\(name)", "must be a reference of at most \(FieldReader.maxIdentifierLength) characters") }
        return value
    }

    /// The path where a receipt is read back.
    static func receiptPath(_ reference: String) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        return "/dibk/api/v1/kvittering?innsendingReferanse="
            + (reference.addingPercentEncoding(withAllowedCharacters: allowed) ?? reference)
    }

    func baseURL(_ request: Request) -> String {
        if let publicBaseURL { return publicBaseURL }
        let scheme = request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https" ? "https" : "http"
        return "\(scheme)://\(request.head.authority ?? "localhost")"
    }
}
