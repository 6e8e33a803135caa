import Foundation
import StatusRules

/// A published, immutable rules release.
public struct RuleRelease: Sendable {
    public var tenant: TenantID
    public var version: Int
    public var document: RulesDocument
    public var sha256: String
    public var publishedBy: String
    public var publishedAt: Date
    public var comment: String
    /// The version whose document a rollback restored.
    public var rolledBackFrom: Int?

    /// A release.
    public init(
        tenant: TenantID, version: Int, document: RulesDocument, sha256: String, publishedBy: String, publishedAt: Date,
        comment: String, rolledBackFrom: Int?
    ) {
        self.tenant = tenant
        self.version = version
        self.document = document
        self.sha256 = sha256
        self.publishedBy = publishedBy
        self.publishedAt = publishedAt
        self.comment = comment
        self.rolledBackFrom = rolledBackFrom
    }
}

/// A release without its document, for listings.
public struct RuleReleaseSummary: Sendable, Equatable {
    public var version: Int
    public var sha256: String
    public var publishedBy: String
    public var publishedAt: Date
    public var comment: String
    public var rolledBackFrom: Int?

    /// A summary.
    public init(version: Int, sha256: String, publishedBy: String, publishedAt: Date, comment: String, rolledBackFrom: Int?) {
        self.version = version
        self.sha256 = sha256
        self.publishedBy = publishedBy
        self.publishedAt = publishedAt
        self.comment = comment
        self.rolledBackFrom = rolledBackFrom
    }
}

/// A release to insert.
public struct NewRuleRelease: Sendable {
    public var version: Int
    public var document: RulesDocument
    public var publishedBy: String
    public var comment: String
    public var rolledBackFrom: Int?

    /// A new release.
    public init(version: Int, document: RulesDocument, publishedBy: String, comment: String, rolledBackFrom: Int?) {
        self.version = version
        self.document = document
        self.publishedBy = publishedBy
        self.comment = comment
        self.rolledBackFrom = rolledBackFrom
    }
}

/// The tenant's draft.
public struct RulesDraft: Sendable {
    public var document: JSONValue
    /// The version that was active when the draft was last saved: the `baseVersion` to publish it on.
    public var baseVersion: Int
    public var updatedBy: String
    public var updatedAt: Date

    /// A draft.
    public init(document: JSONValue, baseVersion: Int, updatedBy: String, updatedAt: Date) {
        self.document = document
        self.baseVersion = baseVersion
        self.updatedBy = updatedBy
        self.updatedAt = updatedAt
    }
}

/// How many cases show a code of a source system, and what status was recorded for it.
public struct CodeUsage: Sendable, Equatable {
    public var sourceSystem: String
    public var rawStatus: String
    public var recordedStatus: String
    public var recordedCategory: String
    public var cases: Int

    /// A usage row.
    public init(sourceSystem: String, rawStatus: String, recordedStatus: String, recordedCategory: String, cases: Int) {
        self.sourceSystem = sourceSystem
        self.rawStatus = rawStatus
        self.recordedStatus = recordedStatus
        self.recordedCategory = recordedCategory
        self.cases = cases
    }
}

/// The new status every case with a code of a source system shows after a publish.
public struct CodeRemap: Sendable, Equatable {
    public var sourceSystem: String
    public var rawStatus: String
    /// Only cases whose recorded status is this one (the fallback when a code becomes unmapped differs per case).
    public var recordedStatus: String
    public var status: String
    public var category: String

    /// A remap.
    public init(sourceSystem: String, rawStatus: String, recordedStatus: String, status: String, category: String) {
        self.sourceSystem = sourceSystem
        self.rawStatus = rawStatus
        self.recordedStatus = recordedStatus
        self.status = status
        self.category = category
    }
}
