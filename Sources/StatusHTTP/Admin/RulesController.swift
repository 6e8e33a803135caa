import Foundation
import Hummingbird
import StatusCore
import StatusRules

/// Rules administration (`/admin/v1/rules…`): releases, drafts, validation with impact,
/// simulation, publish with optimistic concurrency, rollback.
struct RulesController {
    let rules: RulesAdministration

    var endpoints: RouteCollection<StatusRequestContext> {
        let routes = RouteCollection(context: StatusRequestContext.self)
        routes.get("me", use: me)
        routes.get("rules", use: active)
        routes.get("rules/versions", use: versions)
        routes.get("rules/versions/:version", use: version)
        routes.get("rules/diff", use: diff)
        routes.get("rules/draft", use: draft)
        routes.put("rules/draft", use: saveDraft)
        routes.delete("rules/draft", use: deleteDraft)
        routes.post("rules/validate", use: validate)
        routes.post("rules/simulate", use: simulate)
        routes.post("rules/publish", use: publish)
        routes.post("rules/rollback", use: rollback)
        return routes
    }

    /// Who the credential is and what it may do under the current rules (any credential). The
    /// tenant's country and time zone come along so that a client showing instants and names needs
    /// no permission to read the rules.
    func me(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try context.authenticated()
        return JSONOut.object([
            ("tenant", .string(principal.tenant.rawValue)), ("displayName", .string(snapshot.document.displayName)),
            ("subject", .string(principal.subject)), ("roles", .array(principal.roles.map(JSONOut.string))),
            ("permissions", .array(context.permissions.names.map(JSONOut.string))), ("rulesVersion", .int(snapshot.version)),
            ("country", .string(snapshot.document.country)), ("timeZone", .string(snapshot.document.timeZone)),
        ]).response()
    }

