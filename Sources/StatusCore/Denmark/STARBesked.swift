import Foundation
import StatusRules

/// STAR's web-service messages (WSB, `shared/seeds/003_…`): thin notifications that an entity
/// (an `Indkaldelse`: a summons to an interview) was created, updated or deleted, in a standard
/// envelope. Each entity is a case of the core: `externalCaseId` is `EksternIdentifier`,
/// `caseType` the entity type, the party the citizen's CPR number, and source system `STAR`.
public enum STAR {
    /// The source system of every STAR message in a tenant's rules.
    public static let sourceSystem = "STAR"
    /// The idempotency and dead-letter scope (`BeskedIdentifier` is the key).
    public static let scope = "star-wsb"
    /// The entity types the document names, by `EntitetstypeId` ("unique across all environments").
    public static let entityTypes: [Int: String] = [90000: "Indkaldelse"]
    /// `IdentifikationstypeId` of a CPR number, the only kind the document gives ("Cpr nr (Id 1)").
    public static let cprIdentification = 1
    /// `AendringstypeId`: Create (1), Update (2), Delete (3).
    public static let changeTypes: [Int: ChangeType] = [1: .create, 2: .update, 3: .delete]
    /// The largest integer accepted in an integer member (a PostgreSQL `integer`).
    public static let maximumInteger = 2_147_483_647

    /// The body member that carries an entity's event type: `<EntitetstypeNavn>haendelsestype`,
    /// spelt as the document's example spells it (`Indkaldelsehaendelsestype`).
    public static func eventTypeMember(of entity: String) -> String { entity + "haendelsestype" }

    /// A message or entity id as a key: one that is a UUID in its lower-case form (so `ABC…` and
    /// `abc…` are one key), any other as it is (the document's own examples are anonymised
    /// `xxxxxxxx-…` ids, not UUIDs).
    public static func key(_ id: String) -> String {
        guard id.utf8.count == 36, let uuid = UUID(uuidString: id) else { return id }
        return uuid.uuidString.lowercased()
    }
}

/// One WSB message: the envelope's members at the top level, as the document's example sends
/// them, and the body (the document's "Body") in the member `Body`.
public struct STARBesked: Sendable {
    /// The message's id (`BeskedIdentifier`), as a key.
    public var beskedIdentifier: String
    public var haendelsesTid: Date
    /// The entity type (`EntitetstypeNavn`).
    public var entitet: String
    /// The entity's id (`EksternIdentifier`), as a key.
    public var eksternIdentifier: String
    public var cpr: DanishCPRNumber
    public var changeType: ChangeType
    /// The raw code the tenant's rules map: `<entity>:<event type>` when the body gives one
    /// (`Indkaldelse:3`), else `<entity>:<change type>` (`Indkaldelse:Create`).
    public var rawStatus: String
    public var payload: JSONValue

    static let fields: Set<String> = [
        "Oprindelse", "BeskedIdentifier", "HaendelsesTid", "Miljoe", "KorrelationsIdentifier", "EntitetstypeId", "EntitetstypeNavn",
        "EksternIdentifier", "VersionIdentifier", "Identifikation", "IdentifikationstypeId", "IdentifikationstypeNavn",
        "AendringstypeId", "AendringstypeNavn", "Body",
    ]

