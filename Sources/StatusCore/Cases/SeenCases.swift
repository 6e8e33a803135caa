import Synchronization

/// The cases this process last wrote, so that the next change of one is decided and written in
/// one round trip. Never trusted: storage writes a decision only if the case is still at the
/// revision recorded here, and otherwise reports the case as it is now. So an entry made stale by
/// another process costs one more round trip, never a wrong write.
final class SeenCases: Sendable {
    private struct Key: Hashable {
        var tenant: TenantID
        var externalCaseId: String
    }

    private let cases = Mutex<[Key: CaseRecord]>([:])
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The case as last seen, `nil` when unknown (then it is expected not to exist).
    func record(_ tenant: TenantID, _ externalCaseId: String) -> CaseRecord? {
        guard capacity > 0 else { return nil }
        return cases.withLock { $0[Key(tenant: tenant, externalCaseId: externalCaseId)] }
    }

    /// Remembers a case as written; forgets everything when full (the next writes relearn).
    func store(_ record: CaseRecord, _ tenant: TenantID) {
        guard capacity > 0 else { return }
        cases.withLock { cases in
            if cases.count >= capacity { cases.removeAll(keepingCapacity: true) }
            cases[Key(tenant: tenant, externalCaseId: record.externalCaseId)] = record
        }
    }
}
