import Foundation
import HTTPTypes
import Hummingbird
import Logging
import StatusCore
import StatusRules

/// An RFC 9457 problem document with Statusbro's stable `code`.
struct Problem: Sendable {
    var status: HTTPResponse.Status
    var code: String
    var title: String
    var detail: String
    var errors: [FieldError]?
    var findings: [RuleFinding]?
    var extensions: [String: JSONValue] = [:]
    /// Seconds for `Retry-After`: 1 for every 503, the bucket's wait for a 429.
    var retryAfter: Int?

    /// The problem for a core error: the one place where errors get their HTTP shape.
    init(_ error: StatusError) {
        switch error {
        case .unauthenticated(let detail):
            self.init(status: .unauthorized, code: error.code, title: "Authentication required", detail: detail)
        case .forbidden(let detail):
            self.init(status: .forbidden, code: error.code, title: "Not allowed", detail: detail)
        case .notFound(let detail):
            self.init(status: .notFound, code: error.code, title: "Not found", detail: detail)
        case .validationFailed(let errors):
            if error.code == "INVALID_IDENT" {
                self.init(
                    status: .badRequest, code: error.code, title: "Invalid identity number",
                    detail: "an organisation or identity number fails its format or check digit", errors: errors)
            } else {
                self.init(
                    status: .badRequest, code: error.code, title: "Invalid request",
                    detail: errors.count == 1 ? "\(errors[0].pointer): \(errors[0].message)" : "\(errors.count) fields are invalid",
                    errors: errors)
            }
        case .rejected(let rejection, let deadLetterId):
            let status: HTTPResponse.Status =
                switch rejection.code {
                case .illegalTransition: .conflict
                case .caseNotFound: .notFound
                case .unknownSourceSystem, .unmappedStatus: .unprocessableContent
                }
            let titles: [RejectionCode: String] = [
                .unknownSourceSystem: "Unknown source system", .unmappedStatus: "Unmapped status",
                .illegalTransition: "Transition not allowed", .caseNotFound: "Not found",
            ]
            self.init(status: status, code: error.code, title: titles[rejection.code] ?? "Rejected", detail: rejection.detail)
            extensions["deadLetterId"] = .string(deadLetterId)
        case .duplicateMessageConflict:
            self.init(status: .conflict, code: error.code, title: "Message id reused", detail: error.detail)
        case .alreadyExists(let detail):
            self.init(status: .conflict, code: error.code, title: "Already exists", detail: detail)
        case .versionConflict(let active):
            self.init(status: .conflict, code: error.code, title: "Rules changed meanwhile", detail: error.detail)
            extensions["activeVersion"] = .number(Double(active))
        case .rulesInvalid(let findings):
            self.init(
                status: .unprocessableContent, code: error.code, title: "Rules invalid",
                detail: "\(findings.errors.count) error(s) in the rules document", findings: findings.errors)
        case .unavailable(let detail):
            self.init(status: .serviceUnavailable, code: error.code, title: "Service unavailable", detail: detail)
        case .rateLimited(let detail, let seconds):
            self.init(status: .tooManyRequests, code: error.code, title: "Too many requests", detail: detail)
            retryAfter = seconds
        }
    }

    /// The problem for a request body the server will not read.
    init(_ error: RequestBodyError) {
        switch error {
        case .tooLarge(let limit):
            self.init(
                status: .contentTooLarge, code: "PAYLOAD_TOO_LARGE", title: "Request body too large", detail: "the limit is \(limit) bytes")
        case .unsupportedMediaType(let detail):
            self.init(status: .unsupportedMediaType, code: "UNSUPPORTED_MEDIA_TYPE", title: "Unsupported media type", detail: detail)
        }
    }

    init(
        status: HTTPResponse.Status, code: String, title: String, detail: String, errors: [FieldError]? = nil,
        findings: [RuleFinding]? = nil
    ) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors
        self.findings = findings
    }

    /// The problem as JSON; members in RFC 9457 order, then Statusbro's.
    var json: String {
        var out = "{\"type\":"
        JSONValue.writeString("urn:statusbro:problem:" + code.lowercased().replacingOccurrences(of: "_", with: "-"), to: &out)
        out += ",\"title\":"
        JSONValue.writeString(title, to: &out)
        out += ",\"status\":\(status.code),\"detail\":"
        JSONValue.writeString(detail, to: &out)
        out += ",\"code\":"
        JSONValue.writeString(code, to: &out)
        if let errors {
            out += ",\"errors\":["
            out += errors.map { error in
                var item = "{\"pointer\":"
                JSONValue.writeString(error.pointer, to: &item)
                item += ",\"message\":"
                JSONValue.writeString(error.message, to: &item)
                return item + "}"
            }.joined(separator: ",")
            out += "]"
        }
        if let findings {
            out += ",\"errors\":["
            out += findings.map { finding in
                var item = "{\"pointer\":"
                JSONValue.writeString(finding.pointer, to: &item)
                item += ",\"path\":"
                JSONValue.writeString(finding.path, to: &item)
                item += ",\"code\":"
                JSONValue.writeString(finding.code, to: &item)
                item += ",\"message\":"
                JSONValue.writeString(finding.message, to: &item)
                return item + "}"
            }.joined(separator: ",")
            out += "]"
        }
        for key in extensions.keys.sorted() {
            out += ","
            JSONValue.writeString(key, to: &out)
            out += ":" + extensions[key]!.canonicalString
        }
        return out + "}"
    }

    var response: Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json; charset=utf-8"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer, ApiKey header=\"apikey\"" }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) } else if status == .serviceUnavailable { headers[.retryAfter] = "1" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}

