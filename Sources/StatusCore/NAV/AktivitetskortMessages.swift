import Foundation
import StatusRules

/// What an accepted message is answered with: NAV's `aktivitetskort-kvittering-v1` (additional
/// members allowed there), plus what the tenant's rules made of it. Stored, and given back
/// unchanged to a retry.
public struct AktivitetskortKvittering: LedgerAnswer, Equatable {
    public var aktivitetId: String
    public var meldingId: String
    /// `UPSERT_AKTIVITETSKORT_V1` or `KASSER_AKTIVITET`.
    public var behandlingstype: String
    /// When it was processed (RFC 3339, UTC).
    public var behandlet: String
    /// The portal status and category after an upsert; `nil` after a kassering.
    public var status: String?
    public var category: String?
    public var ruleVersion: Int
    /// False for an upsert older than the card's last applied one: kept, not shown.
    public var applied: Bool

    /// A receipt.
    public init(
        aktivitetId: String, meldingId: String, behandlingstype: String, behandlet: String, status: String?, category: String?,
        ruleVersion: Int, applied: Bool
    ) {
        self.aktivitetId = aktivitetId
        self.meldingId = meldingId
        self.behandlingstype = behandlingstype
        self.behandlet = behandlet
        self.status = status
        self.category = category
        self.ruleVersion = ruleVersion
        self.applied = applied
    }

    public var jsonValue: JSONValue {
        .object([
            "aktivitetId": .string(aktivitetId), "meldingId": .string(meldingId), "behandlingstype": .string(behandlingstype),
            "behandlet": .string(behandlet), "status": status.map(JSONValue.string) ?? .null,
            "category": category.map(JSONValue.string) ?? .null, "ruleVersion": .number(Double(ruleVersion)), "applied": .bool(applied),
        ])
    }

    public init?(json: JSONValue) {
        guard let id = json["aktivitetId"]?.stringValue, let messageId = json["meldingId"]?.stringValue,
            let type = json["behandlingstype"]?.stringValue, let processed = json["behandlet"]?.stringValue,
            case .number(let version)? = json["ruleVersion"], case .bool(let applied)? = json["applied"]
        else { return nil }
        self.init(
            aktivitetId: id, meldingId: messageId, behandlingstype: type, behandlet: processed, status: json["status"]?.stringValue,
            category: json["category"]?.stringValue, ruleVersion: Int(version), applied: applied)
    }
}

/// A card created or changed, as a ledger message. It goes through a transaction of its own (not
/// the one-round-trip path), so that a retry of a message whose card was discarded since is still
/// recognised by the digest its erased request keeps.
public struct AktivitetskortUpsertMessage: LedgerMessage {
    public let bestilling: AktivitetskortBestilling

    /// A message for a validated upsert.
    public init(_ bestilling: AktivitetskortBestilling) {
        self.bestilling = bestilling
    }

    public var scope: String { Aktivitetskort.scope }
    public var messageId: String? { bestilling.messageId }
    public var payload: JSONValue { bestilling.payload }

    public func change(in transaction: any TenantTransaction) async throws -> CaseChange {
        CaseChange(
            sourceSystem: bestilling.source, externalCaseId: bestilling.id, caseType: bestilling.aktivitetskortType,
            rawStatus: bestilling.aktivitetStatus, occurredAt: bestilling.endretTidspunkt, changeType: .update,
            party: bestilling.personIdent)
    }

    public func answer(to applied: AppliedChange) -> AktivitetskortKvittering {
        AktivitetskortKvittering(
            aktivitetId: bestilling.id, meldingId: bestilling.messageId, behandlingstype: Aktivitetskort.upsert,
            behandlet: RFC3339.format(applied.event.recordedAt), status: applied.event.status, category: applied.event.category,
            ruleVersion: applied.event.ruleVersion, applied: applied.event.applied)
    }

    /// The document's own rules, whatever the tenant's say: a card with a final status, or
    /// discarded, takes no change; a card never changes owner; and a card is never a case of
    /// another face.
    public func refusal(on existing: CaseRecord?) -> Rejection? {
        guard let existing else { return nil }
        let card = "aktivitetskort \(bestilling.id)"
        if !Aktivitetskort.sources.contains(existing.sourceSystem) {
            return Rejection(code: .illegalTransition, detail: "\(card) is the id of a case from source system \(existing.sourceSystem)")
        }
        if existing.party != bestilling.personIdent {
            return Rejection(code: .illegalTransition, detail: "\(card) belongs to another person; a card cannot change owner")
        }
        if existing.withdrawnAt != nil {
            return Rejection(code: .illegalTransition, detail: "\(card) was discarded (kassert) and cannot be changed")
        }
        if Aktivitetskort.finalStatuses.contains(existing.rawStatus) {
            return Rejection(
                code: .illegalTransition, detail: "\(card) has final status \(existing.rawStatus) and cannot be changed")
        }
        return nil
    }
}

