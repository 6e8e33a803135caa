import Foundation
import Logging
import StatusRules

/// Turns a parked payload back into a message, for one scope of dead letters.
public protocol DeadLetterDecoder: Sendable {
    /// The scope it reads (`events`, `dibk-oppdatering`).
    var scope: String { get }
    /// The message the payload held; it was valid when parked.
    func message(from payload: JSONValue) throws -> any LedgerMessage
}

/// Reads parked Swedish-style events.
public struct EventDeadLetterDecoder: DeadLetterDecoder {
    /// A decoder.
    public init() {}

    /// `events`.
    public var scope: String { EventMessage.scope }

    /// The event.
    public func message(from payload: JSONValue) throws -> any LedgerMessage {
        EventMessage(try EventSubmission(json: payload))
    }
}

/// Whether a replayed message was applied.
public enum ReplayOutcome: String, Sendable, Equatable {
    /// The message is now applied (or was already).
    case accepted
    /// Still parked; the result's code and detail say why.
    case rejected
}

/// What a replay did.
public struct ReplayResult: Sendable, Equatable {
    public var deadLetterId: String
    public var outcome: ReplayOutcome
    public var code: String?
    public var detail: String?
    /// The answer the message now has, when accepted.
    public var response: JSONValue?

    /// The result as stored with the dead letter.
    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = ["outcome": .string(outcome.rawValue), "at": .string(RFC3339.format(Date()))]
        if let code { members["code"] = .string(code) }
        if let detail { members["detail"] = .string(detail) }
        if let response { members["response"] = response }
        return .object(members)
    }
}

/// Lists dead letters and replays them through the tenant's current rules.
public struct DeadLetterDesk: Sendable {
    let store: any StatusStore
    let ledger: CaseLedger
    let decoders: [String: any DeadLetterDecoder]
    let logger: Logger

    /// A desk replaying the scopes `decoders` read.
    public init(store: any StatusStore, ledger: CaseLedger, decoders: [any DeadLetterDecoder], logger: Logger) {
        self.store = store
        self.ledger = ledger
        self.decoders = Dictionary(decoders.map { ($0.scope, $0) }, uniquingKeysWith: { first, _ in first })
        self.logger = logger
    }

    /// Dead letters in a state (`nil`: all), of one scope (`nil`: all), oldest first.
    public func list(tenant: TenantID, state: DeadLetter.State?, scope: String? = nil, limit: Int = 1000) async throws -> [DeadLetter] {
        try await store.withTransaction(tenant: tenant) { tx in try await tx.deadLetters(state: state, scope: scope, limit: limit) }
    }

    /// Replays one dead letter under `snapshot`. The replay and the dead letter's new state commit
    /// together, so a message is never applied twice nor lost between the two.
    public func replay(id: UUID, tenant: TenantID, snapshot: RuleSnapshot) async throws -> ReplayResult {
        try await retryingConflicts {
            try await store.withTransaction(tenant: tenant) { tx in
                guard let letter = try await tx.lockDeadLetter(id: id) else {
                    throw StatusError.notFound("no dead letter \(id.uuidString.lowercased())")
                }
                let idText = id.uuidString.lowercased()
                switch letter.state {
                case .pending: break
                case .replayed:
                    return ReplayResult(deadLetterId: idText, outcome: .accepted, code: nil, detail: "already replayed", response: nil)
                case .erased:
                    // Its content is gone with its case: there is nothing left to apply.
                    return ReplayResult(
                        deadLetterId: idText, outcome: .rejected, code: "NOT_FOUND", detail: "its case was erased", response: nil)
                }
                guard let decoder = decoders[letter.scope] else {
                    throw StatusError.unavailable("dead letters of kind '\(letter.scope)' cannot be replayed by this server")
                }
                let result: ReplayResult
                do {
                    let message = try decoder.message(from: letter.payload)
                    result = try await replay(
                        message, deadLetterId: idText, snapshot: snapshot, in: tx, correlationId: letter.correlationId)
                } catch let error as StatusError {
                    // A message that can no longer be applied at all (its id reused for another body,
                    // its case gone) stays parked with the reason.
                    result = ReplayResult(deadLetterId: idText, outcome: .rejected, code: error.code, detail: error.detail, response: nil)
                }
                try await tx.recordReplay(
                    id: id, replayed: result.outcome == .accepted, code: result.code, detail: result.detail, result: result.jsonValue)
                return result
            }
        }
    }

    /// Applies a parked message again; a rejection leaves it parked (no second dead letter).
    private func replay<M: LedgerMessage>(
        _ message: M, deadLetterId: String, snapshot: RuleSnapshot, in tx: any TenantTransaction, correlationId: String
    ) async throws -> ReplayResult {
        switch try await ledger.apply(message, snapshot: snapshot, in: tx, correlationId: correlationId, parkingRejections: false) {
        case .answered(let submitted):
            return ReplayResult(
                deadLetterId: deadLetterId, outcome: .accepted, code: nil, detail: nil, response: submitted.answer.jsonValue)
        case .rejected(let rejection, _):
            return ReplayResult(
                deadLetterId: deadLetterId, outcome: .rejected, code: rejection.code.rawValue, detail: rejection.detail, response: nil)
        }
    }

    /// Replays every pending dead letter, oldest first, each in its own transaction.
    public func replayAll(tenant: TenantID, snapshot: RuleSnapshot, limit: Int = 10_000) async throws -> [ReplayResult] {
        let pending = try await list(tenant: tenant, state: .pending, limit: limit)
        var results: [ReplayResult] = []
        for letter in pending {
            results.append(try await replay(id: letter.id, tenant: tenant, snapshot: snapshot))
        }
        logger.info(
            "dead letters replayed",
            metadata: [
                "tenant": "\(tenant)", "replayed": "\(results.count)",
                "accepted": "\(results.filter { $0.outcome == .accepted }.count)",
            ])
        return results
    }
}
