import Foundation
import HTTPTypes
import Hummingbird
import StatusCore
import StatusRules

/// The auditor's exports, as CSV (UTF-8 with a byte-order mark, RFC 4180 quoting, so a
/// spreadsheet opens Swedish and Norwegian letters correctly) or JSON.
struct AuditController {
    let rules: RulesAdministration

    var endpoints: RouteCollection<StatusRequestContext> {
        let routes = RouteCollection(context: StatusRequestContext.self)
        routes.get("audit/rules-history", use: rulesHistory)
        routes.get("audit/decisions", use: decisions)
        return routes
    }

    /// One row per changed entry per release.
    func rulesHistory(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.auditExport)
        let (format, from, to) = try Self.window(request)
        let rows = try await rules.history(tenant: principal.tenant, from: from, to: to)
        return Self.response(AuditExport.rulesHistory(rows, format: format), format: format, name: "rules-history-\(principal.tenant)")
    }

    /// Every recorded event with the rules version that mapped it.
    func decisions(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.auditExport)
        let (format, from, to) = try Self.window(request)
        let externalCaseId = try request.query("externalCaseId").flatMap { $0.isEmpty ? nil : $0 }
        let rows = try await rules.decisions(tenant: principal.tenant, externalCaseId: externalCaseId, from: from, to: to)
        return Self.response(AuditExport.decisions(rows, format: format), format: format, name: "decisions-\(principal.tenant)")
    }

    static func response(_ text: String, format: AuditExport.Format, name: String) -> Response {
        var headers = HTTPFields()
        switch format {
        case .json:
            headers[.contentType] = JSONOut.contentType
            headers[.contentDisposition] = "attachment; filename=\"\(name).json\""
        case .csv:
            headers[.contentType] = "text/csv; charset=utf-8"
            headers[.contentDisposition] = "attachment; filename=\"\(name).csv\""
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func window(_ request: Request) throws -> (AuditExport.Format, Date?, Date?) {
        var errors: [FieldError] = []
        let format = AuditExport.Format(rawValue: try request.query("format") ?? "json")
        if format == nil { errors.append(FieldError(pointer: "/query/format", message: "must be csv or json")) }
        func instant(_ name: String) -> Date? {
            let given: String?
            do { given = try request.query(name) } catch {
                errors.append(FieldError(pointer: "/query/\(name)", message: "must be given at most once"))
                return nil
            }
            guard let text = given, !text.isEmpty else { return nil }
            // A bare date means that day's start in UTC, which is what a date picker sends.
            if let date = RFC3339.parse(text) ?? RFC3339.parse(text + "T00:00:00Z") { return date }
            errors.append(FieldError(pointer: "/query/\(name)", message: "must be a date (2024-04-23) or an RFC 3339 date-time"))
            return nil
        }
        let from = instant("from")
        var to = instant("to")
        // A bare `to` date includes that whole day.
        if let text = try request.query("to"), text.count == 10, let day = to { to = day.addingTimeInterval(86_400) }
        guard errors.isEmpty, let format else { throw StatusError.validationFailed(errors) }
        return (format, from, to)
    }
}
