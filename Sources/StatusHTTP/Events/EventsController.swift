import Foundation
import Hummingbird
import StatusCore
import StatusRules

/// Event ingestion from case-management systems, and the dead letters of rejected messages.
struct EventsController {
    let services: StatusServices

    var endpoints: RouteCollection<StatusRequestContext> {
        let routes = RouteCollection(context: StatusRequestContext.self)
        routes.post("events", use: record)
        routes.post("events:batch", use: recordBatch)
        routes.get("deadletters", use: listDeadLetters)
        routes.post("deadletters/replay", use: replayAll)
        routes.post("deadletters/:id/replay", use: replay)
        return routes
    }

    /// `POST /api/v1/events`: 201 with a receipt; 200 with the first receipt for a retry.
    func record(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try context.authenticated()
        guard context.permissions.writesSomeEvents else {
            throw StatusError.forbidden("the credential's roles do not grant events:write")
        }
        let (body, text) = try await request.jsonBodyAndText(context: context)
        let submission = try EventSubmission(json: body)
        guard context.permissions.contains(.eventsWrite(source: submission.sourceSystem)) else {
            throw StatusError.forbidden("the credential's roles do not grant events:write:\(submission.sourceSystem)")
        }
        let submitted = try await services.events.record(
            submission, text: text, snapshot: snapshot, tenant: principal.tenant, correlationId: context.correlationID)
        return Self.receipt(submitted.answer).response(submitted.replayed ? .ok : .created)
    }

    /// `POST /api/v1/events:batch`: NDJSON (one event per line) or a JSON array, at most
    /// `EventBatch.maximumEvents` events and `EventBatch.maximumBodySize` bytes. 200 with one result
    /// per event, in order: the receipt (201 new, 200 a retry) or the problem it would have got
    /// alone. A malformed event is kept as a dead letter like a rejected one; an event for a source
    /// system the credential may not write is refused (403) and not kept.
    func recordBatch(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try context.authenticated()
        guard context.permissions.writesSomeEvents else {
            throw StatusError.forbidden("the credential's roles do not grant events:write")
        }
        let events = try await EventBatchBody.read(request, context: context)
        var results = [(status: Int, body: JSONOut)?](repeating: nil, count: events.count)
        var admitted: [(index: Int, item: BatchItem<EventMessage>)] = []
        for (index, event) in events.enumerated() {
            if case .message(let message) = event.item,
                !context.permissions.contains(.eventsWrite(source: message.submission.sourceSystem))
            {
                let error = StatusError.forbidden("the credential's roles do not grant events:write:\(message.submission.sourceSystem)")
                results[index] = Self.batchResult(.refused(error, deadLetterId: nil))
            } else {
                admitted.append((index, event.item))
            }
        }
        let outcomes = try await services.events.recordBatch(
            admitted.map(\.item), snapshot: snapshot, tenant: principal.tenant, correlationId: context.correlationID)
        for (position, outcome) in outcomes.enumerated() { results[admitted[position].index] = Self.batchResult(outcome) }

        var counts = (accepted: 0, replayed: 0, refused: 0)
        let rendered = zip(events, results).map { event, result -> JSONOut in
            let (status, body) = result!
            switch status {
            case 201: counts.accepted += 1
            case 200: counts.replayed += 1
            default: counts.refused += 1
            }
            return .object([("line", .int(event.line)), ("status", .int(status)), (status < 300 ? "receipt" : "problem", body)])
        }
        return JSONOut.object([
            ("accepted", .int(counts.accepted)), ("replayed", .int(counts.replayed)), ("refused", .int(counts.refused)),
            ("results", .array(rendered)),
        ]).response()
    }

    static func batchResult(_ result: BatchResult<EventReceipt>) -> (status: Int, body: JSONOut) {
        switch result {
        case .accepted(let submitted):
            return (submitted.replayed ? 200 : 201, receipt(submitted.answer))
        case .refused(let error, let deadLetterId):
            var problem = Problem(error)
            if let deadLetterId { problem.extensions["deadLetterId"] = .string(deadLetterId) }
            return (Int(problem.status.code), .raw(problem.json))
        }
    }

    static func receipt(_ r: EventReceipt) -> JSONOut {
        .object([
            ("messageId", .string(r.messageId)), ("caseId", .string(r.caseId)), ("externalCaseId", .string(r.externalCaseId)),
            ("rawStatus", .string(r.rawStatus)), ("status", .string(r.status)), ("category", .string(r.category)),
            ("ruleVersion", .int(r.ruleVersion)), ("applied", .bool(r.applied)), ("recordedAt", .string(r.recordedAt)),
        ])
    }

    /// `GET /api/v1/deadletters?state=pending|replayed|all`.
    func listDeadLetters(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.deadLettersManage)
        let state: DeadLetter.State?
        switch try request.query("state") ?? "pending" {
        case "pending": state = .pending
        case "replayed": state = .replayed
        case "all": state = nil
        default: throw StatusError.invalid("/query/state", "must be pending, replayed or all")
        }
        let letters = try await services.deadLetters.list(tenant: principal.tenant, state: state)
        return JSONOut.array(letters.map(Self.deadLetter)).response()
    }

    static func deadLetter(_ d: DeadLetter) -> JSONOut {
        .object([
            ("id", .string(d.id.uuidString.lowercased())), ("messageId", .optional(d.messageId)), ("code", .string(d.code)),
            ("detail", .string(d.detail)), ("payload", .value(d.payload)), ("receivedAt", .instant(d.receivedAt)),
            ("replayedAt", .instant(d.replayedAt)), ("replayResult", d.replayResult.map(JSONOut.value) ?? .null),
            ("state", .string(d.state.rawValue)), ("kind", .string(d.scope)), ("attempts", .int(d.attempts)),
        ])
    }

    /// `POST /api/v1/deadletters/{id}/replay`.
    func replay(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try context.require(.deadLettersManage)
        guard let id = UUID(uuidString: try context.parameters.identifier("id")) else {
            throw StatusError.invalid("/path/id", "must be a UUID")
        }
        let result = try await services.deadLetters.replay(id: id, tenant: principal.tenant, snapshot: snapshot)
        return Self.replayResult(result).response()
    }

    /// `POST /api/v1/deadletters/replay`: every pending one, oldest first.
    func replayAll(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try context.require(.deadLettersManage)
        let results = try await services.deadLetters.replayAll(tenant: principal.tenant, snapshot: snapshot)
        let accepted = results.filter { $0.outcome == .accepted }.count
        return JSONOut.object([
            ("replayed", .int(results.count)), ("accepted", .int(accepted)), ("rejected", .int(results.count - accepted)),
            ("results", .array(results.map(Self.replayResult))),
        ]).response()
    }

    static func replayResult(_ r: ReplayResult) -> JSONOut {
        .object([
            ("deadLetterId", .string(r.deadLetterId)), ("outcome", .string(r.outcome.rawValue)), ("code", .optional(r.code)),
            ("detail", .optional(r.detail)), ("response", r.response.map(JSONOut.value) ?? .null),
        ])
    }
}
