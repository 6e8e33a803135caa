import StatusCore
import Synchronization

/// Counts database operations in flight and refuses new ones beyond a limit, so a slow or
/// exhausted pool answers 503 at once instead of queueing requests without bound.
final class AdmissionGate: Sendable {
    private let limit: Int
    private let inFlight = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    func enter() throws {
        let now = inFlight.add(1, ordering: .relaxed).newValue
        if now > limit {
            inFlight.subtract(1, ordering: .relaxed)
            throw StoreError.unavailable("the service is at capacity; retry shortly")
        }
    }

    func leave() {
        inFlight.subtract(1, ordering: .relaxed)
    }

    /// Operations in flight now.
    var current: Int { inFlight.load(ordering: .relaxed) }
}
