import Foundation
import Hummingbird
import StatusCore
import StatusRules

/// The change feed (`GET /api/v1/changes?offset=&limit=`): every committed change exactly once,
/// in commit order, for a reader that always passes back the offset it was given; and the same
/// pages as the parties whose cases changed (`GET /api/v1/changes/parties`).
struct FeedController {
    let feed: ChangeFeedReader

    var endpoints: RouteCollection<StatusRequestContext> {
        let routes = RouteCollection(context: StatusRequestContext.self)
        routes.get("changes", use: changes)
        routes.get("changes/parties", use: parties)
        return routes
    }

    func changes(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try context.require(.feedRead)
        let page = try await feed.page(
            tenant: principal.tenant, after: try Self.offset(request), limit: try Self.limit(request),
            retentionDays: snapshot.document.feedRetentionDays)
        return JSONOut.object([
            ("offset", .string(page.next.token)),
            (
                "changes",
                .array(
                    page.changes.map { entry in
                        .object([
                            ("externalCaseId", .string(entry.externalCaseId)), ("caseId", .string(entry.caseId.uuidString.lowercased())),
                            ("status", .optional(entry.status)), ("category", .optional(entry.category)),
                            ("changedAt", .instant(entry.changedAt)), ("reason", .string(entry.reason.rawValue)),
                        ])
                    })
            ),
        ]).response()
    }

    /// Helsenorge's "who changed since": the same pages, offsets and guarantee as `/changes`,
    /// answered with the parties (organisation or identity numbers) whose cases the page's changes
    /// touched, each once. `limit` counts changes, not parties, and the offset moves past every
    /// change read, also when none of them names a party.
    func parties(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, snapshot) = try context.require(.feedRead)
        let page = try await feed.page(
            tenant: principal.tenant, after: try Self.offset(request), limit: try Self.limit(request),
            retentionDays: snapshot.document.feedRetentionDays)
        return JSONOut.object([("offset", .string(page.next.token)), ("parties", .array(page.parties.map(JSONOut.string)))]).response()
    }

    /// The offset given (absent or empty: the start of the retention window).
    static func offset(_ request: Request) throws -> FeedOffset {
        guard let token = try request.query("offset"), !token.isEmpty else { return .start }
        guard let parsed = FeedOffset(token: token) else {
            throw StatusError.invalid("/query/offset", "is not an offset this server issued; pass back the offset of the last answer")
        }
        return parsed
    }

    /// The page size given, else the default.
    static func limit(_ request: Request) throws -> Int {
        guard let text = try request.query("limit") else { return ChangeFeedReader.defaultLimit }
        guard let value = Int(text), (1...ChangeFeedReader.maxLimit).contains(value) else {
            throw StatusError.invalid("/query/limit", "must be a whole number from 1 to \(ChangeFeedReader.maxLimit)")
        }
        return value
    }
}
