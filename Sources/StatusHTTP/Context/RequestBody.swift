import Foundation
import Hummingbird
import StatusCore
import StatusRules

/// A request body the server will not read: the two refusals only HTTP has.
enum RequestBodyError: Error, Equatable {
    /// 413 `PAYLOAD_TOO_LARGE`.
    case tooLarge(limit: Int)
    /// 415 `UNSUPPORTED_MEDIA_TYPE`.
    case unsupportedMediaType(String)
}

extension Request {
    /// The body as JSON: 415 when it is not declared JSON, 413 over the limit, 400 when it does not parse.
    func jsonBody(context: StatusRequestContext) async throws -> JSONValue {
        try await jsonBodyAndText(context: context).value
    }

    /// The body as JSON and as the text it was read from (stored as it came).
    func jsonBodyAndText(context: StatusRequestContext) async throws -> (value: JSONValue, text: String) {
        guard let contentType = headers[.contentType], Self.isJSON(contentType) else {
            throw RequestBodyError.unsupportedMediaType("send the body as application/json")
        }
        var request = self
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: context.maxUploadSize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw RequestBodyError.tooLarge(limit: context.maxUploadSize)
        }
        guard buffer.readableBytes > 0 else { throw StatusError.invalid("/", "the body is empty; a JSON object is expected") }
        return (try Self.parse(buffer), String(buffer: buffer))
    }

    static func parse(_ buffer: ByteBuffer) throws -> JSONValue {
        let value = try parseAnyJSON(buffer)
        if let pointer = value.firstNULPointer() { throw StatusError.invalid(pointer, "must not contain NUL characters") }
        return value
    }

    /// The body as JSON, NUL characters and all (for a caller that checks each part itself).
    static func parseAnyJSON(_ buffer: ByteBuffer) throws -> JSONValue {
        do {
            return try buffer.withUnsafeReadableBytes { try JSONValue.parse(bytes: $0) }
        } catch {
            throw StatusError.invalid("/", "the body is not valid JSON (UTF-8)")
        }
    }

    /// The body as JSON when there is one, else `nil` (for endpoints whose body is optional).
    func optionalJSONBody(context: StatusRequestContext) async throws -> JSONValue? {
        if headers[.contentType] == nil, (headers[.contentLength].flatMap(Int.init) ?? 0) == 0 { return nil }
        var request = self
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return nil }
        guard let contentType = headers[.contentType], Self.isJSON(contentType) else {
            throw RequestBodyError.unsupportedMediaType("send the body as application/json")
        }
        return try Self.parse(buffer)
    }

    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }

    /// A query parameter, percent-decoded. Given more than once, it is refused: which of the
    /// values would count is not something a client should have to guess.
    func query(_ name: String) throws -> String? {
        let parameters = uri.queryParameters
        let values = parameters.getAll(name)
        guard values.count <= 1 else { throw StatusError.invalid("/query/\(name)", "must be given at most once") }
        return values.first.map { String($0) }
    }
}

extension Parameters {
    /// A path parameter, percent-decoded and checked: at most 200 characters, no control characters.
    func identifier(_ name: String) throws -> String {
        guard let raw = get(name), let decoded = raw.contains("%") ? raw.removingPercentEncoding : raw, !decoded.isEmpty else {
            throw StatusError.invalid("/path/\(name)", "is not a valid identifier")
        }
        guard decoded.count <= FieldReader.maxIdentifierLength else {
            throw StatusError.invalid("/path/\(name)", "must be at most \(FieldReader.maxIdentifierLength) characters")
        }
        guard !decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw StatusError.invalid("/path/\(name)", "must not contain control characters")
        }
        return decoded
    }
}
