import Foundation
import Logging
import StatusRules

/// What validating a document says: findings, the document's tests, and the impact on existing cases.
public struct RulesReport: Sendable {
    public var valid: Bool
    public var errors: [RuleFinding]
    public var warnings: [RuleFinding]
    public var tests: [RuleTestResult]
    public var impact: RulesImpact
}

/// How many existing cases would show a different status.
public struct RulesImpact: Sendable, Equatable {
    /// One source code whose cases would change.
    public struct CodeImpact: Sendable, Equatable {
        public var sourceSystem: String
        public var code: String
        public var cases: Int
        public var from: String
        public var to: String
    }

    public var casesChangingStatus: Int
    /// Largest first.
    public var byCode: [CodeImpact]
}

/// One row of the auditor's rules history: a changed entry of a release.
public struct RulesHistoryRow: Sendable, Equatable {
    public var version: Int
    public var publishedAt: Date
    public var publishedBy: String
    public var comment: String
    public var change: RulesChange
}

/// Drafts, validation, publishing, rollback, history: what municipalities and auditors do with rules.
public struct RulesAdministration: Sendable {
    let store: any StatusStore
    let registry: RulesRegistry
    let logger: Logger

    /// An administration.
    public init(store: any StatusStore, registry: RulesRegistry, logger: Logger) {
        self.store = store
        self.registry = registry
        self.logger = logger
    }

    // MARK: Reading releases

    /// The active release.
    public func active(tenant: TenantID) async throws -> RuleRelease {
        guard let release = try await store.activeRelease(tenant: tenant) else {
            throw StatusError.notFound("the tenant has no published rules")
        }
        return release
    }

    /// The release that was active at `instant`.
    public func release(tenant: TenantID, activeAt instant: Date) async throws -> RuleRelease {
        guard let release = try await store.withTransaction(tenant: tenant, { tx in try await tx.release(activeAt: instant) }) else {
            throw StatusError.notFound("no release was active at \(RFC3339.format(instant))")
        }
        return release
    }

    /// One release.
    public func release(tenant: TenantID, version: Int) async throws -> RuleRelease {
        guard let release = try await store.withTransaction(tenant: tenant, { tx in try await tx.release(version: version) }) else {
            throw StatusError.notFound("no release \(version)")
        }
        return release
    }

    /// Every release, oldest first.
    public func versions(tenant: TenantID) async throws -> [RuleReleaseSummary] {
        try await store.withTransaction(tenant: tenant) { tx in try await tx.releases() }
    }

    /// What changed between two releases.
    public func diff(tenant: TenantID, from: Int, to: Int) async throws -> [RulesChange] {
        let old = try await release(tenant: tenant, version: from)
        let new = try await release(tenant: tenant, version: to)
        return RulesDiff.changes(from: old.document, to: new.document)
    }

    // MARK: Drafts

    /// The tenant's draft.
    public func draft(tenant: TenantID) async throws -> RulesDraft {
        guard let draft = try await store.withTransaction(tenant: tenant, { tx in try await tx.draft() }) else {
            throw StatusError.notFound("the tenant has no draft")
        }
        return draft
    }

    /// Saves a draft; it need not be valid yet, only a JSON object.
    public func saveDraft(tenant: TenantID, document: JSONValue, by subject: String) async throws {
        guard document.objectValue != nil else { throw StatusError.invalid("/", "a draft is a rules document, a JSON object") }
        try await store.withTransaction(tenant: tenant) { tx in
            try await tx.saveDraft(document, baseVersion: try await tx.activeVersion(), by: subject)
        }
    }

    /// Discards the draft.
    public func deleteDraft(tenant: TenantID) async throws {
        guard try await store.withTransaction(tenant: tenant, { tx in try await tx.deleteDraft() }) else {
            throw StatusError.notFound("the tenant has no draft")
        }
    }

    /// The draft as a document, or the validation failure reading it.
    func draftDocument(tenant: TenantID) async throws -> RulesDocument {
        try decode(try await draft(tenant: tenant).document, tenant: tenant)
    }

    // MARK: Validation and simulation

    /// Reads a document sent as JSON, refusing one that cannot be read or that names another tenant.
    public func decode(_ value: JSONValue, tenant: TenantID) throws -> RulesDocument {
        let document: RulesDocument
        do {
            document = try RulesDocument.decode(value: value)
        } catch {
            throw StatusError.rulesInvalid([error.finding])
        }
        guard document.tenant == tenant.rawValue else {
            throw StatusError.rulesInvalid([
                RuleFinding(
                    .error, at: RulePath().key("tenant"), code: "WRONG_TENANT", "must be '\(tenant)', the tenant of your credential")
            ])
        }
        return document
    }

