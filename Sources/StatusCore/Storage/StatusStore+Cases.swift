import Foundation
import StatusRules

/// Cases, their events and the answers already given to message ids, inside a tenant's transaction.
public protocol CaseStore: Sendable {
    /// The request and response stored for a message id, if it was accepted before.
    func storedResponse(scope: String, messageId: String) async throws -> StoredResponse?

    /// The case with this external id, locked until the transaction ends.
    func lockCase(externalCaseId: String) async throws -> CaseRecord?
    /// The cases with these external ids (those that exist), locked until the transaction ends.
    func lockCases(externalCaseIds: [String]) async throws -> [String: CaseRecord]
    /// Writes the ledger's decisions, unless a case is not at the revision a decision saw or a
    /// message id was accepted meanwhile: then nothing is written and the report says which.
    func write(_ writes: [LedgerWrite]) async throws -> LedgerWriteReport

    /// Every case of a party from one source system, withdrawn ones too, oldest first.
    func cases(party: String, sourceSystem: String) async throws -> [CaseRecord]

    /// A case's events, oldest first.
    func events(caseId: UUID) async throws -> [CaseEvent]
    /// The events of several cases, in the order they were recorded.
    func events(caseIds: [UUID]) async throws -> [CaseEvent]
    /// Recorded events between two instants, optionally of one case, oldest first.
    func events(externalCaseId: String?, from: Date?, to: Date?, limit: Int) async throws -> [(externalCaseId: String, event: CaseEvent)]

    /// Erases a case's content as `erasure` says (the requests of its messages become `digests`,
    /// by message id) and records the erasure; returns how many events lost their payload.
    func erase(_ erasure: CaseErasure, requestDigests: [String: String]) async throws -> Int
}

/// The request a message id was accepted with and the answer it was given, replayed to a retry.
public struct StoredResponse: Sendable {
    public var request: JSONValue
    public var response: JSONValue

    public init(request: JSONValue, response: JSONValue) {
        self.request = request
        self.response = response
    }
}