/// A card discarded, as a ledger message: the card is withdrawn, and the content of every stored
/// version of it is erased in the same transaction, with an audit row of who and why.
public struct AktivitetskortKasseringMessage: LedgerMessage {
    public let kassering: AktivitetskortKassering

    /// A message for a validated kassering.
    public init(_ kassering: AktivitetskortKassering) {
        self.kassering = kassering
    }

    public var scope: String { Aktivitetskort.scope }
    public var messageId: String? { kassering.messageId }
    public var payload: JSONValue { kassering.payload }

    /// A Delete of the card under its own source system (the discarding team may be another). It
    /// takes effect when it is processed, and never before the card's last change, so a producer's
    /// clock can never make a kassering "older" than the card and leave it shown.
    public func change(in transaction: any TenantTransaction) async throws -> CaseChange {
        let existing = try await transaction.lockCase(externalCaseId: kassering.aktivitetsId)
        return CaseChange(
            sourceSystem: existing?.sourceSystem ?? kassering.source, externalCaseId: kassering.aktivitetsId, rawStatus: nil,
            occurredAt: max(Date(), existing?.lastStatusChange ?? .distantPast), changeType: .delete, requiresExistingCase: true)
    }

    public func answer(to applied: AppliedChange) -> AktivitetskortKvittering {
        AktivitetskortKvittering(
            aktivitetId: kassering.aktivitetsId, meldingId: kassering.messageId, behandlingstype: Aktivitetskort.discard,
            behandlet: RFC3339.format(applied.event.recordedAt), status: nil, category: nil, ruleVersion: applied.event.ruleVersion,
            applied: applied.event.applied)
    }

    /// Only the person's own card can be discarded; for anything else the card is "not found", which
    /// tells nobody whether a card of another person exists. Parked: a kassering may overtake its card.
    public func refusal(on existing: CaseRecord?) -> Rejection? {
        guard let existing, Aktivitetskort.sources.contains(existing.sourceSystem), existing.party == kassering.personIdent else {
            return Rejection(code: .caseNotFound, detail: "no aktivitetskort \(kassering.aktivitetsId) of this person")
        }
        return nil
    }

    public func recordDetails(of applied: AppliedChange, in transaction: any TenantTransaction) async throws {
        var digests: [String: String] = [:]
        for event in try await transaction.events(caseId: applied.caseRecord.caseId)
        where event.eventId != applied.event.eventId && !CaseErasure.isErased(event.payload) {
            if let id = event.messageId { digests[id] = CaseErasure.digest(event.payload) }
        }
        let erasure = CaseErasure(
            caseId: applied.caseRecord.caseId, scope: scope, erasedBy: kassering.navIdent, reason: kassering.begrunnelse,
            sourceSystem: kassering.source, messageId: kassering.messageId, requestedAt: kassering.sendt,
            correlationId: applied.event.correlationId, ruleVersion: applied.event.ruleVersion, keptEventId: applied.event.eventId)
        _ = try await transaction.erase(erasure, requestDigests: digests)
    }
}

/// NAV's kinds of processing errors (`aktivitetskort-feil-v1`'s `errorType`), each with the
/// exception class NAV names it by in `errorMessage` (`navikt/veilarbaktivitet`, `ErrorType.kt`).
/// Statusbro's outcomes map to the nearest; `KAFKA_KEY_ULIK_AKTIVITETSID` and
/// `MANGLER_OPPFOLGINGSPERIODE` never occur over HTTP (no Kafka key; follow-up periods are NAV's own).
public enum AktivitetskortErrorType: String, Sendable, CaseIterable {
    case aktivitetIkkeFunnet = "AKTIVITET_IKKE_FUNNET"
    case deserialiseringsfeil = "DESERIALISERINGSFEIL"
    case duplikatmeldingfeil = "DUPLIKATMELDINGFEIL"
    case kafkaKeyUlikAktivitetsId = "KAFKA_KEY_ULIK_AKTIVITETSID"
    case manglerOppfolgingsperiode = "MANGLER_OPPFOLGINGSPERIODE"
    case messageIdLikAktivitetsId = "MESSAGEID_LIK_AKTIVITETSID"
    case ugyldigIdent = "UGYLDIG_IDENT"
    case ulovligEndring = "ULOVLIG_ENDRING"

    /// The exception class that starts NAV's `errorMessage`.
    public var exceptionClass: String {
        switch self {
        case .aktivitetIkkeFunnet: "AktivitetIkkeFunnetFeil"
        case .deserialiseringsfeil: "DeserialiseringsFeil"
        case .duplikatmeldingfeil: "DuplikatMeldingFeil"
        case .kafkaKeyUlikAktivitetsId: "KeyErIkkeFunksjonellIdFeil"
        case .manglerOppfolgingsperiode: "ManglerOppfolgingsperiodeFeil"
        case .messageIdLikAktivitetsId: "MessageIdIkkeUnikFeil"
        case .ugyldigIdent: "UgyldigIdentFeil"
        case .ulovligEndring: "UlovligEndringFeil"
        }
    }