    /// Validates `document` (`nil`: the draft), runs its tests, and measures its impact on existing cases.
    public func validate(tenant: TenantID, document value: JSONValue?) async throws -> RulesReport {
        let document: RulesDocument
        do {
            if let value {
                document = try decode(value, tenant: tenant)
            } else {
                document = try await draftDocument(tenant: tenant)
            }
        } catch StatusError.rulesInvalid(let findings) {
            return RulesReport(
                valid: false, errors: findings.errors, warnings: findings.warnings, tests: [],
                impact: RulesImpact(casesChangingStatus: 0, byCode: []))
        }
        let validation = RulesValidator.validate(document, version: (registry.snapshot(for: tenant)?.version ?? 0) + 1)
        var impact = RulesImpact(casesChangingStatus: 0, byCode: [])
        if let candidate = validation.snapshot {
            let usage = try await store.withTransaction(tenant: tenant) { tx in try await tx.codeUsage() }
            impact = Self.impact(of: usage, from: registry.snapshot(for: tenant), to: candidate).impact
        }
        return RulesReport(
            valid: validation.isValid, errors: validation.findings.errors, warnings: validation.findings.warnings,
            tests: validation.tests, impact: impact
        )
    }

    /// Simulates a code against `document` (`nil`: the active rules).
    public func simulate(tenant: TenantID, document value: JSONValue?, source: String, code: String, fromStatus: String?) async throws
        -> RuleSimulation
    {
        let snapshot: RuleSnapshot
        if let value {
            let validation = RulesValidator.validate(try decode(value, tenant: tenant))
            guard validation.isValid, let compiled = validation.snapshot else { throw StatusError.rulesInvalid(validation.findings) }
            snapshot = compiled
        } else {
            guard let active = registry.snapshot(for: tenant) else { throw StatusError.notFound("the tenant has no published rules") }
            snapshot = active
        }
        var from: PortalStatus?
        if let fromStatus {
            guard let status = snapshot.status(named: fromStatus) else {
                throw StatusError.invalid("/fromStatus", "'\(fromStatus)' is not a portal status of these rules")
            }
            from = status
        }
        return snapshot.simulate(source: source, code: code, fromStatus: from)
    }

    // MARK: Publishing

    /// Publishes `document` (`nil`: the draft) on top of `baseVersion`. Validation or a failing
    /// test refuses it (`rulesInvalid`); another publish since `baseVersion` refuses it
    /// (`versionConflict`). The release, the feed entries of every case whose shown status changes,
    /// and the notification to every server process commit together.
    public func publish(tenant: TenantID, document value: JSONValue?, baseVersion: Int, comment: String, by subject: String) async throws
        -> Int
    {
        let document: RulesDocument
        if let value {
            document = try decode(value, tenant: tenant)
        } else {
            document = try await draftDocument(tenant: tenant)
        }
        return try await publish(
            tenant: tenant, document: document, baseVersion: baseVersion, comment: comment, by: subject, rolledBackFrom: nil)
    }

    /// Publishes the document of `version` again as a new release.
    public func rollback(tenant: TenantID, toVersion version: Int, comment: String, by subject: String) async throws -> Int {
        let old = try await release(tenant: tenant, version: version)
        let active = try await store.withTransaction(tenant: tenant) { tx in try await tx.activeVersion() }
        return try await publish(
            tenant: tenant, document: old.document, baseVersion: active, comment: comment, by: subject, rolledBackFrom: version)
    }

