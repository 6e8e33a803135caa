import Foundation
import Hummingbird
import StatusCore
import StatusRules

/// The change feed (`GET /api/v1/changes?offset=&limit=`): every committed change exactly once,
/// in commit order, for a reader that always passes back the offset it was given.
struct FeedController {
    let feed: ChangeFeedReader

    var endpoints: RouteCollection<StatusRequestContext> {
        let routes = RouteCollection(context: StatusRequestContext.self)
        routes.get("changes", use: changes)
        return routes
    }

    func changes(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let (principal, _) = try context.require(.feedRead)
        var offset = FeedOffset.start
        if let token = try request.query("offset"), !token.isEmpty {
            guard let parsed = FeedOffset(token: token) else {
                throw StatusError.invalid("/query/offset", "is not an offset this server issued")
            }
            offset = parsed
        }
        var limit = ChangeFeedReader.defaultLimit
        if let text = try request.query("limit") {
            guard let value = Int(text), (1...ChangeFeedReader.maxLimit).contains(value) else {
                throw StatusError.invalid("/query/limit", "must be a whole number from 1 to \(ChangeFeedReader.maxLimit)")
            }
            limit = value
        }
        let page = try await feed.page(tenant: principal.tenant, after: offset, limit: limit)
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
}