    /// The kind of a refusal; `nil` for what is not about the message (credentials, an unavailable database).
    public init?(_ error: StatusError) {
        switch error {
        case .validationFailed(let errors) where errors.contains(where: { $0.message == Aktivitetskort.messageIdIsCardId }):
            self = .messageIdLikAktivitetsId
        default:
            self.init(code: error.code)
        }
    }

    /// The kind of a stable code (a dead letter's, a problem's).
    public init?(code: String) {
        switch code {
        case "NOT_FOUND": self = .aktivitetIkkeFunnet
        case "VALIDATION_FAILED", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE": self = .deserialiseringsfeil
        case "INVALID_IDENT": self = .ugyldigIdent
        case "DUPLICATE_MESSAGE_CONFLICT": self = .duplikatmeldingfeil
        // Well-formed, and kept for a replay after the rules are fixed: not the producer's payload to fix.
        case "UNKNOWN_SOURCE_SYSTEM", "UNMAPPED_STATUS", "ILLEGAL_TRANSITION": self = .ulovligEndring
        default: return nil
        }
    }
}

/// A parked message as NAV's dead-letter topic `aktivitetskort-feil-v1` shows it.
public struct AktivitetskortFeil: Sendable, Equatable {
    /// The card's id.
    public var key: String
    public var source: String
    /// When it was parked.
    public var timestamp: Date
    /// "Hele payloaden til den feilende meldingen": the message as JSON text.
    public var failingMessage: String
    /// `<exception class> <code>: <detail>`.
    public var errorMessage: String
    public var errorType: AktivitetskortErrorType

    /// The dead letter in NAV's shape; `nil` for one that has no card or producer (never parked by this face).
    public init?(_ letter: DeadLetter) {
        let payload = letter.payload
        guard let key = letter.externalCaseId ?? payload["aktivitetskort"]?["id"]?.stringValue ?? payload["aktivitetsId"]?.stringValue,
            let source = payload["source"]?.stringValue
        else { return nil }
        let type = AktivitetskortErrorType(code: letter.code) ?? .ulovligEndring
        self.key = key
        self.source = source
        self.timestamp = letter.receivedAt
        self.failingMessage = payload.canonicalString
        self.errorMessage = "\(type.exceptionClass) \(letter.code): \(letter.detail)"
        self.errorType = type
    }
}

/// Reads parked Aktivitetskort messages for replay.
public struct AktivitetskortDeadLetterDecoder: DeadLetterDecoder {
    /// A decoder.
    public init() {}

    public var scope: String { Aktivitetskort.scope }

    public func message(from payload: JSONValue) throws -> any LedgerMessage {
        switch try AktivitetskortMelding(json: payload) {
        case .upsert(let bestilling): AktivitetskortUpsertMessage(bestilling)
        case .discard(let kassering): AktivitetskortKasseringMessage(kassering)
        }
    }
}

/// The NAV face's operations: both messages of the topic, and its dead letters.
public struct Aktivitetsplan: Sendable {
    let ledger: CaseLedger
    let deadLetters: DeadLetterDesk

    /// The operations over `ledger`, with parked messages read from `deadLetters`.
    public init(ledger: CaseLedger, deadLetters: DeadLetterDesk) {
        self.ledger = ledger
        self.deadLetters = deadLetters
    }

    /// Applies an upsert or a kassering; a retry of an accepted one answers as the first time
    /// (`replayed`), also after the card was discarded. A refusal parks it and throws `.rejected`.
    public func submit(
        _ melding: AktivitetskortMelding, snapshot: RuleSnapshot, tenant: TenantID, correlationId: String
    ) async throws -> Submitted<AktivitetskortKvittering> {
        switch melding {
        case .upsert(let bestilling):
            try await ledger.submit(
                AktivitetskortUpsertMessage(bestilling), snapshot: snapshot, tenant: tenant, correlationId: correlationId)
        case .discard(let kassering):
            try await ledger.submit(
                AktivitetskortKasseringMessage(kassering), snapshot: snapshot, tenant: tenant, correlationId: correlationId)
        }
    }

    /// The parked messages of this face in `state` (`nil`: pending and replayed), oldest first, in
    /// NAV's shape. Erased ones are left out: their content went with their card.
    public func feil(tenant: TenantID, state: DeadLetter.State?) async throws -> [AktivitetskortFeil] {
        try await deadLetters.list(tenant: tenant, state: state, scope: Aktivitetskort.scope)
            .filter { $0.state != .erased }
            .compactMap(AktivitetskortFeil.init)
    }
}