    /// Publishes a document already read.
    public func publish(
        tenant: TenantID, document: RulesDocument, baseVersion: Int, comment: String, by subject: String, rolledBackFrom: Int?
    ) async throws -> Int {
        guard document.tenant == tenant.rawValue else {
            throw StatusError.rulesInvalid([
                RuleFinding(.error, at: RulePath().key("tenant"), code: "WRONG_TENANT", "must be '\(tenant)'")
            ])
        }
        let version = baseVersion + 1
        let validation = RulesValidator.validate(document, version: version)
        guard validation.isValid, let snapshot = validation.snapshot else {
            throw StatusError.rulesInvalid(validation.findings)
        }
        let served = registry.snapshot(for: tenant)
        let remapped = try await store.withTransaction(tenant: tenant) { tx -> Int in
            let active = try await tx.activeVersion()
            guard active == baseVersion else { throw StatusError.versionConflict(active: active) }
            var previous = served
            if previous?.version != active {
                previous = try await tx.release(version: active).flatMap { try? RuleSnapshot.compile($0.document, version: active) }
            }
            do {
                try await tx.insertRelease(
                    NewRuleRelease(
                        version: version, document: document, publishedBy: subject, comment: comment, rolledBackFrom: rolledBackFrom))
            } catch StoreError.conflict(_) {
                throw StatusError.versionConflict(active: try await tx.activeVersion())
            }
            let usage = try await tx.codeUsage()
            return try await tx.appendRulesRemap(Self.impact(of: usage, from: previous, to: snapshot).remaps, version: version)
        }
        registry.install(snapshot, for: tenant)
        logger.info(
            "rules published",
            metadata: ["tenant": "\(tenant)", "version": "\(version)", "by": "\(subject)", "casesRemapped": "\(remapped)"])
        return version
    }

    /// The cases whose shown status differs between two snapshots, per code.
    static func impact(of usage: [CodeUsage], from old: RuleSnapshot?, to new: RuleSnapshot) -> (impact: RulesImpact, remaps: [CodeRemap]) {
        var remaps: [CodeRemap] = []
        var byCode: [String: RulesImpact.CodeImpact] = [:]
        var total = 0
        for row in usage {
            let before = row.displayed(by: old)
            let after = row.displayed(by: new)
            guard before != after else { continue }
            remaps.append(
                CodeRemap(
                    sourceSystem: row.sourceSystem, rawStatus: row.rawStatus, recordedStatus: row.recordedStatus, status: after.0,
                    category: after.1))
            total += row.cases
            let key = row.sourceSystem + "\u{0}" + row.rawStatus
            byCode[
                key,
                default: RulesImpact.CodeImpact(sourceSystem: row.sourceSystem, code: row.rawStatus, cases: 0, from: before.0, to: after.0)
            ]
            .cases += row.cases
        }
        let sorted = byCode.values.sorted { ($0.cases, $1.code) > ($1.cases, $0.code) }
        return (RulesImpact(casesChangingStatus: total, byCode: sorted), remaps)
    }

    // MARK: Audit

    /// One row per changed entry per release published in the window.
    public func history(tenant: TenantID, from: Date?, to: Date?) async throws -> [RulesHistoryRow] {
        try await store.withTransaction(tenant: tenant) { tx in
            let releases = try await tx.releases(publishedFrom: from, to: to)
            var previous: RulesDocument?
            if let first = releases.first, first.version > 1 {
                previous = try await tx.release(version: first.version - 1)?.document
            }
            var rows: [RulesHistoryRow] = []
            for release in releases {
                for change in RulesDiff.changes(from: previous, to: release.document) {
                    rows.append(
                        RulesHistoryRow(
                            version: release.version, publishedAt: release.publishedAt, publishedBy: release.publishedBy,
                            comment: release.comment, change: change))
                }
                previous = release.document
            }
            return rows
        }
    }

    /// Every recorded event in the window (optionally of one case) with the rule version that mapped it.
    public func decisions(tenant: TenantID, externalCaseId: String?, from: Date?, to: Date?, limit: Int = 100_000) async throws
        -> [(externalCaseId: String, event: CaseEvent)]
    {
        try await store.withTransaction(tenant: tenant) { tx in
            try await tx.events(externalCaseId: externalCaseId, from: from, to: to, limit: limit)
        }
    }
}

extension RulesAdministration {
    /// Publishes a tenant file's document when it differs from the active release; returns the
    /// new version, or `nil` when the active release already is this document.
    public func importDocument(_ document: RulesDocument, by subject: String, comment: String) async throws -> Int? {
        guard let tenant = TenantID(document.tenant) else {
            throw StatusError.rulesInvalid([
                RuleFinding(.error, at: RulePath().key("tenant"), code: "INVALID_TENANT_ID", "invalid tenant id")
            ])
        }
        let active = try await store.activeRelease(tenant: tenant)
        if let active, active.document == document { return nil }
        return try await publish(
            tenant: tenant, document: document, baseVersion: active?.version ?? 0, comment: comment, by: subject, rolledBackFrom: nil)
    }
}
