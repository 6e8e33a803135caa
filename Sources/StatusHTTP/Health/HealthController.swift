import Foundation
import Hummingbird
import StatusCore
import StatusRules

/// `GET /health`, without a credential: the database, the rules listener, and each tenant's
/// served rules version (with any release that failed to compile and is therefore not served).
struct HealthController {
    let services: StatusServices

    func health(_ request: Request, context: StatusRequestContext) async throws -> Response {
        let reachable = await services.health.databaseIsReachable()
        let tenants = services.registry.status()
        let failed = tenants.values.contains { $0.failure != nil }
        var members: [(String, JSONOut)] = [
            ("status", .string(!reachable ? "unavailable" : failed ? "degraded" : "ok")),
            ("database", .string(reachable ? "ok" : "unreachable")),
        ]
        if let connected = services.health.notificationsConnected {
            members.append(("rulesListener", .string(connected ? "connected" : "reconnecting")))
        }
        members.append(
            (
                "tenants",
                .object(
                    tenants.keys.sorted().map { tenant in
                        let status = tenants[tenant]!
                        var entry: [(String, JSONOut)] = [("rulesVersion", .int(status.servedVersion))]
                        if let failure = status.failure {
                            entry.append(
                                ("reloadError", .object([("version", .int(failure.version)), ("message", .string(failure.message))])))
                        }
                        return (tenant.rawValue, .object(entry))
                    })
            ))
        return JSONOut.object(members).response(reachable ? .ok : .serviceUnavailable)
    }
}