    /// Validates a message, reporting every bad member at once. Unknown top-level members are
    /// refused; `Oprindelse` and `Body` are free-form objects (only the event type in the body is read).
    public init(json body: JSONValue, now: Date = Date()) throws(StatusError) {
        let reader = FieldReader(body)
        _ = reader.object("Oprindelse", required: false)
        let messageId = reader.string("BeskedIdentifier")
        let occurredAt = reader.instant("HaendelsesTid")
        _ = reader.optionalString("Miljoe")
        _ = reader.optionalString("KorrelationsIdentifier")
        let entityId = reader.integer("EntitetstypeId", required: false)
        let entity = reader.string("EntitetstypeNavn")
        let externalId = reader.string("EksternIdentifier")
        _ = reader.optionalString("VersionIdentifier")
        let identificationType = reader.integer("IdentifikationstypeId", required: true)
        let identificationName = reader.optionalString("IdentifikationstypeNavn")
        var cpr: DanishCPRNumber?
        if let text = reader.string("Identifikation", maxLength: 20) {
            cpr = DanishCPRNumber(text, now: now)
            if cpr == nil {
                reader.fail(
                    "Identifikation",
                    "must be a Danish CPR number, DDMMYY-SSSS or DDMMYYSSSS, naming a birth date that exists and is not in the future",
                    identityNumber: true)
            }
        }
        if let identificationType, identificationType != STAR.cprIdentification {
            reader.fail("IdentifikationstypeId", "must be 1 (CPR), the only identification type the document gives")
        }
        if let identificationName, identificationName != "CPR" {
            reader.fail("IdentifikationstypeNavn", "must be CPR, the name of IdentifikationstypeId 1")
        }
        var changeType: ChangeType?
        if let id = reader.integer("AendringstypeId", required: true) {
            changeType = STAR.changeTypes[id]
            if changeType == nil { reader.fail("AendringstypeId", "must be 1 (Create), 2 (Update) or 3 (Delete)") }
        }
        if let name = reader.optionalString("AendringstypeNavn"), let changeType, name != changeType.rawValue {
            reader.fail("AendringstypeNavn", "does not match AendringstypeId: \(changeType.rawValue) is its name")
        }
        // An id and a name the document pairs must come together; other entity types are the rules' business.
        if let entityId, let entity {
            let named = STAR.entityTypes[entityId]
            let numbered = STAR.entityTypes.first(where: { $0.value == entity })?.key
            if (named != nil && named != entity) || (numbered != nil && numbered != entityId) {
                reader.fail(
                    "EntitetstypeId",
                    "does not match EntitetstypeNavn: the entity type \(entity) has EntitetstypeId \(numbered.map(String.init) ?? "other than \(entityId)")"
                )
            }
        }
        var eventType: Int?
        if let entity, let message = reader.object("Body", required: false) {
            eventType = message.integer(STAR.eventTypeMember(of: entity), required: false)
        }
        reader.rejectUnknown(Self.fields)
        try reader.finish()
        self.beskedIdentifier = STAR.key(messageId!)
        self.haendelsesTid = occurredAt!
        self.entitet = entity!
        self.eksternIdentifier = STAR.key(externalId!)
        self.cpr = cpr!
        self.changeType = changeType!
        self.rawStatus = entity! + ":" + (eventType.map(String.init) ?? changeType!.rawValue)
        self.payload = body
    }
}

extension FieldReader {
    /// A whole number from 0 to 2147483647 (absent or null is `nil`, and an error when required).
    func integer(_ key: String, required: Bool) -> Int? {
        guard has(key) else {
            if required { fail(key, "is required") }
            return nil
        }
        guard case .number(let value)? = members[key], value.rounded() == value, value >= 0, value <= Double(STAR.maximumInteger) else {
            fail(key, "must be a whole number from 0 to \(STAR.maximumInteger)")
            return nil
        }
        return Int(value)
    }
}

/// A WSB message as a ledger message: it names its case, so it is applied in one round trip.
public struct STARMessage: DirectLedgerMessage {
    public let besked: STARBesked

    /// A message for a validated WSB message.
    public init(_ besked: STARBesked) {
        self.besked = besked
    }

    public var scope: String { STAR.scope }
    public var messageId: String? { besked.beskedIdentifier }
    public var payload: JSONValue { besked.payload }

    public var change: CaseChange {
        CaseChange(
            sourceSystem: STAR.sourceSystem, externalCaseId: besked.eksternIdentifier, caseType: besked.entitet,
            rawStatus: besked.rawStatus, occurredAt: besked.haendelsesTid, changeType: besked.changeType, party: besked.cpr.digits)
    }

    public func answer(to applied: AppliedChange) -> EventReceipt {
        EventReceipt(
            messageId: besked.beskedIdentifier, caseId: applied.caseRecord.caseId.uuidString.lowercased(),
            externalCaseId: applied.caseRecord.externalCaseId, rawStatus: applied.event.rawStatus, status: applied.event.status,
            category: applied.event.category, ruleVersion: applied.event.ruleVersion, applied: applied.event.applied,
            recordedAt: RFC3339.format(applied.event.recordedAt))
    }

    /// An entity is one citizen's entity of one type from STAR: an id that names another face's
    /// case, another type or another person is a clash, never merged.
    public func refusal(on existing: CaseRecord?) -> Rejection? {
        guard let existing else { return nil }
        let entity = "\(besked.entitet) \(besked.eksternIdentifier)"
        if existing.sourceSystem != STAR.sourceSystem {
            return Rejection(
                code: .illegalTransition,
                detail: "EksternIdentifier of \(entity) is the id of a case from source system \(existing.sourceSystem)")
        }
        if existing.caseType != besked.entitet {
            return Rejection(code: .illegalTransition, detail: "EksternIdentifier of \(entity) is the id of a \(existing.caseType)")
        }
        if existing.party != besked.cpr.digits {
            return Rejection(code: .illegalTransition, detail: "\(entity) belongs to another citizen")
        }
        return nil
    }
}

