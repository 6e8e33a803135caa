import Foundation

/// The outcome of validating a document: every finding at once, the results of its tests, and
/// the snapshot it compiles to (leniently, so tests run even when something else is wrong).
public struct RulesValidation: Sendable {
    /// Errors and warnings, in document order.
    public var findings: [RuleFinding]
    /// One result per test of the document.
    public var tests: [RuleTestResult]
    /// The compiled document; `nil` only when the document could not be compiled at all.
    public var snapshot: RuleSnapshot?

    /// Whether the document may be published.
    public var isValid: Bool { findings.errors.isEmpty }
}

/// Checks a rules document and reports every finding with its path.
public enum RulesValidator {
    /// Whether `id` is a valid tenant id: lowercase letters, digits and hyphens, starting with a
    /// letter or digit, at most 63 characters (it appears in API keys and as a DNS-safe label).
    public static func isValidTenantID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard let first = bytes.first, bytes.count <= 63, first != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") }
    }

    /// Validates `document`, runs its tests, and compiles it.
    public static func validate(_ document: RulesDocument, version: Int = 0) -> RulesValidation {
        var findings: [RuleFinding] = []
        func error(_ path: RulePath, _ code: String, _ message: String) {
            findings.append(RuleFinding(.error, at: path, code: code, message))
        }
        func warning(_ path: RulePath, _ code: String, _ message: String) {
            findings.append(RuleFinding(.warning, at: path, code: code, message))
        }
        let root = RulePath()

        if !isValidTenantID(document.tenant) {
            error(root.key("tenant"), "INVALID_TENANT_ID", "must be lowercase letters, digits and hyphens, at most 63 characters")
        }
        if document.displayName.trimmingCharacters(in: .whitespaces).isEmpty {
            error(root.key("displayName"), "EMPTY", "must not be empty")
        }
        if !["SE", "NO", "DK", "FI", "IS"].contains(document.country) {
            warning(root.key("country"), "UNKNOWN_COUNTRY", "'\(document.country)' is not a Nordic country code")
        }
        if TimeZone(identifier: document.timeZone) == nil {
            error(root.key("timeZone"), "UNKNOWN_TIME_ZONE", "'\(document.timeZone)' is not an IANA time zone")
        }
        if document.feedRetentionDays < 1 || document.feedRetentionDays > 3650 {
            error(root.key("feedRetentionDays"), "OUT_OF_RANGE", "must be between 1 and 3650 days")
        }

        // Categories and statuses: the vocabulary everything else refers to.
        var categories = Set<String>()
        for (index, category) in document.categories.enumerated() {
            if !categories.insert(category).inserted {
                error(root.key("categories").index(index), "DUPLICATE", "category '\(category)' is listed twice")
            }
        }
        var statusNames = Set<String>()
        for (index, status) in document.statuses.enumerated() {
            let path = root.key("statuses").index(index)
            if status.name.trimmingCharacters(in: .whitespaces).isEmpty {
                error(path.key("name"), "EMPTY", "a status needs a name")
            } else if !statusNames.insert(status.name).inserted {
                error(path.key("name"), "DUPLICATE", "status '\(status.name)' is defined twice")
            }
            if !categories.contains(status.category) {
                error(path.key("category"), "UNKNOWN_CATEGORY", "category '\(status.category)' is not in categories")
            }
            if status.initial && status.final {
                warning(path, "INITIAL_AND_FINAL", "status '\(status.name)' is both initial and final")
            }
        }
        if document.statuses.isEmpty {
            error(root.key("statuses"), "NO_STATUSES", "at least one portal status is needed")
        } else if !document.statuses.contains(where: \.initial) {
            error(root.key("statuses"), "NO_INITIAL_STATUS", "no status is marked initial: true")
        }

        // Sources: every code must name a known status.
        var mappedStatuses = Set<String>()
        for name in document.sources.keys.sorted() {
            let source = document.sources[name]!
            let path = root.key("sources").key(name)
            if name.isEmpty || name.contains(":") || name.contains(where: \.isWhitespace) {
                error(path, "INVALID_SOURCE_NAME", "a source system name may not be empty or contain ':' or spaces")
            }
            if source.codes.isEmpty {
                warning(path.key("codes"), "NO_CODES", "source system '\(name)' maps no codes")
            }
            for code in source.codes.keys.sorted() {
                let status = source.codes[code]!
                if code.isEmpty {
                    error(path.key("codes").key(code), "EMPTY", "an empty code cannot be sent")
                }
                if statusNames.contains(status) {
                    mappedStatuses.insert(status)
                } else {
                    error(path.key("codes").key(code), "UNKNOWN_STATUS", "maps to '\(status)', which is not a portal status")
                }
            }
            if case .defaultStatus(let status) = source.unmapped {
                if statusNames.contains(status) {
                    mappedStatuses.insert(status)
                } else {
                    error(path.key("unmapped").key("default"), "UNKNOWN_STATUS", "'\(status)' is not a portal status")
                }
            }
        }
        for (index, status) in document.statuses.enumerated()
        where !status.initial && !mappedStatuses.contains(status.name) && !status.name.isEmpty {
            warning(root.key("statuses").index(index), "UNREACHABLE_STATUS", "no code maps to '\(status.name)'")
        }

        // Transitions.
        let finalStatuses = Set(document.statuses.filter(\.final).map(\.name))
        var ruleOrigins = Set<String>()
        for (index, rule) in document.transitions.rules.enumerated() {
            let path = root.key("transitions").key("rules").index(index)
            if !statusNames.contains(rule.from) {
                error(path.key("from"), "UNKNOWN_STATUS", "'\(rule.from)' is not a portal status")
            }
            if !ruleOrigins.insert(rule.from).inserted {
                error(path.key("from"), "DUPLICATE", "'\(rule.from)' already has a rule")
            }
            for (toIndex, to) in rule.to.enumerated() where !statusNames.contains(to) {
                error(path.key("to").index(toIndex), "UNKNOWN_STATUS", "'\(to)' is not a portal status")
            }
            if finalStatuses.contains(rule.from) && !rule.to.isEmpty {
                error(path.key("to"), "FINAL_WITH_MOVES", "'\(rule.from)' is final and cannot move on")
            }
        }
        if document.transitions.default == .deny {
            for (index, status) in document.statuses.enumerated()
            where !status.final && !ruleOrigins.contains(status.name) && !status.name.isEmpty {
                warning(root.key("statuses").index(index), "DEAD_END", "with default deny and no rule, '\(status.name)' cannot move on")
            }
        }

        // Roles.
        for role in document.roles.keys.sorted() {
            for (index, name) in document.roles[role]!.enumerated() {
                let path = root.key("roles").key(role).index(index)
                guard let permission = Permission(name) else {
                    error(path, "UNKNOWN_PERMISSION", "'\(name)' is not a permission")
                    continue
                }
                if case .eventsWrite(let source?) = permission, document.sources[source] == nil {
                    error(path, "UNKNOWN_SOURCE", "'\(source)' is not a source system of this document")
                }
            }
        }

        // JWT issuers.
        var issuers = Set<String>()
        for (index, issuer) in document.jwtIssuers.enumerated() {
            let path = root.key("jwtIssuers").index(index)
            if issuer.issuer.isEmpty { error(path.key("issuer"), "EMPTY", "an issuer is needed") }
            if !issuers.insert(issuer.issuer).inserted {
                error(path.key("issuer"), "DUPLICATE", "issuer '\(issuer.issuer)' is listed twice")
            }
            if issuer.audience.isEmpty { error(path.key("audience"), "EMPTY", "an audience is needed") }
            if issuer.rolesClaim.isEmpty { error(path.key("rolesClaim"), "EMPTY", "a roles claim is needed") }
            for problem in JWKSShape.problems(in: issuer.jwks) {
                error(path.key("jwks").appending(problem.path), "INVALID_JWKS", problem.message)
            }
        }

        // Limits: each bucket must be able to let a request through, and not be so large it limits nothing.
        if let limits = document.limits {
            let path = root.key("limits")
            let scopes: [(String, RequestLimits)] = [("tenant", limits.tenant), ("perKey", limits.perKey)]
            for (scope, buckets) in scopes {
                for (kind, bucket) in [("reads", buckets.reads), ("writes", buckets.writes)] {
                    guard let bucket else { continue }
                    let at = path.key(scope).key(kind)
                    if !(bucket.perSecond > 0 && bucket.perSecond <= RateLimit.maximumPerSecond) {
                        error(
                            at.key("perSecond"), "OUT_OF_RANGE",
                            "must be more than 0 and at most \(Int(RateLimit.maximumPerSecond)) requests per second")
                    }
                    if bucket.burst < 1 || bucket.burst > RateLimit.maximumBurst {
                        error(at.key("burst"), "OUT_OF_RANGE", "must be between 1 and \(RateLimit.maximumBurst) requests")
                    }
                }
            }
            for (kind, key, tenant) in [
                ("reads", limits.perKey.reads, limits.tenant.reads), ("writes", limits.perKey.writes, limits.tenant.writes),
            ] {
                if let key, let tenant, key.perSecond > tenant.perSecond {
                    warning(
                        path.key("perKey").key(kind).key("perSecond"), "NEVER_REACHED",
                        "one key may use more than the whole tenant (\(tenant.perSecond) per second); the tenant's limit applies first")
                }
            }
        }

        // Tests run against the lenient compilation, so a broken entry elsewhere does not hide them.
        let snapshot = RuleSnapshot(lenient: document, version: version)
        var results: [RuleTestResult] = []
        for (index, test) in document.tests.enumerated() {
            let path = root.key("tests").index(index)
            switch test {
            case .mapping(_, let source, _, let expect):
                if document.sources[source] == nil {
                    error(path.key("source"), "UNKNOWN_SOURCE", "'\(source)' is not a source system of this document")
                }
                if case .status(let status, let category) = expect {
                    if !statusNames.contains(status) {
                        error(path.key("expect").key("status"), "UNKNOWN_STATUS", "'\(status)' is not a portal status")
                    }
                    if let category, !categories.contains(category) {
                        error(path.key("expect").key("category"), "UNKNOWN_CATEGORY", "'\(category)' is not in categories")
                    }
                }
            case .transition(_, let from, let to, _):
                if !statusNames.contains(from) {
                    error(path.key("transition").key("from"), "UNKNOWN_STATUS", "'\(from)' is not a portal status")
                }
                if !statusNames.contains(to) {
                    error(path.key("transition").key("to"), "UNKNOWN_STATUS", "'\(to)' is not a portal status")
                }
            }
            let result = snapshot.run(test, index: index)
            if !result.passed {
                error(path, "TEST_FAILED", "test \(result.label) failed: \(result.message ?? "")")
            }
            results.append(result)
        }
        return RulesValidation(findings: findings, tests: results, snapshot: snapshot)
    }
}

