import Foundation
import Hummingbird
import StatusCore
import StatusRules

/// The case view and its history (`/api/v1/cases/…`).
struct CasesController {
    let cases: CaseDirectory

    var endpoints: RouteCollection<StatusRequestContext> {
        let routes = RouteCollection(context: StatusRequestContext.self)
        routes.get("cases/:id", use: show)
        routes.get("cases/:id/history", use: history)
        return routes
    }

    /// The case as shown now: its raw code mapped through the active rules.
    func show(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try context.require(.statusRead)
        let record = try await cases.activeCase(tenant: principal.tenant, externalCaseId: try context.parameters.identifier("id"))
        let shown = record.displayed(by: snapshot)
        return JSONOut.object([
            ("caseId", .string(record.caseId.uuidString.lowercased())), ("externalCaseId", .string(record.externalCaseId)),
            ("flowInstanceId", .optional(record.flowInstanceId)), ("caseType", .string(record.caseType)),
            ("organisationNumber", .optional(record.organisationNumber)), ("sourceSystem", .string(record.sourceSystem)),
            ("rawStatus", .string(record.rawStatus)), ("status", .string(shown.status)), ("category", .string(shown.category)),
            ("ruleVersion", .int(shown.ruleVersion)), ("lastStatusChange", .instant(record.lastStatusChange)),
            ("createdAt", .instant(record.createdAt)),
        ]).response()
    }

    /// The case's events, oldest first, each with the status, category and rules version in force when recorded.
    func history(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.statusRead)
        let events = try await cases.history(tenant: principal.tenant, externalCaseId: try context.parameters.identifier("id"))
        return JSONOut.array(events.map(Self.event)).response()
    }

    static func event(_ e: CaseEvent) -> JSONOut {
        .object([
            ("eventId", .string(e.eventId.uuidString.lowercased())), ("messageId", .optional(e.messageId)),
            ("changeType", .string(e.changeType.rawValue)), ("rawStatus", .string(e.rawStatus)), ("status", .string(e.status)),
            ("category", .string(e.category)), ("ruleVersion", .int(e.ruleVersion)), ("applied", .bool(e.applied)),
            ("occurredAt", .instant(e.occurredAt)), ("recordedAt", .instant(e.recordedAt)), ("correlationId", .string(e.correlationId)),
        ])
    }
}
