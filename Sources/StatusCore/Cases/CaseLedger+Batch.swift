import Foundation
import StatusRules

/// One item of a backfill: a message, or what was sent in its place and could not be read as one.
public enum BatchItem<Message: DirectLedgerMessage>: Sendable {
    case message(Message)
    /// Kept as a dead letter like any refused message, with the reason it could not be read.
    case malformed(MalformedMessage)
}

/// Something sent as a message that is not a valid one.
public struct MalformedMessage: Sendable {
    /// The scope it would have had.
    public var scope: String
    /// Its own message id when it has one, else a digest of what was sent: sending the same thing
    /// again finds the same pending dead letter instead of adding one.
    public var messageId: String
    /// What was sent, as JSON (a string when it was not JSON at all).
    public var payload: JSONValue
    /// Why it is not a message.
    public var error: StatusError

    /// A malformed message.
    public init(scope: String, messageId: String, payload: JSONValue, error: StatusError) {
        self.scope = scope
        self.messageId = messageId
        self.payload = payload
        self.error = error
    }
}

/// What became of one item of a backfill.
public enum BatchResult<Answer: LedgerAnswer>: Sendable {
    case accepted(Submitted<Answer>)
    /// Refused; `deadLetterId` when it was kept as a dead letter.
    case refused(StatusError, deadLetterId: String?)
}

extension CaseLedger {
    /// Applies `items` in order in one transaction: exactly what submitting them one by one would
    /// do (the same decisions, history, feed entries, dead letters and answers), in a few round
    /// trips. Their cases are locked first, so the decisions made in memory hold until the commit.
    public func submitBatch<M: DirectLedgerMessage>(
        _ items: [BatchItem<M>], snapshot: RuleSnapshot, tenant: TenantID, correlationId: String
    ) async throws -> [BatchResult<M.Answer>] {
        try await retryingConflicts {
            try await store.withTransaction(tenant: tenant) { tx in
                try await applyBatch(items, snapshot: snapshot, in: tx, correlationId: correlationId)
            }
        }
    }

    func applyBatch<M: DirectLedgerMessage>(
        _ items: [BatchItem<M>], snapshot: RuleSnapshot, in tx: any TenantTransaction, correlationId: String
    ) async throws -> [BatchResult<M.Answer>] {
        var results = [BatchResult<M.Answer>?](repeating: nil, count: items.count)
        // A message id sent twice in one batch: the same message is answered as the first was,
        // another one under the same id is a conflict, as it would be one after the other.
        var firstByMessageId: [String: (index: Int, payload: JSONValue)] = [:]
        var sameAs: [Int: Int] = [:]
        var live: [Int] = []
        var malformed: [Int] = []
        for (index, item) in items.enumerated() {
            let (messageId, payload): (String?, JSONValue) =
                switch item {
                case .message(let message): (message.messageId, message.payload)
                case .malformed(let bad): (bad.messageId, bad.payload)
                }
            if let messageId {
                if let first = firstByMessageId[messageId] {
                    if first.payload == payload {
                        sameAs[index] = first.index
                    } else {
                        results[index] = .refused(.duplicateMessageConflict(messageId: messageId), deadLetterId: nil)
                    }
                    continue
                }
                firstByMessageId[messageId] = (index, payload)
            }
            if case .message = item { live.append(index) } else { malformed.append(index) }
        }

        let locked = try await tx.lockCases(
            externalCaseIds: Array(
                Set(
                    live.compactMap { index -> String? in
                        if case .message(let message) = items[index] { return message.change.externalCaseId }
                        return nil
                    })))
        // Each event its own recording instant, a microsecond apart in batch order: a case's history
        // (ordered by when its events were recorded) reads as it would had they come one by one.
        let start = (Date().timeIntervalSince1970 * 1e6).rounded(.down)
        func recordedAt(_ index: Int) -> Date { Date(timeIntervalSince1970: (start + Double(index)) / 1e6) }
        while true {
            var working = locked
            var decisions: [Int: CaseDecision] = [:]
            var writes: [LedgerWrite] = []
            for index in live {
                guard case .message(let message) = items[index] else { continue }
                let change = message.change
                let origin = MessageOrigin(
                    messageId: message.messageId, payload: message.payload, payloadText: message.payloadText, correlationId: correlationId)
                let decision: CaseDecision
                do {
                    decision = try message.decide(
                        change, on: working[change.externalCaseId], snapshot: snapshot, origin: origin, now: recordedAt(index))
                } catch {
                    results[index] = .refused(error, deadLetterId: nil)
                    continue
                }
                if case .applied(let applied) = decision { working[change.externalCaseId] = applied.caseRecord }
                decisions[index] = decision
                writes.append(
                    Self.write(
                        message, decision, ordinal: index, origin: origin, externalCaseId: change.externalCaseId,
                        seen: locked[change.externalCaseId]))
            }
            for index in malformed {
                guard case .malformed(let bad) = items[index] else { continue }
                writes.append(
                    LedgerWrite(
                        ordinal: index, scope: bad.scope,
                        origin: MessageOrigin(messageId: bad.messageId, payload: bad.payload, correlationId: correlationId),
                        externalCaseId: nil, expectedRevision: nil,
                        effect: .park(deadLetterId: .timeOrdered(), code: bad.error.code, detail: bad.error.detail)))
            }

            let report = try await tx.write(writes)
            if !report.replayed.isEmpty {
                // Accepted before (an import run again): answered as then, and the rest decided
                // again without them, since nothing was written.
                for (index, replay) in report.replayed {
                    switch items[index] {
                    case .message(let message):
                        do {
                            results[index] = .accepted(try Self.replayed(replay, of: message))
                        } catch {
                            results[index] = .refused(error, deadLetterId: nil)
                        }
                    case .malformed(let bad):
                        results[index] = .refused(.duplicateMessageConflict(messageId: bad.messageId), deadLetterId: nil)
                    }
                }
                live.removeAll { report.replayed[$0] != nil }
                malformed.removeAll { report.replayed[$0] != nil }
                continue
            }
            guard report.stale.isEmpty else { throw StoreError.conflict("a case changed while the batch was applied") }

            for write in writes {
                let index = write.ordinal
                let deadLetterId = (report.parked[index] ?? write.deadLetterId)?.uuidString.lowercased()
                switch (items[index], decisions[index]) {
                case (.message(let message), .applied(let applied)?):
                    results[index] = .accepted(Submitted(answer: message.answer(to: applied), replayed: false))
                case (.message, .rejected(let rejection)?):
                    results[index] = .refused(.rejected(rejection, deadLetterId: deadLetterId ?? ""), deadLetterId: deadLetterId)
                case (.malformed(let bad), _):
                    results[index] = .refused(bad.error, deadLetterId: deadLetterId)
                case (.message, nil):
                    break
                }
            }
            break
        }
        for (duplicate, first) in sameAs {
            switch results[first] {
            case .accepted(let submitted)?: results[duplicate] = .accepted(Submitted(answer: submitted.answer, replayed: true))
            case let other?: results[duplicate] = other
            case nil: break
            }
        }
        return results.map { $0 ?? .refused(.unavailable("not processed"), deadLetterId: nil) }
    }
}
