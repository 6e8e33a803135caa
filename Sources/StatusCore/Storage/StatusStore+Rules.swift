import Foundation
import StatusRules

/// Rule releases, the draft and what the cases show, inside a tenant's transaction.
public protocol RulesStore: Sendable {
    /// The active release version (0 when none).
    func activeVersion() async throws -> Int
    /// The release of `version`, or `nil` when the tenant has none of that version.
    func release(version: Int) async throws -> RuleRelease?
    /// The release that was active at an instant.
    func release(activeAt: Date) async throws -> RuleRelease?
    /// Every release, oldest first, without documents.
    func releases() async throws -> [RuleReleaseSummary]
    /// Every release published in a window, oldest first, with documents (for audit).
    func releases(publishedFrom: Date?, to: Date?) async throws -> [RuleRelease]
    /// Inserts a release; `StoreError.conflict` when its version exists.
    func insertRelease(_ release: NewRuleRelease) async throws
    /// The draft being edited, or `nil` when there is none.
    func draft() async throws -> RulesDraft?
    /// Saves the draft, noting the version it is based on.
    func saveDraft(_ document: JSONValue, baseVersion: Int, by: String) async throws
    /// Discards the draft; false when there was none.
    func deleteDraft() async throws -> Bool
    /// How many current cases show each code.
    func codeUsage() async throws -> [CodeUsage]
}

extension StatusStore {
    /// The active release of a tenant, or `nil` when it has none.
    public func activeRelease(tenant: TenantID) async throws -> RuleRelease? {
        try await withTransaction(tenant: tenant) { tx in
            let version = try await tx.activeVersion()
            return version == 0 ? nil : try await tx.release(version: version)
        }
    }
}
