/// A tenant's rules, as published: the portal vocabulary, the mapping tables per source system,
/// the transition policy, roles, accepted JWT issuers, request limits and the document's own tests.
///
/// The same document is a YAML file in `tenants/` and JSON over the admin API.
public struct RulesDocument: Sendable, Equatable {
    /// The tenant id, `[a-z0-9-]+`.
    public var tenant: String
    /// The municipality's name as people know it.
    public var displayName: String
    /// ISO 3166 country code: `SE`, `NO`, `DK`.
    public var country: String
    /// The national municipality code, such as `"2281"`.
    public var municipalityCode: String?
    /// The tenant's IANA time zone; "tenant time" in the faces.
    public var timeZone: String
    /// How long change-feed entries are served.
    public var feedRetentionDays: Int
    /// The national customer-event categories this tenant uses.
    public var categories: [String]
    /// The portal statuses, each with its category.
    public var statuses: [StatusDefinition]
    /// The mapping table of each source system, by source system name.
    public var sources: [String: SourceDefinition]
    /// Which status changes are allowed.
    public var transitions: TransitionPolicy
    /// Role name → permission names.
    public var roles: [String: [String]]
    /// JWT issuers whose tokens this tenant accepts.
    public var jwtIssuers: [JWTIssuerDefinition]
    /// Request rates this tenant and each of its credentials may use; `nil`: no limit.
    public var limits: TenantLimits?
    /// Checks run on every validate and publish.
    public var tests: [RuleTest]

    /// The retention used when a document does not say.
    public static let defaultFeedRetentionDays = 90

    /// A document with every field given.
    public init(
        tenant: String, displayName: String, country: String, municipalityCode: String? = nil,
        timeZone: String, feedRetentionDays: Int = RulesDocument.defaultFeedRetentionDays,
        categories: [String], statuses: [StatusDefinition], sources: [String: SourceDefinition],
        transitions: TransitionPolicy = TransitionPolicy(), roles: [String: [String]] = [:],
        jwtIssuers: [JWTIssuerDefinition] = [], limits: TenantLimits? = nil, tests: [RuleTest] = []
    ) {
        self.tenant = tenant
        self.displayName = displayName
        self.country = country
        self.municipalityCode = municipalityCode
        self.timeZone = timeZone
        self.feedRetentionDays = feedRetentionDays
        self.categories = categories
        self.statuses = statuses
        self.sources = sources
        self.transitions = transitions
        self.roles = roles
        self.jwtIssuers = jwtIssuers
        self.limits = limits
        self.tests = tests
    }
}

/// A portal status and its national category.
public struct StatusDefinition: Sendable, Equatable {
    /// The status as the portal shows it.
    public var name: String
    /// Its national customer-event category.
    public var category: String
    /// Whether a new case may start here.
    public var initial: Bool
    /// Whether a case never leaves it.
    public var final: Bool

    /// A status definition.
    public init(name: String, category: String, initial: Bool = false, final: Bool = false) {
        self.name = name
        self.category = category
        self.initial = initial
        self.final = final
    }
}

/// One source system's mapping table.
public struct SourceDefinition: Sendable, Equatable {
    /// Raw code → portal status name.
    public var codes: [String: String]
    /// What to do with a code the table does not have.
    public var unmapped: UnmappedPolicy

    /// A mapping table.
    public init(codes: [String: String], unmapped: UnmappedPolicy = .reject) {
        self.codes = codes
        self.unmapped = unmapped
    }
}

/// What happens to a raw code that the table does not map.
public enum UnmappedPolicy: Sendable, Equatable {
    /// The message is rejected and parked as a dead letter.
    case reject
    /// The code shows as this portal status.
    case defaultStatus(String)
}

/// Which moves between portal statuses are allowed.
public struct TransitionPolicy: Sendable, Equatable {
    /// Whether a move is allowed when no rule names its origin.
    public enum Default: String, Sendable, Equatable, Codable {
        case allow
        case deny
    }

    /// Applies to statuses without a rule of their own.
    public var `default`: Default
    /// Explicit moves: a status with a rule may move only to the statuses it lists.
    public var rules: [TransitionRule]

    /// A policy.
    public init(default: Default = .allow, rules: [TransitionRule] = []) {
        self.default = `default`
        self.rules = rules
    }
}

/// The statuses a case may move to from one status; an empty `to` makes `from` final.
public struct TransitionRule: Sendable, Equatable {
    /// The origin status.
    public var from: String
    /// The allowed destinations.
    public var to: [String]

    /// A rule.
    public init(from: String, to: [String]) {
        self.from = from
        self.to = to
    }
}

/// A JWT issuer a tenant trusts; keys are inline (no network fetch).
public struct JWTIssuerDefinition: Sendable, Equatable {
    /// The expected `iss`.
    public var issuer: String
    /// The expected `aud`.
    public var audience: String
    /// The claim listing the tenant's role names.
    public var rolesClaim: String
    /// The JSON Web Key Set, `{"keys": […]}`.
    public var jwks: JSONValue

    /// An issuer definition.
    public init(issuer: String, audience: String, rolesClaim: String = "roles", jwks: JSONValue) {
        self.issuer = issuer
        self.audience = audience
        self.rolesClaim = rolesClaim
        self.jwks = jwks
    }
}

/// A check the document carries about itself; a failing test blocks publishing.
public enum RuleTest: Sendable, Equatable {
    /// What a code of a source system must map to.
    case mapping(name: String?, source: String, code: String, expect: MappingExpectation)
    /// Whether a move must be allowed.
    case transition(name: String?, from: String, to: String, expectAllowed: Bool)

    /// The test's own name, if it has one.
    public var name: String? {
        switch self {
        case .mapping(let name, _, _, _), .transition(let name, _, _, _): name
        }
    }
}

/// The expected outcome of a mapping test.
public enum MappingExpectation: Sendable, Equatable {
    /// The code maps to this status (and, when given, this category).
    case status(String, category: String?)
    /// The code is not mapped (the message would be rejected).
    case unmapped
}
