import Foundation
import Logging
import StatusRules

/// Loads tenants' active releases from storage, compiles them, and installs them in the registry.
/// Used at start-up, by the rules listener on a notification or a resync, and by a publish.
public struct RulesLoader: Sendable {
    let store: any StatusStore
    let registry: RulesRegistry
    let logger: Logger

    /// A loader.
    public init(store: any StatusStore, registry: RulesRegistry, logger: Logger) {
        self.store = store
        self.registry = registry
        self.logger = logger
    }

    /// Outcome of a reload, for metrics and tests.
    public enum Outcome: Sendable, Equatable {
        case installed(version: Int)
        case unchanged
        case failed(version: Int)
    }

    /// Reloads `tenant` if storage has a newer version than the one served.
    @discardableResult
    public func reload(_ tenant: TenantID) async throws -> Outcome {
        guard let release = try await store.activeRelease(tenant: tenant) else { return .unchanged }
        return install(release)
    }

    /// Compiles and installs a release already read.
    @discardableResult
    public func install(_ release: RuleRelease) -> Outcome {
        if let served = registry.snapshot(for: release.tenant), served.version >= release.version { return .unchanged }
        do {
            let snapshot = try RuleSnapshot.compile(release.document, version: release.version)
            guard release.document.tenant == release.tenant.rawValue else {
                throw RulesInvalidError(findings: [
                    RuleFinding(.error, at: RulePath().key("tenant"), code: "WRONG_TENANT", "the document names another tenant")
                ])
            }
            registry.install(snapshot, for: release.tenant)
            return .installed(version: release.version)
        } catch {
            // Never served: the previous snapshot stays, and /health shows why.
            registry.recordFailure(tenant: release.tenant, version: release.version, message: "\(error)")
            logger.error(
                "rules release failed to compile; previous release stays in service",
                metadata: ["tenant": "\(release.tenant)", "version": "\(release.version)", "error": "\(error)"]
            )
            return .failed(version: release.version)
        }
    }

    /// Compares every tenant's version in storage with the served one and reloads those that differ.
    /// Returns the tenants reloaded.
    @discardableResult
    public func resync() async throws -> [TenantID: Outcome] {
        let stored = try await store.tenantVersions()
        let served = registry.status()
        var outcomes: [TenantID: Outcome] = [:]
        // A few at a time: a thousand tenants load in parallel without exhausting the pool.
        try await withThrowingTaskGroup(of: (TenantID, Outcome).self) { group in
            var pending = stored.filter { tenant, version in
                guard version > 0 else { return false }
                let status = served[tenant]
                if let failure = status?.failure, failure.version == version { return false }
                return (status?.servedVersion ?? 0) < version
            }.map(\.key).makeIterator()
            var running = 0
            while let tenant = pending.next() {
                group.addTask { (tenant, try await reload(tenant)) }
                running += 1
                if running >= 8, let (tenant, outcome) = try await group.next() {
                    outcomes[tenant] = outcome
                    running -= 1
                }
            }
            for try await (tenant, outcome) in group { outcomes[tenant] = outcome }
        }
        return outcomes
    }
}
