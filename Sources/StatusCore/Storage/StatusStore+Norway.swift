import Foundation
import StatusRules

/// DiBK's submissions (Norway) inside a tenant's transaction: the references and municipal case
/// numbers that find a case, and the updates of a submission.
public protocol NorwegianSubmissionStore: Sendable {
    /// The case (its external id) a DiBK innsendingReferanse belongs to.
    func dibkCase(reference: String) async throws -> String?
    /// The case most recently given this municipal case number.
    func dibkCase(saksaar: String, sakssekvensnummer: String) async throws -> String?
    /// Links references to a case; references already linked stay where they are.
    func linkDIBK(references: [String], to externalCaseId: String) async throws
    /// Sets a case's current municipal case number.
    func setDIBKCaseNumber(externalCaseId: String, _ number: Saksnummer) async throws
    /// Appends an update of a submission.
    func appendDIBKUpdate(externalCaseId: String, oppdateringId: UUID, oppdatertDato: Date, payload: JSONValue) async throws
    /// The references linked to a case, oldest first.
    func dibkReferences(externalCaseId: String) async throws -> [String]
    /// A submission's updates in the order they happened.
    func dibkUpdates(externalCaseId: String) async throws -> [JSONValue]
}
