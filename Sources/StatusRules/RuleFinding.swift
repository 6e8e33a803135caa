import Foundation

/// Where in a rules document something is: `sources.BYGGR.codes.KOMP`, `statuses[2].category`.
public struct RulePath: Sendable, Hashable, CustomStringConvertible {
    /// One step of a path: a member name or an array index.
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    /// The steps from the document's root.
    public var components: [Component]

    /// A path from its steps.
    public init(_ components: [Component] = []) {
        self.components = components
    }

    /// This path extended by a member name.
    public func key(_ name: String) -> RulePath {
        RulePath(components + [.key(name)])
    }

    /// This path extended by an array index.
    public func index(_ index: Int) -> RulePath {
        RulePath(components + [.index(index)])
    }

    /// The dotted form used in messages and the console: `transitions.rules[0].to[1]`.
    public var description: String {
        var output = ""
        for component in components {
            switch component {
            case .key(let name):
                if !output.isEmpty { output += "." }
                output += name
            case .index(let index):
                output += "[\(index)]"
            }
        }
        return output
    }

    /// The RFC 6901 JSON Pointer form: `/transitions/rules/0/to/1`.
    public var jsonPointer: String {
        components.map { component in
            switch component {
            case .key(let name):
                "/" + name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
            case .index(let index):
                "/\(index)"
            }
        }.joined()
    }
}

/// One thing validation has to say about a rules document.
public struct RuleFinding: Sendable, Hashable, Codable {
    /// Errors block publishing; warnings are shown and allowed.
    public enum Severity: String, Sendable, Codable {
        case error
        case warning
    }

    /// How serious it is.
    public var severity: Severity
    /// Where it is, dotted.
    public var path: String
    /// Where it is, as a JSON Pointer into the document.
    public var pointer: String
    /// A stable machine-readable code, such as `UNKNOWN_STATUS`.
    public var code: String
    /// What is wrong, for a person.
    public var message: String

    /// A finding at `path`.
    public init(_ severity: Severity, at path: RulePath, code: String, _ message: String) {
        self.severity = severity
        self.path = path.description
        self.pointer = path.jsonPointer
        self.code = code
        self.message = message
    }
}

extension Array where Element == RuleFinding {
    /// The findings that block publishing.
    public var errors: [RuleFinding] { filter { $0.severity == .error } }
    /// The findings that do not.
    public var warnings: [RuleFinding] { filter { $0.severity == .warning } }
}
