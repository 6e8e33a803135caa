import Foundation
import StatusRules

/// Reads a JSON request body field by field and collects every problem, so a client learns about
/// all its bad fields in one answer (`VALIDATION_FAILED` with one pointer each).
///
/// Accessors return `nil` for a missing or bad field and record why; after `finish()` succeeds,
/// every required field read is non-nil.
public struct FieldReader {
    /// Shared by a reader and the readers of its nested objects.
    final class Sink {
        var errors: [FieldError] = []
    }

    let members: [String: JSONValue]
    let pointer: String
    let sink: Sink

    /// The longest id or code accepted (ids appear in URLs and indexes).
    public static let maxIdentifierLength = 200
    /// The longest free text accepted in one field.
    public static let maxTextLength = 10_000

    /// A reader over `value`, which must be a JSON object.
    public init(_ value: JSONValue) {
        self.init(value, pointer: "", sink: Sink())
    }

    init(_ value: JSONValue, pointer: String, sink: Sink) {
        self.pointer = pointer
        self.sink = sink
        if let members = value.objectValue {
            self.members = members
        } else {
            self.members = [:]
            sink.errors.append(FieldError(pointer: pointer.isEmpty ? "/" : pointer, message: "must be a JSON object"))
        }
    }

    /// Records a problem at `key`.
    public func fail(_ key: String, _ message: String, identityNumber: Bool = false) {
        sink.errors.append(FieldError(pointer: path(key), message: message, isIdentityNumber: identityNumber))
    }

    /// The pointer of `key` under this reader.
    public func path(_ key: String) -> String {
        pointer + "/" + JSONValue.pointerToken(key)
    }

    /// Whether the body has `key` with a non-null value.
    public func has(_ key: String) -> Bool {
        if let value = members[key], value != .null { return true }
        return false
    }

    /// The raw value at `key`.
    public func value(_ key: String) -> JSONValue? { members[key] }

    /// A required non-empty string, at most `maxLength` characters, without control characters.
    public func string(_ key: String, maxLength: Int = FieldReader.maxIdentifierLength) -> String? {
        guard has(key) else {
            fail(key, "is required")
            return nil
        }
        return optionalString(key, maxLength: maxLength)
    }

    /// An optional string (absent or null is `nil`); present, it must be non-empty and well-formed.
    public func optionalString(_ key: String, maxLength: Int = FieldReader.maxIdentifierLength) -> String? {
        guard let value = members[key], value != .null else { return nil }
        guard case .string(let text) = value else {
            fail(key, "must be a string")
            return nil
        }
        if let problem = Self.problem(withText: text, maxLength: maxLength) {
            fail(key, problem)
            return nil
        }
        return text
    }

    /// A list element that must be a text, checked like any text field; a failure is reported at its pointer.
    public func text(at element: (pointer: String, value: JSONValue)) -> String? {
        guard let text = element.value.stringValue else {
            fail(pointer: element.pointer, "must be a string")
            return nil
        }
        if let problem = Self.problem(withText: text) {
            fail(pointer: element.pointer, problem)
            return nil
        }
        return text
    }

