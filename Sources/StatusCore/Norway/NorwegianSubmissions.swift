import Foundation
import StatusRules

/// What a receipt is answered with: the reference it can be read back by (the face makes the link).
public struct KvitteringAnswer: LedgerAnswer, Equatable {
    public var innsendingReferanse: String

    /// An answer.
    public init(innsendingReferanse: String) {
        self.innsendingReferanse = innsendingReferanse
    }

    public var jsonValue: JSONValue { .object(["innsendingReferanse": .string(innsendingReferanse)]) }

    public init?(json: JSONValue) {
        guard let reference = json["innsendingReferanse"]?.stringValue else { return nil }
        self.init(innsendingReferanse: reference)
    }
}

/// What an update is answered with.
public struct OppdateringAnswer: LedgerAnswer, Equatable {
    public var oppdateringId: String
    public var status: String
    public var category: String
    public var ruleVersion: Int

    /// An answer.
    public init(oppdateringId: String, status: String, category: String, ruleVersion: Int) {
        self.oppdateringId = oppdateringId
        self.status = status
        self.category = category
        self.ruleVersion = ruleVersion
    }

    public var jsonValue: JSONValue {
        .object([
            "oppdateringId": .string(oppdateringId), "status": .string(status), "category": .string(category),
            "ruleVersion": .number(Double(ruleVersion)),
        ])
    }

    public init?(json: JSONValue) {
        guard let id = json["oppdateringId"]?.stringValue, let status = json["status"]?.stringValue,
            let category = json["category"]?.stringValue, case .number(let version)? = json["ruleVersion"]
        else { return nil }
        self.init(oppdateringId: id, status: status, category: category, ruleVersion: Int(version))
    }
}

/// A receipt as a ledger message: it creates the case, named by its innsendingReferanse, and is
/// write-once (the reference is its idempotency key).
public struct KvitteringMessage: LedgerMessage {
    public let kvittering: Kvittering

    /// A message for a validated receipt.
    public init(_ kvittering: Kvittering) {
        self.kvittering = kvittering
    }

    public var scope: String { DIBK.receiptScope }
    public var messageId: String? { kvittering.innsendingReferanse }
    public var payload: JSONValue { kvittering.payload }

    public func change(in transaction: any TenantTransaction) async throws -> CaseChange {
        let reference = kvittering.innsendingReferanse
        if let owner = try await transaction.dibkCase(reference: reference), owner != reference {
            throw StatusError.alreadyExists("innsendingReferanse \(reference) already belongs to the submission \(owner)")
        }
        return CaseChange(
            sourceSystem: DIBK.sourceSystem, externalCaseId: reference, caseType: "DiBK", rawStatus: kvittering.milepael,
            occurredAt: kvittering.registered ?? Date(), changeType: .create)
    }

    public func answer(to applied: AppliedChange) -> KvitteringAnswer {
        KvitteringAnswer(innsendingReferanse: kvittering.innsendingReferanse)
    }

    public func recordDetails(of applied: AppliedChange, in transaction: any TenantTransaction) async throws {
        let reference = kvittering.innsendingReferanse
        try await transaction.linkDIBK(references: [reference], to: applied.caseRecord.externalCaseId)
        try await transaction.setDIBKCaseNumber(externalCaseId: applied.caseRecord.externalCaseId, kvittering.saksnummer)
    }
}

/// An update as a ledger message: it applies to the submission one of its references names, links
/// the others to it (merged or moved cases), and sets the status only when it carries a milestone
/// or an outcome.
public struct OppdateringMessage: LedgerMessage {
    public let oppdatering: Oppdatering

    /// A message for a validated update.
    public init(_ oppdatering: Oppdatering) {
        self.oppdatering = oppdatering
    }

    public var scope: String { DIBK.updateScope }
    public var messageId: String? { oppdatering.meldingId }
    public var payload: JSONValue { oppdatering.payload }

    public func change(in transaction: any TenantTransaction) async throws -> CaseChange {
        var owner: String?
        for reference in oppdatering.innsendingReferanse {
            if let found = try await transaction.dibkCase(reference: reference) {
                owner = found
                break
            }
        }
        guard let owner else {
            throw StatusError.notFound("no submission with innsendingReferanse \(oppdatering.innsendingReferanse.joined(separator: ", "))")
        }
        return CaseChange(
            sourceSystem: DIBK.sourceSystem, externalCaseId: owner, rawStatus: oppdatering.rawStatus, occurredAt: oppdatering.oppdatertDato,
            changeType: .update, requiresExistingCase: true)
    }