    /// The active release, or with `?at=` the one active at that instant.
    func active(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.rulesRead)
        if let at = try request.query("at") {
            guard let instant = RFC3339.parse(at) else {
                throw StatusError.invalid("/query/at", "must be an RFC 3339 date-time with offset")
            }
            return Self.release(try await rules.release(tenant: principal.tenant, activeAt: instant)).response()
        }
        return Self.release(try await rules.active(tenant: principal.tenant)).response()
    }

    func versions(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.rulesRead)
        let summaries = try await rules.versions(tenant: principal.tenant)
        return JSONOut.array(
            summaries.map { s in
                .object([
                    ("version", .int(s.version)), ("publishedAt", .instant(s.publishedAt)), ("publishedBy", .string(s.publishedBy)),
                    ("comment", .string(s.comment)), ("sha256", .string(s.sha256)), ("rolledBackFrom", .optional(s.rolledBackFrom)),
                ])
            }
        ).response()
    }

    func version(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.rulesRead)
        guard let number = Int(try context.parameters.identifier("version")), number > 0 else {
            throw StatusError.invalid("/path/version", "must be a positive whole number")
        }
        return Self.release(try await rules.release(tenant: principal.tenant, version: number)).response()
    }

    static func release(_ r: RuleRelease) -> JSONOut {
        .object([
            ("version", .int(r.version)), ("publishedAt", .instant(r.publishedAt)), ("publishedBy", .string(r.publishedBy)),
            ("comment", .string(r.comment)), ("sha256", .string(r.sha256)), ("rolledBackFrom", .optional(r.rolledBackFrom)),
            ("document", .value(r.document.jsonValue())), ("moves", moves(r.document.moves)),
        ])
    }

    /// The compiled moves, for the console's transition matrix and status flow.
    static func moves(_ m: StatusMoves) -> JSONOut {
        .object([
            ("default", .string(m.byDefault.rawValue)),
            (
                "statuses",
                .array(
                    m.rows.map { row in
                        .object([
                            ("status", .string(row.status)), ("final", .bool(row.isFinal)), ("by", .string(row.basis.rawValue)),
                            ("to", .array(row.to.map(JSONOut.string))),
                        ])
                    })
            ),
        ])
    }

    func diff(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.rulesRead)
        let from = try Self.versionQuery(request, "from")
        let to = try Self.versionQuery(request, "to")
        let changes = try await rules.diff(tenant: principal.tenant, from: from, to: to)
        return JSONOut.array(changes.map(Self.change)).response()
    }

    static func change(_ c: RulesChange) -> JSONOut {
        .object([
            ("path", .string(c.path)), ("change", .string(c.change.rawValue)), ("old", c.old.map(JSONOut.value) ?? .null),
            ("new", c.new.map(JSONOut.value) ?? .null),
        ])
    }

    static func versionQuery(_ request: Request, _ name: String) throws -> Int {
        guard let text = try request.query(name), let number = Int(text), number > 0 else {
            throw StatusError.invalid("/query/\(name)", "must be a release version (a positive whole number)")
        }
        return number
    }

    func draft(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.rulesRead)
        return draft(try await rules.draft(tenant: principal.tenant), tenant: principal.tenant).response()
    }

    func draft(_ d: RulesDraft, tenant: TenantID) -> JSONOut {
        .object([
            ("document", .value(d.document)), ("baseVersion", .int(d.baseVersion)), ("updatedBy", .string(d.updatedBy)),
            ("updatedAt", .instant(d.updatedAt)),
            ("moves", rules.moves(ofDraft: d.document, tenant: tenant).map(Self.moves) ?? .null),
        ])
    }

    /// Discards the draft.
    func deleteDraft(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.rulesWrite)
        try await rules.deleteDraft(tenant: principal.tenant)
        return Response(status: .noContent)
    }

    func saveDraft(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.rulesWrite)
        let body = try await request.jsonBody(context: context)
        // The body is the document itself, or {"document": …}.
        let document = body["document"].flatMap { $0.objectValue != nil ? $0 : nil } ?? body
        try await rules.saveDraft(tenant: principal.tenant, document: document, by: principal.subject)
        return draft(try await rules.draft(tenant: principal.tenant), tenant: principal.tenant).response()
    }

    func validate(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.rulesWrite)
        let body = try await request.optionalJSONBody(context: context)
        let document = body.map { $0["document"].flatMap { $0.objectValue != nil ? $0 : nil } ?? $0 }
        let report = try await rules.validate(tenant: principal.tenant, document: document)
        return JSONOut.object([
            ("valid", .bool(report.valid)),
            ("errors", .array(report.errors.map(Self.finding))),
            ("warnings", .array(report.warnings.map(Self.finding))),
            (
                "tests",
                .array(
                    report.tests.map { t in
                        .object([
                            ("index", .int(t.index)), ("label", .string(t.label)), ("passed", .bool(t.passed)),
                            ("expected", .string(t.expected)), ("actual", .string(t.actual)), ("message", .optional(t.message)),
                        ])
                    })
            ),
            (
                "impact",
                .object([
                    ("casesChangingStatus", .int(report.impact.casesChangingStatus)),
                    (
                        "byCode",
                        .array(
                            report.impact.byCode.map { i in
                                .object([
                                    ("sourceSystem", .string(i.sourceSystem)), ("code", .string(i.code)), ("cases", .int(i.cases)),
                                    ("from", .string(i.from)), ("to", .string(i.to)),
                                ])
                            })
                    ),
                ])
            ),
            ("moves", report.moves.map(Self.moves) ?? .null),
        ]).response()
    }

    static func finding(_ f: RuleFinding) -> JSONOut {
        .object([("path", .string(f.path)), ("pointer", .string(f.pointer)), ("code", .string(f.code)), ("message", .string(f.message))])
    }

    func simulate(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.rulesRead)
        let reader = FieldReader(try await request.jsonBody(context: context))
        let source = reader.string("sourceSystem", maxLength: 64)
        let code = reader.string("code")
        let fromStatus = reader.optionalString("fromStatus")
        let document = reader.object("document", required: false)
        reader.rejectUnknown(["sourceSystem", "code", "fromStatus", "document"])
        try reader.finish()
        let result = try await rules.simulate(
            tenant: principal.tenant, document: document.map { _ in reader.value("document")! }, source: source!, code: code!,
            fromStatus: fromStatus)
        return JSONOut.object([
            ("status", .optional(result.status)), ("category", .optional(result.category)),
            ("transitionAllowed", result.transitionAllowed.map(JSONOut.bool) ?? .null), ("matched", .bool(result.matched)),
            ("outcome", .string(result.outcome)),
        ]).response()
    }

    func publish(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.rulesPublish)
        let reader = FieldReader(try await request.jsonBody(context: context))
        let base = Self.nonNegativeInteger(reader, "baseVersion", required: true)
        let comment = reader.optionalString("comment", maxLength: 2000) ?? ""
        let document = reader.object("document", required: false)
        reader.rejectUnknown(["baseVersion", "comment", "document"])
        try reader.finish()
        let version = try await rules.publish(
            tenant: principal.tenant, document: document.map { _ in reader.value("document")! }, baseVersion: base!, comment: comment,
            by: principal.subject)
        return JSONOut.object([("version", .int(version))]).response(.created)
    }

    func rollback(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.rulesPublish)
        let reader = FieldReader(try await request.jsonBody(context: context))
        let to = Self.nonNegativeInteger(reader, "toVersion", required: true)
        let comment = reader.optionalString("comment", maxLength: 2000) ?? ""
        reader.rejectUnknown(["toVersion", "comment"])
        try reader.finish()
        let version = try await rules.rollback(tenant: principal.tenant, toVersion: to!, comment: comment, by: principal.subject)
        return JSONOut.object([("version", .int(version))]).response(.created)
    }

    static func nonNegativeInteger(_ reader: FieldReader, _ key: String, required: Bool) -> Int? {
        guard let value = reader.value(key), value != .null else {
            if required { reader.fail(key, "is required") }
            return nil
        }
        guard case .number(let number) = value, number.rounded() == number, number >= 0, number < 1e9 else {
            reader.fail(key, "must be a whole number, 0 or more")
            return nil
        }
        return Int(number)
    }
}
