import Foundation

/// A JSON value of any shape, for the parts of a rules document (and of messages) that are free-form.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The members, when this is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The member named `key`, when this is an object that has it.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// Compact JSON with sorted object keys: the same value always renders the same bytes.
    public var canonicalString: String {
        var output = ""
        write(to: &output)
        return output
    }

    /// A human-readable rendering: strings bare, everything else as canonical JSON.
    public var displayString: String {
        if case .string(let value) = self { return value }
        return canonicalString
    }

    private func write(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .number(let value):
            if value.rounded() == value, abs(value) < 1e15 {
                output += String(Int64(value))
            } else {
                output += "\(value)"
            }
        case .string(let value): JSONValue.writeString(value, to: &output)
        case .array(let values):
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                value.write(to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { output += "," }
                JSONValue.writeString(key, to: &output)
                output += ":"
                members[key]!.write(to: &output)
            }
            output += "}"
        }
    }

    /// Appends `value` as a JSON string literal.
    public static func writeString(_ value: String, to output: inout String) {
        output += "\""
        // Most strings need no escaping: append them whole (this runs on every response).
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            output += value
            output += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case let c where c.value < 0x20:
                output +=
                    "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count)
                    + String(c.value, radix: 16)
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}

extension JSONValue: Codable {
    /// Decodes any JSON value.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    /// Encodes the value as itself.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 1e15 {
                try container.encode(Int64(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value):
            var keyed = encoder.container(keyedBy: AnyCodingKey.self)
            for key in value.keys.sorted() {
                try keyed.encode(value[key]!, forKey: AnyCodingKey(key))
            }
        }
    }
}

extension JSONValue {
    /// The JSON Pointer of the first string (key or value) holding a NUL character, if any:
    /// valid JSON that PostgreSQL's jsonb, and many other systems, cannot store.
    public func firstNULPointer(_ pointer: String = "") -> String? {
        // Every body goes through this: look first, and build a pointer only for the rare NUL.
        guard containsNUL else { return nil }
        switch self {
        case .string: return pointer.isEmpty ? "/" : pointer
        case .array(let values):
            for (index, value) in values.enumerated() {
                if let found = value.firstNULPointer(pointer + "/\(index)") { return found }
            }
            return nil
        case .object(let members):
            for key in members.keys.sorted() {
                let path = pointer + "/" + JSONValue.pointerToken(key)
                if key.utf8.contains(0) { return path }
                if let found = members[key]!.firstNULPointer(path) { return found }
            }
            return nil
        default: return nil
        }
    }

    private var containsNUL: Bool {
        switch self {
        case .string(let text): text.utf8.contains(0)
        case .array(let values): values.contains { $0.containsNUL }
        case .object(let members): members.contains { $0.key.utf8.contains(0) || $0.value.containsNUL }
        default: false
        }
    }

    /// A key as a JSON Pointer reference token (RFC 6901: `~` as `~0`, `/` as `~1`).
    public static func pointerToken(_ key: String) -> String {
        guard key.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return key }
        return key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

/// A coding key made from any string, for dictionaries encoded with a fixed key order.
public struct AnyCodingKey: CodingKey, Hashable, Sendable {
    public var stringValue: String
    public var intValue: Int?

    /// A key named `string`.
    public init(_ string: String) {
        self.stringValue = string
        self.intValue = nil
    }

    /// A key named `stringValue`.
    public init?(stringValue: String) {
        self.init(stringValue)
    }

    /// An index key.
    public init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}