extension RulePath {
    /// This path followed by `other`.
    func appending(_ other: RulePath) -> RulePath {
        RulePath(components + other.components)
    }
}

/// Structural checks of a JSON Web Key Set; the cryptographic parse happens where the keys are used.
enum JWKSShape {
    struct Problem {
        var path: RulePath
        var message: String
    }

    static func problems(in jwks: JSONValue) -> [Problem] {
        guard let keys = jwks["keys"]?.arrayValue else {
            return [Problem(path: RulePath(), message: "a JWKS is an object with a 'keys' list")]
        }
        if keys.isEmpty { return [Problem(path: RulePath().key("keys"), message: "the key set is empty")] }
        var problems: [Problem] = []
        for (index, key) in keys.enumerated() {
            let path = RulePath().key("keys").index(index)
            guard let members = key.objectValue else {
                problems.append(Problem(path: path, message: "a key is an object"))
                continue
            }
            func requireBase64URL(_ name: String) {
                guard let value = members[name]?.stringValue, !value.isEmpty, Data(base64URLEncoded: value) != nil else {
                    problems.append(Problem(path: path.key(name), message: "'\(name)' must be base64url"))
                    return
                }
            }
            switch members["kty"]?.stringValue {
            case "RSA":
                requireBase64URL("n")
                requireBase64URL("e")
            case "EC":
                if !["P-256", "P-384", "P-521"].contains(members["crv"]?.stringValue ?? "") {
                    problems.append(Problem(path: path.key("crv"), message: "'crv' must be P-256, P-384 or P-521"))
                }
                requireBase64URL("x")
                requireBase64URL("y")
            case "OKP":
                requireBase64URL("x")
            case let other:
                problems.append(Problem(path: path.key("kty"), message: "unsupported key type '\(other ?? "none")'"))
            }
        }
        return problems
    }
}

extension Data {
    /// Decodes unpadded base64url (RFC 4648 §5), as used in JWKs and JWTs.
    public init?(base64URLEncoded string: String) {
        var base64 = string.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base64.contains("=") else { return nil }
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
