import Foundation
import Hummingbird
import StatusCore
import StatusRules

/// Sundsvall's CaseStatus API for Open ePlatform, byte-compatible with its document
/// (seeds/000): `oepstatus`, `status`, `statuses`, under `/casestatus/{version}/…` and
/// `/caseStatus/{version}/api/…`. What it shows is the case's raw code mapped through the
/// tenant's active rules, so a corrected mapping shows on every existing case at once.
struct SwedenController {
    let cases: CaseDirectory

    /// The only version the document defines.
    static let version = "1.0"

    /// The routes, relative to a path form's prefix: `{version}/{id}/…`, or with `infix`
    /// `{version}/api/{id}/…` (the document's OpenAPI server form).
    func endpoints(infix: String? = nil) -> RouteCollection<StatusRequestContext> {
        let routes = RouteCollection(context: StatusRequestContext.self)
        let base = infix.map { ":version/\($0)/:id" } ?? ":version/:id"
        routes.get("\(base)/oepstatus", use: oepStatus)
        routes.get("\(base)/status", use: status)
        routes.get("\(base)/statuses", use: statuses)
        return routes
    }

    /// The document's three reads, each answered by the router below and, from memory, by
    /// `HotReads` on the connection's event loop: one body for both.
    enum Read: String, Sendable, CaseIterable {
        case oepstatus, status, statuses

        /// The body for the cases found: one live case for `oepstatus` and `status`, the
        /// organisation's live cases for `statuses`.
        func body(_ records: [CaseRecord], _ snapshot: RuleSnapshot) -> JSONOut {
            switch self {
            case .oepstatus: .object([("key", .string("status")), ("value", .string(records[0].displayed(by: snapshot).status))])
            case .status: SwedenController.statusObject(records[0], snapshot)
            case .statuses: .array(records.map { SwedenController.statusObject($0, snapshot) })
            }
        }
    }

    /// `{"key":"status","value":"<portal status>"}` for a flow instance id or external case id.
    func oepStatus(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try authorize(context)
        let id = try context.parameters.identifier("id")
        let record = try await cases.activeCase(tenant: principal.tenant, flowInstanceOrExternalId: id)
        return Read.oepstatus.body([record], snapshot).response()
    }

    /// `{"caseType","id","status","lastStatusChange"}` for an external case id.
    func status(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try authorize(context)
        let id = try context.parameters.identifier("id")
        let record = try await cases.activeCase(tenant: principal.tenant, externalCaseId: id)
        return Read.status.body([record], snapshot).response()
    }

    /// Every case of an organisation, newest change first; `[]` when none.
    func statuses(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try authorize(context)
        let raw = try context.parameters.identifier("id")
        guard let organisation = OrganisationNumber(raw) else {
            throw StatusError.validationFailed([
                FieldError(
                    pointer: "/path/id",
                    message: "must be a Swedish organisation number: 10 digits (NNNNNN-NNNN), or 12 with century, with a valid check digit",
                    isIdentityNumber: true)
            ])
        }
        let records = try await cases.cases(tenant: principal.tenant, organisationNumber: organisation)
        return Read.statuses.body(records, snapshot).response()
    }

    private func authorize(_ context: StatusRequestContext) throws -> (Principal, RuleSnapshot) {
        // Any version but the document's is an unknown resource, not a bad request.
        guard context.parameters.get("version") == Self.version else { throw StatusError.notFound("CaseStatus API version 1.0 only") }
        return try context.require(.statusRead)
    }

    static func statusObject(_ record: CaseRecord, _ snapshot: RuleSnapshot) -> JSONOut {
        .object([
            ("caseType", .string(record.caseType)),
            ("id", .string(record.externalCaseId)),
            ("status", .string(record.displayed(by: snapshot).status)),
            ("lastStatusChange", .string(CivilTime(record.lastStatusChange, in: snapshot.timeZone).minuteString)),
        ])
    }
}