/// Reads parked WSB messages for replay.
public struct STARDeadLetterDecoder: DeadLetterDecoder {
    /// A decoder.
    public init() {}

    public var scope: String { STAR.scope }

    public func message(from payload: JSONValue) throws -> any LedgerMessage {
        // The birth date was checked when the message arrived; a replay must not refuse it as "in the future" on another clock.
        STARMessage(try STARBesked(json: payload, now: .distantFuture))
    }
}

/// One entry of an entity's history: the envelope as received (without the citizen's
/// identification and the caseworker details in `Oprindelse`: the caller knows whose history it
/// asked for, and needs no one's personal data besides), and what the rules made of it when recorded.
public struct STARHistoryEntry: Sendable, Equatable {
    public var envelope: JSONValue
    public var status: String
    public var category: String
    public var ruleVersion: Int
    public var applied: Bool
    public var occurredAt: Date
    public var recordedAt: Date

    /// The envelope members an entry shows, in this order.
    public static let members = [
        "BeskedIdentifier", "KorrelationsIdentifier", "HaendelsesTid", "EntitetstypeId", "EntitetstypeNavn", "EksternIdentifier",
        "VersionIdentifier", "AendringstypeId", "AendringstypeNavn", "Body",
    ]

    init(_ event: CaseEvent) {
        var shown: [String: JSONValue] = [:]
        for member in Self.members { shown[member] = event.payload[member] ?? .null }
        self.envelope = .object(shown)
        self.status = event.status
        self.category = event.category
        self.ruleVersion = event.ruleVersion
        self.applied = event.applied
        self.occurredAt = event.occurredAt
        self.recordedAt = event.recordedAt
    }
}

/// The STAR face's operations: messages in, and the history of an entity or of a citizen's entities.
public struct STARService: Sendable {
    let store: any StatusStore
    let ledger: CaseLedger

    /// The operations over `store`.
    public init(store: any StatusStore, ledger: CaseLedger) {
        self.store = store
        self.ledger = ledger
    }

    /// Records a message; a retry with the same BeskedIdentifier and body answers as the first time.
    public func receive(_ besked: STARBesked, snapshot: RuleSnapshot, tenant: TenantID, correlationId: String) async throws
        -> Submitted<EventReceipt>
    {
        try await ledger.submit(STARMessage(besked), snapshot: snapshot, tenant: tenant, correlationId: correlationId)
    }

    /// One entity's history, oldest first; it stays readable after a Delete. `notFound` for an id
    /// that never named an entity of this type from STAR.
    public func history(tenant: TenantID, entity: String, externalId: String) async throws -> [STARHistoryEntry] {
        let key = STAR.key(externalId)
        guard let record = try await store.caseRecord(tenant: tenant, externalCaseId: key), record.sourceSystem == STAR.sourceSystem,
            record.caseType.lowercased() == entity.lowercased()
        else { throw StatusError.notFound("no \(entity) \(externalId)") }
        let events = try await store.withTransaction(tenant: tenant) { tx in try await tx.events(caseId: record.caseId) }
        return Self.ordered(events)
    }

    /// Every entity of this type of one citizen, their histories merged, oldest first; `[]` when none.
    public func history(tenant: TenantID, entity: String, citizen: DanishCPRNumber) async throws -> [STARHistoryEntry] {
        let events = try await store.withTransaction(tenant: tenant) { tx in
            let cases = try await tx.cases(party: citizen.digits, sourceSystem: STAR.sourceSystem)
                .filter { $0.caseType.lowercased() == entity.lowercased() }
            return try await tx.events(caseIds: cases.map(\.caseId))
        }
        return Self.ordered(events)
    }

    /// By when it happened (`HaendelsesTid`), then by when it was recorded.
    static func ordered(_ events: [CaseEvent]) -> [STARHistoryEntry] {
        events.sorted { ($0.occurredAt, $0.recordedAt, $0.eventId.uuidString) < ($1.occurredAt, $1.recordedAt, $1.eventId.uuidString) }
            .map(STARHistoryEntry.init)
    }
}
