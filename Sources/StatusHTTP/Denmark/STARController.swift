import Foundation
import Hummingbird
import StatusCore
import StatusRules

/// STAR's web-service messages (`/star/v1`): `POST wsb` takes a message in the document's
/// envelope; `GET {entitet}/historik/{eksternId}` and `GET {entitet}/historik?identifikation=` give
/// an entity's history and a citizen's, as `Kontaktforloeb.IndkaldelseService`'s
/// `GetIndkaldelseshistorik` names them.
struct STARController {
    let star: STARService

    var endpoints: RouteCollection<StatusRequestContext> {
        let routes = RouteCollection(context: StatusRequestContext.self)
        routes.post("wsb", use: receive)
        routes.get(":entitet/historik/:eksternId", use: entityHistory)
        routes.get(":entitet/historik", use: citizenHistory)
        return routes
    }

    /// 201 with a receipt; 200 with the first receipt for a retry. Permission `events:write` or `events:write:STAR`.
    func receive(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try context.authenticated()
        guard context.permissions.contains(.eventsWrite(source: STAR.sourceSystem)) else {
            throw StatusError.forbidden("the credential's roles do not grant events:write:\(STAR.sourceSystem)")
        }
        let besked = try STARBesked(json: try await request.jsonBody(context: context))
        let submitted = try await star.receive(besked, snapshot: snapshot, tenant: principal.tenant, correlationId: context.correlationID)
        return EventsController.receipt(submitted.answer).response(submitted.replayed ? .ok : .created)
    }

    /// One entity's history, oldest first (permission `status:read`).
    func entityHistory(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.statusRead)
        let entries = try await star.history(
            tenant: principal.tenant, entity: try context.parameters.identifier("entitet"),
            externalId: try context.parameters.identifier("eksternId"))
        return JSONOut.array(entries.map(Self.entry)).response()
    }

    /// Every entity of this type of one citizen, oldest first (permission `status:read`).
    func citizenHistory(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.statusRead)
        let entity = try context.parameters.identifier("entitet")
        guard let text = try request.query("identifikation") else {
            throw StatusError.invalid("/query/identifikation", "is required: the citizen's CPR number")
        }
        guard let citizen = DanishCPRNumber(text) else {
            throw StatusError.validationFailed([
                FieldError(
                    pointer: "/query/identifikation",
                    message:
                        "must be a Danish CPR number, DDMMYY-SSSS or DDMMYYSSSS, naming a birth date that exists and is not in the future",
                    isIdentityNumber: true)
            ])
        }
        let entries = try await star.history(tenant: principal.tenant, entity: entity, citizen: citizen)
        return JSONOut.array(entries.map(Self.entry)).response()
    }

    static func entry(_ e: STARHistoryEntry) -> JSONOut {
        .object(
            STARHistoryEntry.members.map { ($0, JSONOut.value(e.envelope[$0] ?? .null)) } + [
                ("status", .string(e.status)), ("category", .string(e.category)), ("ruleVersion", .int(e.ruleVersion)),
                ("applied", .bool(e.applied)), ("recordedAt", .instant(e.recordedAt)),
            ])
    }
}
