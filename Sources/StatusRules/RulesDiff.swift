import Foundation

/// One entry that differs between two rules documents.
public struct RulesChange: Sendable, Equatable, Codable {
    /// `added`, `removed` or `changed`.
    public enum Kind: String, Sendable, Codable {
        case added
        case removed
        case changed
    }

    /// The entry, such as `sources.BYGGR.codes.KOMP` or `statuses.Klart`.
    public var path: String
    /// What happened to it.
    public var change: Kind
    /// The value before (absent when added).
    public var old: JSONValue?
    /// The value after (absent when removed).
    public var new: JSONValue?

    /// A change.
    public init(path: String, change: Kind, old: JSONValue?, new: JSONValue?) {
        self.path = path
        self.change = change
        self.old = old
        self.new = new
    }
}

extension RulesDocument {
    /// The document as a flat list of entries an auditor reads one by one: a mapping entry per
    /// code, a status per name, a rule per origin, a role per name, and so on.
    public func auditEntries() -> [(path: String, value: JSONValue)] {
        var entries: [(String, JSONValue)] = []
        entries.append(("displayName", .string(displayName)))
        entries.append(("country", .string(country)))
        if let municipalityCode { entries.append(("municipalityCode", .string(municipalityCode))) }
        entries.append(("timeZone", .string(timeZone)))
        entries.append(("feedRetentionDays", .number(Double(feedRetentionDays))))
        for category in categories { entries.append(("categories.\(category)", .bool(true))) }
        for status in statuses {
            var members: [String: JSONValue] = ["category": .string(status.category)]
            if status.initial { members["initial"] = .bool(true) }
            if status.final { members["final"] = .bool(true) }
            entries.append(("statuses.\(status.name)", .object(members)))
        }
        for name in sources.keys.sorted() {
            let source = sources[name]!
            let unmapped: JSONValue =
                switch source.unmapped {
                case .reject: .string("reject")
                case .defaultStatus(let status): .object(["default": .string(status)])
                }
            entries.append(("sources.\(name).unmapped", unmapped))
            for code in source.codes.keys.sorted() {
                entries.append(("sources.\(name).codes.\(code)", .string(source.codes[code]!)))
            }
        }
        entries.append(("transitions.default", .string(transitions.default.rawValue)))
        for rule in transitions.rules {
            entries.append(("transitions.rules.\(rule.from)", .array(rule.to.map(JSONValue.string))))
        }
        for role in roles.keys.sorted() {
            entries.append(("roles.\(role)", .array(roles[role]!.map(JSONValue.string))))
        }
        for issuer in jwtIssuers {
            entries.append(
                (
                    "jwtIssuers.\(issuer.issuer)",
                    .object([
                        "audience": .string(issuer.audience), "rolesClaim": .string(issuer.rolesClaim), "jwks": issuer.jwks,
                    ])
                ))
        }
        for (index, test) in tests.enumerated() {
            let value = (try? JSONValue.parse(JSONEncoder().encode(test))) ?? .null
            entries.append(("tests[\(index)]", value))
        }
        return entries
    }
}

/// Differences between rules documents.
public enum RulesDiff {
    /// What changed from `old` (`nil`: nothing before, everything is added) to `new`, in the order of `new`'s entries
    /// with removals where they stood.
    public static func changes(from old: RulesDocument?, to new: RulesDocument) -> [RulesChange] {
        let before = old?.auditEntries() ?? []
        let after = new.auditEntries()
        let beforeByPath = Dictionary(before.map { ($0.path, $0.value) }, uniquingKeysWith: { first, _ in first })
        let afterByPath = Dictionary(after.map { ($0.path, $0.value) }, uniquingKeysWith: { first, _ in first })
        var changes: [RulesChange] = []
        for (path, value) in before where afterByPath[path] == nil {
            changes.append(RulesChange(path: path, change: .removed, old: value, new: nil))
        }
        for (path, value) in after {
            switch beforeByPath[path] {
            case nil: changes.append(RulesChange(path: path, change: .added, old: nil, new: value))
            case let previous? where previous != value:
                changes.append(RulesChange(path: path, change: .changed, old: previous, new: value))
            default: break
            }
        }
        return changes
    }
}
