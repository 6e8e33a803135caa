import Foundation
import HTTPTypes
import Hummingbird
import StatusCore
import StatusRules

/// NAV's Aktivitetskort over HTTP (`/nav/aktivitetskort`): `POST v1` takes both messages of the
/// topic `aktivitetskort-v1.1` and answers with the receipt of `aktivitetskort-kvittering-v1`;
/// `GET v1/feil` shows the parked ones as `aktivitetskort-feil-v1` does. Every problem on these
/// routes also names NAV's kind of error in `errorType`.
struct AktivitetskortController {
    let nav: Aktivitetsplan

    var endpoints: RouteCollection<StatusRequestContext> {
        let routes = RouteCollection(context: StatusRequestContext.self)
        routes.post("v1", use: submit)
        routes.get("v1/feil", use: feil)
        return routes
    }

    /// 201 with the receipt; 200 with the first receipt for a retry. Permission `events:write` or
    /// `events:write:<source>`; header `Nav-Call-Id` required.
    func submit(_ request: Request, context: StatusRequestContext) async throws -> Response {
        try await Self.naming {
            let (principal, snapshot) = try context.authenticated()
            guard context.permissions.writesSomeEvents else {
                throw StatusError.forbidden("the credential's roles do not grant events:write")
            }
            let call = try Self.callId(request)
            let melding = try AktivitetskortMelding(json: try await request.jsonBody(context: context))
            guard context.permissions.contains(.eventsWrite(source: melding.source)) else {
                throw StatusError.forbidden("the credential's roles do not grant events:write:\(melding.source)")
            }
            let submitted = try await nav.submit(melding, snapshot: snapshot, tenant: principal.tenant, correlationId: call)
            return Self.kvittering(submitted.answer).response(submitted.replayed ? .ok : .created)
        }
    }

    /// `GET v1/feil?state=pending|replayed|all` (permission `deadletters:manage`): exactly NAV's six
    /// members per parked message, oldest first. The same dead letters as `/api/v1/deadletters`.
    func feil(_ request: Request, context: StatusRequestContext) async throws -> Response {
        try await Self.naming {
            let (principal, _) = try context.require(.deadLettersManage)
            let state: DeadLetter.State?
            switch try request.query("state") ?? "pending" {
            case "pending": state = .pending
            case "replayed": state = .replayed
            case "all": state = nil
            default: throw StatusError.invalid("/query/state", "must be pending, replayed or all")
            }
            let letters = try await nav.feil(tenant: principal.tenant, state: state)
            return JSONOut.array(
                letters.map { f in
                    .object([
                        ("key", .string(f.key)), ("source", .string(f.source)), ("timestamp", .instant(f.timestamp)),
                        ("failingMessage", .string(f.failingMessage)), ("errorMessage", .string(f.errorMessage)),
                        ("errorType", .string(f.errorType.rawValue)),
                    ])
                }
            ).response()
        }
    }

    /// The document's header: "brukes for logging", so it must be fit for a log line.
    static func callId(_ request: Request) throws -> String {
        guard let call = request.headers[CorrelationMiddleware.navHeader] else {
            throw StatusError.invalid("/header/Nav-Call-Id", "is required")
        }
        guard CorrelationMiddleware.isAcceptable(call) else {
            throw StatusError.invalid("/header/Nav-Call-Id", "must be 1 to 128 visible ASCII characters")
        }
        return call
    }

    static func kvittering(_ k: AktivitetskortKvittering) -> JSONOut {
        .object([
            ("aktivitetId", .string(k.aktivitetId)), ("meldingId", .string(k.meldingId)), ("behandlingstype", .string(k.behandlingstype)),
            ("suksess", .bool(true)), ("behandlingsStatus", .string("OK")), ("behandlet", .string(k.behandlet)),
            ("status", .optional(k.status)), ("category", .optional(k.category)), ("ruleVersion", .int(k.ruleVersion)),
            ("applied", .bool(k.applied)),
        ])
    }

    /// Runs `body`, adding NAV's `errorType` to the problem a refusal becomes.
    static func naming(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as StatusError {
            guard let type = AktivitetskortErrorType(error) else { throw error }
            var problem = Problem(error)
            problem.extensions["errorType"] = .string(type.rawValue)
            throw DecoratedProblem(problem: problem)
        } catch let error as RequestBodyError {
            var problem = Problem(error)
            if let type = AktivitetskortErrorType(code: problem.code) { problem.extensions["errorType"] = .string(type.rawValue) }
            throw DecoratedProblem(problem: problem)
        }
    }
}
