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
        let pending = stored.filter { tenant, version in
            guard version > 0 else { return false }
            let status = served[tenant]
            if let failure = status?.failure, failure.version == version { return false }
            return (status?.servedVersion ?? 0) < version
        }
        var outcomes: [TenantID: Outcome] = [:]
        if pending.count > Self.oneByOneLimit {
            // Many at once (start-up): every active release in one round trip, compiled on every core.
            let releases = try await store.activeReleases().filter { pending[$0.tenant] != nil }
            for (tenant, outcome) in await install(releases) { outcomes[tenant] = outcome }
            return outcomes
        }
        for tenant in pending.keys { outcomes[tenant] = try await reload(tenant) }
        return outcomes
    }

    /// Above this many tenants to reload, one query for all is cheaper than one each.
    static let oneByOneLimit = 4

    /// Compiles and installs releases in parallel.
    func install(_ releases: [RuleRelease]) async -> [(TenantID, Outcome)] {
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        return await withTaskGroup(of: [(TenantID, Outcome)].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    stride(from: worker, to: releases.count, by: workers).map { (releases[$0].tenant, install(releases[$0])) }
                }
            }
            var outcomes: [(TenantID, Outcome)] = []
            for await part in group { outcomes += part }
            return outcomes
        }
    }
}
