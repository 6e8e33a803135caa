import Foundation

/// A portal status as compiled into a snapshot.
public struct PortalStatus: Sendable, Hashable {
    /// Position in the document's `statuses`; indexes the transition matrix.
    public let index: Int
    /// The status as the portal shows it.
    public let name: String
    /// Its national customer-event category.
    public let category: String
    /// Whether a new case may start here.
    public let isInitial: Bool
    /// Whether a case never leaves it.
    public let isFinal: Bool
}

/// What a (source system, raw code) pair maps to.
public enum CodeMapping: Sendable, Equatable {
    /// A portal status; `matched` is false when the source's default for unmapped codes applied.
    case mapped(PortalStatus, matched: Bool)
    /// The source system exists but rejects this code.
    case unmapped
    /// The tenant has no such source system.
    case unknownSource

    /// The status, when there is one.
    public var status: PortalStatus? {
        if case .mapped(let status, _) = self { return status }
        return nil
    }
}

/// A rules document compiled for serving: constant-time mapping, a transition matrix and the
/// permissions of every role. Immutable; a publish produces a new snapshot that replaces the old
/// one atomically, and a request keeps the snapshot it started with.
public final class RuleSnapshot: Sendable {
    /// The release this was compiled from (0 for a document that was never published).
    public let version: Int
    /// The document as published.
    public let document: RulesDocument
    /// The tenant id.
    public var tenant: String { document.tenant }
    /// The tenant's time zone (UTC when the document names none that exists; validation reports that).
    public let timeZone: TimeZone
    /// The portal statuses, in document order.
    public let statuses: [PortalStatus]

    private let statusByName: [String: PortalStatus]
    private let sources: [String: CompiledSource]
    private let table: CodeTable
    private let matrix: [Bool]
    private let roles: [String: PermissionSet]

    /// A source system's policy for codes its table does not map (the table itself is `table`).
    private struct CompiledSource: Sendable {
        let fallback: PortalStatus?
    }

    /// Compiles `document`, failing with every finding when it does not validate.
    public static func compile(_ document: RulesDocument, version: Int) throws(RulesInvalidError) -> RuleSnapshot {
        let validation = RulesValidator.validate(document, version: version)
        guard validation.findings.errors.isEmpty, let snapshot = validation.snapshot else {
            throw RulesInvalidError(findings: validation.findings)
        }
        return snapshot
    }

    /// Builds a snapshot leniently: entries that name something unknown are left out. Only the
    /// validator calls this directly, to run a document's tests even when it has other findings.
    init(lenient document: RulesDocument, version: Int) {
        self.version = version
        self.document = document
        self.timeZone = TimeZone(identifier: document.timeZone) ?? TimeZone(secondsFromGMT: 0)!

        let finalByRule = Set(document.transitions.rules.filter { $0.to.isEmpty }.map(\.from))
        var statuses: [PortalStatus] = []
        var byName: [String: PortalStatus] = [:]
        for definition in document.statuses where byName[definition.name] == nil {
            let status = PortalStatus(
                index: statuses.count, name: definition.name, category: definition.category,
                isInitial: definition.initial, isFinal: definition.final || finalByRule.contains(definition.name)
            )
            statuses.append(status)
            byName[definition.name] = status
        }
        self.statuses = statuses
        self.statusByName = byName

        var sources: [String: CompiledSource] = [:]
        var entries: [(source: String, code: String, status: Int)] = []
        for (name, source) in document.sources {
            for (code, statusName) in source.codes {
                if let status = byName[statusName] { entries.append((name, code, status.index)) }
            }
            var fallback: PortalStatus?
            if case .defaultStatus(let statusName) = source.unmapped { fallback = byName[statusName] }
            sources[name] = CompiledSource(fallback: fallback)
        }
        self.sources = sources
        self.table = CodeTable(entries)

        let count = statuses.count
        var matrix = [Bool](repeating: document.transitions.default == .allow, count: count * count)
        for rule in document.transitions.rules {
            guard let from = byName[rule.from] else { continue }
            for to in 0..<count { matrix[from.index * count + to] = false }
            for name in rule.to {
                if let to = byName[name] { matrix[from.index * count + to.index] = true }
            }
        }
        for status in statuses where status.isFinal {
            for to in 0..<count { matrix[status.index * count + to] = false }
        }
        self.matrix = matrix

        var roles: [String: PermissionSet] = [:]
        for (role, names) in document.roles {
            roles[role] = PermissionSet(names.compactMap(Permission.init))
        }
        self.roles = roles
    }

    /// The portal status named `name`.
    public func status(named name: String) -> PortalStatus? {
        statusByName[name]
    }

    /// Maps a raw code of a source system: constant time, no allocation.
    public func map(source: String, code: String) -> CodeMapping {
        if let index = table.status(source: source, code: code) { return .mapped(statuses[index], matched: true) }
        guard let compiled = sources[source] else { return .unknownSource }
        if let fallback = compiled.fallback { return .mapped(fallback, matched: false) }
        return .unmapped
    }

    /// Whether the tenant has this source system.
    public func hasSource(_ source: String) -> Bool {
        sources[source] != nil
    }

    /// Whether a case may move from `from` to `to`. A new case (`from == nil`) may start anywhere,
    /// and staying on the same status is not a move.
    public func isTransitionAllowed(from: PortalStatus?, to: PortalStatus) -> Bool {
        guard let from, from.index != to.index else { return true }
        return matrix[from.index * statuses.count + to.index]
    }

    /// Whether the document defines `role`.
    public func hasRole(_ role: String) -> Bool {
        roles[role] != nil
    }

    /// What the given roles together may do; roles this document does not define grant nothing.
    public func permissions(forRoles names: [String]) -> PermissionSet {
        if names.count == 1 { return roles[names[0]] ?? PermissionSet() }
        var result = PermissionSet()
        for name in names {
            if let granted = roles[name] { result.formUnion(granted) }
        }
        return result
    }
}

/// A rules document that fails validation or its own tests.
public struct RulesInvalidError: Error, Sendable, CustomStringConvertible {
    /// Every finding, errors and warnings.
    public var findings: [RuleFinding]

    /// An error carrying `findings`.
    public init(findings: [RuleFinding]) {
        self.findings = findings
    }

    /// A finding per line.
    public var description: String {
        findings.errors.map { "\($0.path): \($0.message)" }.joined(separator: "\n")
    }
}
