import Foundation
import Yams

/// A rules document that could not be read at all; carries one finding with its path.
public struct RulesDecodingError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and where.
    public var finding: RuleFinding

    /// A description such as `statuses[2].category: is required`.
    public var description: String { "\(finding.path.isEmpty ? "(document)" : finding.path): \(finding.message)" }
}

extension RulesDocument {
    /// Reads a document from YAML (a `tenants/` file).
    public static func decode(yaml: String) throws(RulesDecodingError) -> RulesDocument {
        do {
            return try YAMLDecoder().decode(RulesDocument.self, from: yaml)
        } catch let error as DecodingError {
            throw RulesDecodingError(finding: finding(for: error))
        } catch {
            // Yams reports syntax errors with their line and column in the description.
            throw RulesDecodingError(finding: RuleFinding(.error, at: RulePath(), code: "SYNTAX", "\(error)"))
        }
    }

    /// Reads a document from JSON (the admin API).
    public static func decode(json: Data) throws(RulesDecodingError) -> RulesDocument {
        do {
            return try JSONDecoder().decode(RulesDocument.self, from: json)
        } catch let error as DecodingError {
            throw RulesDecodingError(finding: finding(for: error))
        } catch {
            throw RulesDecodingError(finding: RuleFinding(.error, at: RulePath(), code: "SYNTAX", "not valid JSON"))
        }
    }

    /// Reads a document from a JSON value already parsed (a field of a request body).
    public static func decode(value: JSONValue) throws(RulesDecodingError) -> RulesDocument {
        do {
            return try decode(json: try JSONEncoder().encode(value))
        } catch let error as RulesDecodingError {
            throw error
        } catch {
            throw RulesDecodingError(finding: RuleFinding(.error, at: RulePath(), code: "SYNTAX", "not a rules document"))
        }
    }

    /// The document as YAML, in reading order with sorted tables; Swedish and Norwegian letters kept as they are.
    public func yaml() -> String {
        let encoder = YAMLEncoder()
        encoder.options.allowUnicode = true
        encoder.options.indent = 2
        encoder.options.width = -1
        // The document's types only ever encode strings, numbers, booleans and containers.
        return (try? encoder.encode(self)) ?? ""
    }

    /// The document as JSON, in reading order.
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// The document as a JSON value (for diffs, storage and API bodies).
    public func jsonValue() -> JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: json())) ?? .null
    }

    /// Canonical JSON: equal documents give equal bytes, whatever order their source was in.
    public func canonicalJSON() -> String {
        jsonValue().canonicalString
    }

    static func finding(for error: DecodingError) -> RuleFinding {
        func path(_ codingPath: [any CodingKey]) -> RulePath {
            RulePath(codingPath.map { key in key.intValue.map { .index($0) } ?? .key(key.stringValue) })
        }
        switch error {
        case .keyNotFound(let key, let context):
            return RuleFinding(.error, at: path(context.codingPath + [key]), code: "MISSING_FIELD", "is required")
        case .typeMismatch(let type, let context):
            return RuleFinding(.error, at: path(context.codingPath), code: "WRONG_TYPE", "expected \(describe(type))")
        case .valueNotFound(let type, let context):
            return RuleFinding(.error, at: path(context.codingPath), code: "WRONG_TYPE", "expected \(describe(type)), found nothing")
        case .dataCorrupted(let context):
            return RuleFinding(.error, at: path(context.codingPath), code: "INVALID_VALUE", context.debugDescription)
        @unknown default:
            return RuleFinding(.error, at: RulePath(), code: "INVALID_VALUE", "could not be read")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [Any].Type: "a list"
        default:
            String(describing: type).hasPrefix("Dictionary") || String(describing: type).hasPrefix("KeyedDecodingContainer")
                ? "a mapping" : "a \(type)"
        }
    }
}