    /// What is wrong with a text field's value, if anything: blank, too long, or (for identifiers
    /// and codes, at most `maxIdentifierLength` long) containing control characters.
    public static func problem(withText text: String, maxLength: Int = FieldReader.maxIdentifierLength) -> String? {
        // Every field of every message is checked here: plain ASCII, the usual case, needs no Foundation.
        let utf8 = text.utf8
        if utf8.allSatisfy({ $0 < 0x80 }) {
            if utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return "must not be empty" }
            if utf8.count > maxLength { return "must be at most \(maxLength) characters" }
            if maxLength <= FieldReader.maxIdentifierLength, utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                return "must not contain control characters"
            }
            return nil
        }
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return "must not be empty" }
        if text.count > maxLength { return "must be at most \(maxLength) characters" }
        if maxLength <= FieldReader.maxIdentifierLength, text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "must not contain control characters"
        }
        return nil
    }

    /// A required UUID, returned in its lowercase canonical form.
    public func uuid(_ key: String) -> String? {
        guard let text = string(key) else { return nil }
        return checkedUUID(key, text)
    }

    /// An optional UUID.
    public func optionalUUID(_ key: String) -> String? {
        guard let text = optionalString(key) else { return nil }
        return checkedUUID(key, text)
    }

    private func checkedUUID(_ key: String, _ text: String) -> String? {
        guard text.utf8.count == 36, let uuid = UUID(uuidString: text) else {
            fail(key, "must be a UUID such as 8540d774-4863-4d2b-b788-4ecb19412e85")
            return nil
        }
        return uuid.uuidString.lowercased()
    }

    /// A required RFC 3339 instant with an offset.
    public func instant(_ key: String) -> Date? {
        guard let text = string(key, maxLength: 40) else { return nil }
        return checkedInstant(key, text)
    }

    /// An optional RFC 3339 instant.
    public func optionalInstant(_ key: String) -> Date? {
        guard let text = optionalString(key, maxLength: 40) else { return nil }
        return checkedInstant(key, text)
    }

    private func checkedInstant(_ key: String, _ text: String) -> Date? {
        guard let date = RFC3339.parse(text) else {
            fail(key, "must be an RFC 3339 date-time with offset, such as 2024-04-23T12:47:17+02:00")
            return nil
        }
        return date
    }

    /// An optional value from a fixed set.
    public func optionalEnum<T: RawRepresentable>(_ key: String, _ type: T.Type, allowed: [T]) -> T? where T.RawValue == String {
        guard let text = optionalString(key) else { return nil }
        guard let value = T(rawValue: text), allowed.contains(where: { $0.rawValue == value.rawValue }) else {
            fail(key, "must be one of " + allowed.map(\.rawValue).joined(separator: ", "))
            return nil
        }
        return value
    }

    /// A required string from a fixed set (the document's enum); a value outside it is named with the set.
    public func oneOf(_ key: String, _ allowed: [String], required: Bool = true) -> String? {
        guard has(key) else {
            if required { fail(key, "is required") }
            return nil
        }
        guard case .string(let text)? = members[key] else {
            fail(key, "must be a string")
            return nil
        }
        guard allowed.contains(text) else {
            fail(key, "must be one of " + allowed.joined(separator: ", "))
            return nil
        }
        return text
    }

    /// A required boolean.
    public func bool(_ key: String) -> Bool? {
        guard has(key) else {
            fail(key, "is required")
            return nil
        }
        guard case .bool(let value)? = members[key] else {
            fail(key, "must be true or false")
            return nil
        }
        return value
    }

    /// Optional free text that may be empty (absent or null is `nil`): at most `maxLength` characters.
    public func freeText(_ key: String, maxLength: Int = FieldReader.maxTextLength) -> String? {
        guard let value = members[key], value != .null else { return nil }
        guard case .string(let text) = value else {
            fail(key, "must be a string")
            return nil
        }
        guard text.count <= maxLength else {
            fail(key, "must be at most \(maxLength) characters")
            return nil
        }
        return text
    }

    /// An optional calendar date, `YYYY-MM-DD` (absent or null is `nil`).
    public func optionalDate(_ key: String) -> CalendarDate? {
        guard let text = optionalString(key, maxLength: 10) else { return nil }
        guard let date = CalendarDate(text) else {
            fail(key, "must be a date that exists, YYYY-MM-DD, such as 2022-03-01")
            return nil
        }
        return date
    }

    /// An instant in RFC 3339, or a date-time without offset read in `zone`.
    public func zonedInstant(_ key: String, zone: TimeZone, required: Bool = true) -> Date? {
        let text = required ? string(key, maxLength: 40) : optionalString(key, maxLength: 40)
        guard let text else { return nil }
        guard let date = LocalDateTime.parse(text, zone: zone) else {
            fail(
                key,
                "must be a date-time such as 2022-09-17T21:00:14+01:00 (without an offset it is read in \(zone.identifier))")
            return nil
        }
        return date
    }

    /// A nested object reader; records an error when present but not an object, or missing and required.
    public func object(_ key: String, required: Bool = true) -> FieldReader? {
        guard let value = members[key], value != .null else {
            if required { fail(key, "is required") }
            return nil
        }
        guard value.objectValue != nil else {
            fail(key, "must be a JSON object")
            return nil
        }
        return FieldReader(value, pointer: path(key), sink: sink)
    }

    /// An optional list; each element is handed to `element` with its reader-independent pointer.
    public func list(_ key: String, required: Bool = false, maxCount: Int = 1000) -> [(pointer: String, value: JSONValue)]? {
        guard let value = members[key], value != .null else {
            if required { fail(key, "is required") }
            return nil
        }
        guard let elements = value.arrayValue else {
            fail(key, "must be a list")
            return nil
        }
        guard elements.count <= maxCount else {
            fail(key, "must have at most \(maxCount) entries")
            return nil
        }
        return elements.enumerated().map { (path(key) + "/\($0.offset)", $0.element) }
    }

    /// A reader for an element returned by `list`.
    public func reader(for element: (pointer: String, value: JSONValue)) -> FieldReader {
        FieldReader(element.value, pointer: element.pointer, sink: sink)
    }

    /// Records a problem at an element's pointer.
    public func fail(pointer: String, _ message: String, identityNumber: Bool = false) {
        sink.errors.append(FieldError(pointer: pointer, message: message, isIdentityNumber: identityNumber))
    }

    /// Refuses members outside `allowed` (strict payloads, where a misspelt field must not be ignored).
    public func rejectUnknown(_ allowed: Set<String>) {
        for key in members.keys.sorted() where !allowed.contains(key) {
            fail(key, "is not a field of this message")
        }
    }

    /// Throws every problem recorded so far, by this reader and its nested ones.
    public func finish() throws(StatusError) {
        guard sink.errors.isEmpty else { throw .validationFailed(sink.errors) }
    }
}