/// A problem document with members a face adds to it (NAV's `errorType`).
struct DecoratedProblem: Error {
    var problem: Problem
}

/// Turns every error into a problem document. Core errors get their own code; Hummingbird's
/// (no route, body too large) theirs; anything else is logged and answered 500 `INTERNAL`
/// without detail, so no stack trace, SQL or internal name ever reaches a client.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = StatusRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as StatusError {
            return Problem(error).response
        } catch let error as RequestBodyError {
            return Problem(error).response
        } catch let error as DecoratedProblem {
            return error.problem.response
        } catch let error as StoreError {
            switch error {
            case .unavailable(let detail): return Problem(.unavailable(detail)).response
            case .conflict: return Problem(.unavailable("a concurrent change won; retry the request")).response
            case .failed(let description): return internalError(description, context: context)
            }
        } catch let error as any HTTPResponseError {
            return Self.problem(for: error.status).response
        } catch is CancellationError {
            return Problem(.unavailable("the request was cancelled")).response
        } catch {
            return internalError("\(error)", context: context)
        }
    }

    private func internalError(_ description: String, context: Context) -> Response {
        context.logger.error("request failed", metadata: ["error": "\(description)"])
        return Problem(
            status: .internalServerError, code: "INTERNAL", title: "Internal error",
            detail: "the request failed; quote correlation id \(context.correlationID)"
        ).response
    }

    static func problem(for status: HTTPResponse.Status) -> Problem {
        switch status {
        case .notFound: Problem(.notFound("no such resource"))
        case .contentTooLarge: Problem(RequestBodyError.tooLarge(limit: StatusRequestContext.maxBodySize))
        case .unsupportedMediaType: Problem(RequestBodyError.unsupportedMediaType("expected application/json"))
        case .methodNotAllowed:
            Problem(
                status: .methodNotAllowed, code: "NOT_FOUND", title: "Method not allowed",
                detail: "this resource does not accept this method")
        case .badRequest: Problem(.invalid("/", "the request could not be read"))
        case .serviceUnavailable, .requestTimeout, .gatewayTimeout: Problem(.unavailable("the server is busy; retry shortly"))
        default: Problem(status: status, code: "INTERNAL", title: status.reasonPhrase, detail: status.reasonPhrase)
        }
    }
}

/// Reads or assigns the request's correlation id (`X-Correlation-ID`, or NAV's `Nav-Call-Id`, which
/// wins on `/nav/…`), puts it in the log metadata, and echoes it on every response, problems
/// included; an acceptable `Nav-Call-Id` is echoed under its own name too.
struct CorrelationMiddleware: RouterMiddleware {
    typealias Context = StatusRequestContext

    static let header = HTTPField.Name("X-Correlation-ID")!
    static let navHeader = HTTPField.Name("Nav-Call-Id")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = Self.id(for: request.headers, path: request.uri.path)
        context.correlationID = id
        context.logger[metadataKey: "correlationId"] = .string(id)
        var response = try await next(request, context)
        Self.answer(&response.headers, id: id, request: request.headers)
        return response
    }

    /// The request's own correlation id when it is acceptable, else a new one. NAV's routes are
    /// NAV's clients: their own header names the call there.
    static func id(for fields: HTTPFields, path: String) -> String {
        let given =
            path.hasPrefix("/nav/")
            ? fields.value(Self.navHeader) ?? fields.value(Self.header)
            : fields.value(Self.header) ?? fields.value(Self.navHeader)
        if let given, Self.isAcceptable(given) { return given }
        return CorrelationID.next()
    }

    /// Puts the correlation id, and the NAV call id a request gave, on its response.
    static func answer(_ headers: inout HTTPFields, id: String, request: HTTPFields) {
        headers[Self.header] = id
        if let call = request.value(Self.navHeader), Self.isAcceptable(call) { headers[Self.navHeader] = call }
    }

    /// Up to 128 visible ASCII characters: it goes into logs and the database.
    static func isAcceptable(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128 && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
