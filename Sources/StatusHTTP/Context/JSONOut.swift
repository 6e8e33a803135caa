import Foundation
import HTTPTypes
import Hummingbird
import StatusCore
import StatusRules

/// A JSON response body with members in a fixed order. Foundation's encoder on Linux does not
/// keep key order, and the faces must match their documents byte for byte.
indirect enum JSONOut: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([JSONOut])
    case object([(String, JSONOut)])
    /// A free-form value (payloads, documents), written with sorted keys.
    case value(JSONValue)
    /// JSON text written elsewhere (a problem document inside a batch's results).
    case raw(String)

    /// A string, or `null`.
    static func optional(_ value: String?) -> JSONOut { value.map(JSONOut.string) ?? .null }
    /// An integer, or `null`.
    static func optional(_ value: Int?) -> JSONOut { value.map(JSONOut.int) ?? .null }
    /// An instant in RFC 3339, or `null`.
    static func instant(_ date: Date?) -> JSONOut { date.map { .string(RFC3339.format($0)) } ?? .null }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .string(let value): JSONValue.writeString(value, to: &out)
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out += "," }
                JSONValue.writeString(key, to: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        case .value(let value): out += value.canonicalString
        case .raw(let json): out += json
        }
    }

    var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// The content type of every JSON answer.
    static let contentType = "application/json; charset=utf-8"

    /// A response with this body.
    func response(_ status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = Self.contentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
