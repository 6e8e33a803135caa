import Foundation
import StatusRules

/// A receipt as a ledger message: it creates the case, named by its innsendingReferanse, and is
/// write-once (the reference is its idempotency key).
public struct KvitteringMessage: LedgerMessage {
    public let kvittering: Kvittering
    /// Where the receipt can be read back; stored with the answer.
    public let receiptURL: String

    /// A message for a validated receipt.
    public init(_ kvittering: Kvittering, receiptURL: String) {
        self.kvittering = kvittering
        self.receiptURL = receiptURL
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

    public func respond(to applied: AppliedChange, in transaction: any TenantTransaction) async throws -> JSONValue {
        let reference = kvittering.innsendingReferanse
        try await transaction.linkDIBK(references: [reference], to: applied.caseRecord.externalCaseId)
        try await transaction.setDIBKCaseNumber(externalCaseId: applied.caseRecord.externalCaseId, kvittering.saksnummer)
        return .object(["kvitteringUrl": .string(receiptURL)])
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

    public func respond(to applied: AppliedChange, in transaction: any TenantTransaction) async throws -> JSONValue {
        let owner = applied.caseRecord.externalCaseId
        try await transaction.linkDIBK(references: oppdatering.innsendingReferanse, to: owner)
        if applied.event.applied { try await transaction.setDIBKCaseNumber(externalCaseId: owner, oppdatering.saksnummer) }
        try await transaction.appendDIBKUpdate(
            externalCaseId: owner, oppdateringId: applied.event.eventId, oppdatertDato: oppdatering.oppdatertDato,
            payload: oppdatering.payload)
        return .object([
            "oppdateringId": .string(applied.event.eventId.uuidString.lowercased()), "status": .string(applied.event.status),
            "category": .string(applied.event.category), "ruleVersion": .number(Double(applied.event.ruleVersion)),
        ])
    }
}

/// Reads parked Norwegian receipts and updates for replay. A replayed receipt answers with a
/// relative `kvitteringUrl` (there is no request to take the server's address from).
public struct NorwegianDeadLetterDecoder: DeadLetterDecoder {
    public let scope: String

    /// A decoder for receipts or updates.
    public init(scope: String) {
        self.scope = scope
    }

    public func message(from payload: JSONValue) throws -> any LedgerMessage {
        if scope == DIBK.receiptScope {
            let kvittering = try Kvittering(json: payload)
            return KvitteringMessage(kvittering, receiptURL: NorwegianSubmissions.receiptPath(kvittering.innsendingReferanse))
        }
        return OppdateringMessage(try Oppdatering(json: payload))
    }
}

/// The Norwegian face's operations: receipts, updates, and the folded status.
public struct NorwegianSubmissions: Sendable {
    let store: any StatusStore
    let ledger: CaseLedger
    let registry: RulesRegistry

    /// The operations over `store`.
    public init(store: any StatusStore, ledger: CaseLedger, registry: RulesRegistry) {
        self.store = store
        self.ledger = ledger
        self.registry = registry
    }

    /// The path where a receipt is read back.
    public static func receiptPath(_ reference: String) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        return "/dibk/api/v1/kvittering?innsendingReferanse="
            + (reference.addingPercentEncoding(withAllowedCharacters: allowed) ?? reference)
    }

    /// Records a receipt. The same receipt again answers as the first time (`replayed`); another
    /// body for the same innsendingReferanse is `alreadyExists`.
    public func receive(_ kvittering: Kvittering, baseURL: String, tenant: TenantID, correlationId: String) async throws -> LedgerAnswer {
        let message = KvitteringMessage(kvittering, receiptURL: baseURL + Self.receiptPath(kvittering.innsendingReferanse))
        do {
            return try await ledger.submit(message, tenant: tenant, correlationId: correlationId)
        } catch StatusError.duplicateMessageConflict {
            throw StatusError.alreadyExists(
                "a different receipt for innsendingReferanse \(kvittering.innsendingReferanse) was received before")
        }
    }

    /// Records an update.
    public func update(_ oppdatering: Oppdatering, tenant: TenantID, correlationId: String) async throws -> LedgerAnswer {
        try await ledger.submit(OppdateringMessage(oppdatering), tenant: tenant, correlationId: correlationId)
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
    public func status(tenant: TenantID, _ lookup: Lookup) async throws -> NorwegianCaseFile {
        guard let snapshot = registry.snapshot(for: tenant) else {
            throw StatusError.unavailable("the rules of this tenant are not loaded")
        }
        return try await store.withTransaction(tenant: tenant) { tx in
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