    public func answer(to applied: AppliedChange) -> OppdateringAnswer {
        OppdateringAnswer(
            oppdateringId: applied.event.eventId.uuidString.lowercased(), status: applied.event.status, category: applied.event.category,
            ruleVersion: applied.event.ruleVersion)
    }

    public func recordDetails(of applied: AppliedChange, in transaction: any TenantTransaction) async throws {
        let owner = applied.caseRecord.externalCaseId
        try await transaction.linkDIBK(references: oppdatering.innsendingReferanse, to: owner)
        if applied.event.applied { try await transaction.setDIBKCaseNumber(externalCaseId: owner, oppdatering.saksnummer) }
        try await transaction.appendDIBKUpdate(
            externalCaseId: owner, oppdateringId: applied.event.eventId, oppdatertDato: oppdatering.oppdatertDato,
            payload: oppdatering.payload)
    }
}

/// Reads parked Norwegian receipts and updates for replay.
public struct NorwegianDeadLetterDecoder: DeadLetterDecoder {
    public let scope: String

    /// A decoder for receipts or updates.
    public init(scope: String) {
        self.scope = scope
    }

    public func message(from payload: JSONValue) throws -> any LedgerMessage {
        if scope == DIBK.receiptScope { return KvitteringMessage(try Kvittering(json: payload)) }
        return OppdateringMessage(try Oppdatering(json: payload))
    }
}

/// The Norwegian face's operations: receipts, updates, and the folded status.
public struct NorwegianSubmissions: Sendable {
    let store: any StatusStore
    let ledger: CaseLedger

    /// The operations over `store`.
    public init(store: any StatusStore, ledger: CaseLedger) {
        self.store = store
        self.ledger = ledger
    }

    /// Records a receipt. The same receipt again answers as the first time (`replayed`); another
    /// body for the same innsendingReferanse is `alreadyExists`.
    public func receive(
        _ kvittering: Kvittering, snapshot: RuleSnapshot, tenant: TenantID, correlationId: String
    ) async throws -> Submitted<KvitteringAnswer> {
        do {
            return try await ledger.submit(KvitteringMessage(kvittering), snapshot: snapshot, tenant: tenant, correlationId: correlationId)
        } catch StatusError.duplicateMessageConflict {
            throw StatusError.alreadyExists(
                "a different receipt for innsendingReferanse \(kvittering.innsendingReferanse) was received before")
        }
    }

    /// Records an update.
    public func update(
        _ oppdatering: Oppdatering, snapshot: RuleSnapshot, tenant: TenantID, correlationId: String
    ) async throws -> Submitted<OppdateringAnswer> {
        try await ledger.submit(OppdateringMessage(oppdatering), snapshot: snapshot, tenant: tenant, correlationId: correlationId)
    }

    /// The receipt stored for a reference.
    public func receipt(tenant: TenantID, innsendingReferanse reference: String) async throws -> JSONValue {
        let stored = try await store.withTransaction(tenant: tenant) { tx in
            try await tx.storedResponse(scope: DIBK.receiptScope, messageId: reference)
        }
        guard let stored else { throw StatusError.notFound("no receipt for innsendingReferanse \(reference)") }
        return stored.request
    }

    /// How to find a submission.
    public enum Lookup: Sendable {
        case reference(String)
        case caseNumber(saksaar: String, sakssekvensnummer: String)
    }

    /// The submission's state, folded from its receipt and every update in order.
    public func status(tenant: TenantID, snapshot: RuleSnapshot, _ lookup: Lookup) async throws -> NorwegianCaseFile {
        try await store.withTransaction(tenant: tenant) { tx in
            let owner: String?
            switch lookup {
            case .reference(let reference): owner = try await tx.dibkCase(reference: reference)
            case .caseNumber(let year, let sequence): owner = try await tx.dibkCase(saksaar: year, sakssekvensnummer: sequence)
            }
            guard let owner, let record = try await tx.lockCase(externalCaseId: owner), record.withdrawnAt == nil,
                let receipt = try await tx.storedResponse(scope: DIBK.receiptScope, messageId: owner)
            else { throw StatusError.notFound("no such submission") }
            let references = try await tx.dibkReferences(externalCaseId: owner)
            let updates = try await tx.dibkUpdates(externalCaseId: owner)
            return NorwegianCaseFile.fold(
                receipt: receipt.request, updates: updates, references: references, shown: record.displayed(by: snapshot),
                recordedAt: record.createdAt)
        }
    }
}
