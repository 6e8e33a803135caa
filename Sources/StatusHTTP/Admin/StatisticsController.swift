import Foundation
import Hummingbird
import StatusCore
import StatusRules

/// The console's overview (`/admin/v1/stats/…`): cases per status and category, events accepted
/// and dead-lettered per hour, pending dead letters per problem code.
///
/// Permission `rules:read` for all three: they are counts over the vocabulary the rules already
/// show (statuses, categories, source systems and their codes), never a message, a case id or an
/// identity number, so whoever may read the rules may read them (an auditor included). Reading the
/// parked messages themselves and replaying them stays with `deadletters:manage`.
struct StatisticsController {
    let statistics: TenantStatistics

    var endpoints: RouteCollection<StatusRequestContext> {
        let routes = RouteCollection(context: StatusRequestContext.self)
        routes.get("stats/cases", use: cases)
        routes.get("stats/ingest", use: ingest)
        routes.get("stats/deadletters", use: deadLetters)
        return routes
    }

    /// Live cases per status and per category, as the faces show them under the request's rules.
    func cases(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try context.require(.rulesRead)
        let counts = try await statistics.caseCounts(tenant: principal.tenant, snapshot: snapshot)
        return JSONOut.object([
            ("rulesVersion", .int(counts.rulesVersion)), ("total", .int(counts.total)),
            (
                "byStatus",
                .array(
                    counts.byStatus.map {
                        .object([("status", .string($0.status)), ("category", .string($0.category)), ("cases", .int($0.cases))])
                    })
            ),
            ("byCategory", .array(counts.byCategory.map { .object([("category", .string($0.category)), ("cases", .int($0.cases))]) })),
        ]).response()
    }

    /// Every hour of the last `hours` (default 72, at most 720), oldest first, zeros included.
    func ingest(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.rulesRead)
        var hours = TenantStatistics.defaultHours
        if let text = try request.query("hours") {
            guard let value = Int(text), (1...TenantStatistics.maxHours).contains(value) else {
                throw StatusError.invalid("/query/hours", "must be a whole number from 1 to \(TenantStatistics.maxHours)")
            }
            hours = value
        }
        let history = try await statistics.ingestHistory(tenant: principal.tenant, hours: hours)
        return JSONOut.object([
            ("from", .instant(history.from)), ("to", .instant(history.to)),
            ("accepted", .int(history.hours.reduce(0) { $0 + $1.accepted })),
            ("deadLettered", .int(history.hours.reduce(0) { $0 + $1.deadLettered })),
            (
                "perHour",
                .array(
                    history.hours.map {
                        .object([("hour", .instant($0.hour)), ("accepted", .int($0.accepted)), ("deadLettered", .int($0.deadLettered))])
                    })
            ),
        ]).response()
    }

    /// Pending dead letters per problem code, largest first, with the source codes they carry.
    func deadLetters(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.rulesRead)
        let tallies = try await statistics.pendingDeadLetters(tenant: principal.tenant)
        return JSONOut.object([
            ("pending", .int(tallies.reduce(0) { $0 + $1.count })),
            (
                "byCode",
                .array(
                    tallies.map { tally in
                        .object([
                            ("code", .string(tally.code)), ("count", .int(tally.count)), ("oldest", .instant(tally.oldest)),
                            ("newest", .instant(tally.newest)),
                            (
                                "subjects",
                                .array(
                                    tally.subjects.map {
                                        .object([
                                            ("sourceSystem", .optional($0.sourceSystem)), ("rawStatus", .optional($0.rawStatus)),
                                            ("count", .int($0.count)),
                                        ])
                                    })
                            ),
                        ])
                    })
            ),
        ]).response()
    }
}
