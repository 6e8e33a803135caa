import Foundation
import StatusRules
import Synchronization

/// The snapshot each tenant is served with. Readers take the current snapshot once per request
/// and keep it; a reload swaps in a new one atomically, never an older version over a newer.
public final class RulesRegistry: Sendable {
    /// A release that could not be compiled: the previous snapshot stays in service.
    public struct ReloadFailure: Sendable, Equatable {
        public var version: Int
        public var message: String
        public var at: Date
    }

    /// What `/health` reports per tenant.
    public struct TenantStatus: Sendable, Equatable {
        public var servedVersion: Int
        public var failure: ReloadFailure?
    }

    private struct State {
        var snapshots: [TenantID: RuleSnapshot] = [:]
        var failures: [TenantID: ReloadFailure] = [:]
        var generation = 0
    }

    private let state = Mutex(State())

    /// An empty registry.
    public init() {}

    /// The snapshot to serve `tenant` with.
    public func snapshot(for tenant: TenantID) -> RuleSnapshot? {
        state.withLock { $0.snapshots[tenant] }
    }

    /// The snapshot serving `tenant`; a tenant whose rules are not loaded cannot be served.
    public func serving(_ tenant: TenantID) throws(StatusError) -> RuleSnapshot {
        guard let snapshot = snapshot(for: tenant) else { throw StatusError.unavailable("the rules of this tenant are not loaded") }
        return snapshot
    }

    /// Installs `snapshot` unless a newer one is already served; returns whether it was installed.
    @discardableResult
    public func install(_ snapshot: RuleSnapshot, for tenant: TenantID) -> Bool {
        state.withLock { state in
            if let current = state.snapshots[tenant], current.version >= snapshot.version { return false }
            state.snapshots[tenant] = snapshot
            state.generation += 1
            if let failure = state.failures[tenant], failure.version <= snapshot.version {
                state.failures[tenant] = nil
            }
            return true
        }
    }

    /// Records that `version` of `tenant` could not be compiled.
    public func recordFailure(tenant: TenantID, version: Int, message: String) {
        state.withLock { $0.failures[tenant] = ReloadFailure(version: version, message: message, at: Date()) }
    }

    /// The served version of every tenant.
    public func versions() -> [TenantID: Int] {
        state.withLock { $0.snapshots.mapValues(\.version) }
    }

    /// Every tenant's served version and any failed reload.
    public func status() -> [TenantID: TenantStatus] {
        state.withLock { state in
            var result: [TenantID: TenantStatus] = [:]
            for (tenant, snapshot) in state.snapshots {
                result[tenant] = TenantStatus(servedVersion: snapshot.version, failure: state.failures[tenant])
            }
            for (tenant, failure) in state.failures where result[tenant] == nil {
                result[tenant] = TenantStatus(servedVersion: 0, failure: failure)
            }
            return result
        }
    }

    /// Changes whenever any snapshot is replaced: caches derived from all snapshots compare it.
    public var generation: Int { state.withLock { $0.generation } }

    /// Every served snapshot, with the generation they belong to.
    public func snapshots() -> (generation: Int, snapshots: [TenantID: RuleSnapshot]) {
        state.withLock { ($0.generation, $0.snapshots) }
    }

    /// The number of tenants served.
    public var count: Int { state.withLock { $0.snapshots.count } }
}
