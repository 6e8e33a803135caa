import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import StatusCore
import StatusPostgres
import StatusRules
import StatusTestSupport
import Testing

@Suite("Authentication, permissions and tenant isolation over HTTP")
struct AccessTests {
    @Test("no credential, an unknown key or a malformed bearer is 401; a key works in both header forms")
    func authentication() async throws {
        try await Harness.run { h in
            #expect(try await h.get("/casestatus/1.0/X/status", key: nil).code == "UNAUTHENTICATED")
            #expect(
                try await h.get("/casestatus/1.0/X/status", key: "sbk_sundsvall_" + String(repeating: "x", count: 43)).code
                    == "UNAUTHENTICATED")
            #expect(try await h.get("/casestatus/1.0/X/status", key: "whatever").code == "UNAUTHENTICATED")
            let basic = try await h.request(.get, "/casestatus/1.0/X/status", headers: [.authorization: "Basic dXNlcjpwYXNz"])
            #expect(basic.status == .unauthorized && basic.headers[.wwwAuthenticate] != nil)
            let portal = try await h.key("sundsvall", "oep-portal")
            #expect(
                try await h.request(.get, "/casestatus/1.0/X/status", headers: [.authorization: "Bearer \(portal)"]).code == "NOT_FOUND")
            #expect(try await h.get("/casestatus/1.0/X/status", key: portal).code == "NOT_FOUND")
        }
    }

    @Test("a role's permissions come from the current rules: removing one takes effect without a restart")
    func permissionsFollowRules() async throws {
        try await Harness.run { h in
            let portal = try await h.key("sundsvall", "oep-portal")
            let admin = try await h.key("sundsvall", "municipality-admin")
            #expect(try await h.get("/api/v1/changes", key: portal).status == .ok)
            #expect(
                try await h.publishSundsvall(adminKey: admin, baseVersion: 1) { $0.roles["oep-portal"] = ["status:read"] }.status
                    == .created)
            #expect(try await h.get("/api/v1/changes", key: portal).code == "FORBIDDEN")
            #expect(try await h.get("/casestatus/1.0/X/status", key: portal).code == "NOT_FOUND")
            // A key whose role disappears from the rules can do nothing.
            #expect(try await h.publishSundsvall(adminKey: admin, baseVersion: 2) { $0.roles["oep-portal"] = nil }.status == .created)
            #expect(try await h.get("/casestatus/1.0/X/status", key: portal).code == "FORBIDDEN")
        }
    }

    @Test("a revoked key is refused at once in the process that revoked it, and after the notification elsewhere")
    func revocation() async throws {
        try await Harness.run { h in
            let portal = try await h.key("sundsvall", "oep-portal")
            // A second process on the same database, with its own key cache and listener.
            let other = try PostgresBackend(settings: h.app.settings, logger: TestDatabase.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for service in [other.client, other.listener] as [any Service] { group.addTask { try await service.run() } }
                defer { group.cancelAll() }
                let deadline = Date().addingTimeInterval(10)
                while !other.listener.state.isConnected && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
                // Both processes have the key cached as valid.
                #expect(try await h.get("/casestatus/1.0/X/status", key: portal).code == "NOT_FOUND")
                #expect(try await other.services.keys.authenticate(key: portal).tenant == TenantID("sundsvall"))

                let keyId = try #require(try await h.app.services.keyIssuer.list(tenant: TenantID("sundsvall")!).first?.keyId)
                try await h.app.services.keyIssuer.revoke(keyId: keyId)
                // The revoking process: on the very next request, without waiting for anything.
                #expect(try await h.get("/casestatus/1.0/X/status", key: portal).code == "UNAUTHENTICATED")
                // The other process: once the notification arrives (it would otherwise serve its cache for 30 s).
                var refused = false
                while !refused && Date() < deadline {
                    do {
                        _ = try await other.services.keys.authenticate(key: portal)
                        try await Task.sleep(for: .milliseconds(20))
                    } catch StatusError.unauthenticated {
                        refused = true
                    }
                }
                #expect(refused)
            }
        }
    }

    @Test("a key of another tenant gets 404 for this tenant's case and never its data, on every read and write")
    func crossTenant() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            _ = try await h.post(
                "/api/v1/events", key: byggr,
                Harness.event(externalCaseId: "SECRET-1", status: "KOMP", flowInstanceId: "FLOW-1", organisationNumber: "5564900008"))
            _ = try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "SECRET-2", status: "NYKOD"))
            // Warm this process's caches (key, case, organisation list) with sundsvall's answers
            // first: bergen must not be answered from them.
            let portal = try await h.key("sundsvall", "oep-portal")
            #expect(try await h.get("/casestatus/1.0/SECRET-1/status", key: portal).status == .ok)
            #expect(try await h.get("/casestatus/1.0/FLOW-1/oepstatus", key: portal).status == .ok)
            #expect(try await h.get("/casestatus/1.0/5564900008/statuses", key: portal).json.arrayValue?.count == 1)
            let bergen = try await h.key("bergen", "municipality-admin")
            // bergen's own rules give it status:read and more; none of it reaches sundsvall's data.
            let publishWithStatusRead = try await h.get("/casestatus/1.0/SECRET-1/status", key: bergen)
            #expect(publishWithStatusRead.code == "NOT_FOUND")
            #expect(try await h.get("/casestatus/1.0/FLOW-1/oepstatus", key: bergen).code == "NOT_FOUND")
            #expect(try await h.get("/casestatus/1.0/5564900008/statuses", key: bergen).text == "[]")
            #expect(try await h.get("/api/v1/cases/SECRET-1", key: bergen).code == "NOT_FOUND")
            #expect(try await h.get("/api/v1/cases/SECRET-1/history", key: bergen).code == "NOT_FOUND")
            let feed = try await h.get("/api/v1/changes", key: bergen)
            #expect(feed.json["changes"] == .array([]))
            let letters = try await h.get("/api/v1/deadletters?state=all", key: bergen)
            #expect(letters.text == "[]")
            let sundsvallLetters =
                try await h.get("/api/v1/deadletters", key: try await h.key("sundsvall", "municipality-admin")).json.arrayValue ?? []
            let foreignId = try #require(sundsvallLetters.first?["id"]?.stringValue)
            #expect(try await h.post("/api/v1/deadletters/\(foreignId)/replay", key: bergen, "{}").code == "NOT_FOUND")
            let rules = try await h.get("/admin/v1/rules", key: bergen).json
            #expect(rules["document"]?["tenant"] == .string("bergen"))
            // Publishing sundsvall's document with bergen's key is refused.
            let sundsvallDocument = try TestDatabase.document("sundsvall").jsonValue().canonicalString
            let hijack = try await h.post("/admin/v1/rules/publish", key: bergen, "{\"baseVersion\":1,\"document\":\(sundsvallDocument)}")
            #expect(hijack.code == "RULES_INVALID")
            for path in ["/casestatus/1.0/SECRET-1/status", "/api/v1/changes", "/admin/v1/audit/decisions?format=json"] {
                let text = try await h.get(path, key: bergen).text
                #expect(!text.contains("Väntar på komplettering") && !text.contains("FLOW-1") && !text.contains("5564900008"), "\(path)")
            }
        }
    }

    @Test("health needs no credential and lists each tenant's served rules version")
    func health() async throws {
        try await Harness.run { h in
            let reply = try await h.get("/health", key: nil)
            #expect(reply.status == .ok)
            #expect(reply.json["status"] == .string("ok") && reply.json["database"] == .string("ok"))
            #expect(reply.json["tenants"]?["sundsvall"]?["rulesVersion"] == .number(1))
            #expect(reply.json["tenants"]?["bergen"]?["rulesVersion"] == .number(1))
            #expect(try await h.get("/no/such/route", key: nil).code == "NOT_FOUND")
        }
    }
}

@Suite("Per-tenant request limits over HTTP")
struct RequestLimitTests {
    @Test(
        "beyond its rules' limits a tenant gets 429 RATE_LIMITED with Retry-After; other tenants, reads and admin are untouched; a publish lifts it"
    )
    func limited() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            let byggr = try await h.key("sundsvall", "byggr")
            let portal = try await h.key("sundsvall", "oep-portal")
            let vendor = try await h.key("bergen", "ebygg-vendor")
            let published = try await h.publishSundsvall(adminKey: admin, baseVersion: 1) {
                $0.limits = TenantLimits(
                    tenant: RequestLimits(writes: RateLimit(perSecond: 0.01, burst: 3)),
                    perKey: RequestLimits(reads: RateLimit(perSecond: 0.01, burst: 50)))
            }
            #expect(published.status == .created, "\(published.text)")
            for n in 0..<3 {
                #expect(
                    try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "L\(n)", status: "ANM")).status == .created
                )
            }
            let refused = try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "L9", status: "ANM"))
            #expect(refused.status == .tooManyRequests && refused.code == "RATE_LIMITED")
            #expect(refused.headers[.contentType] == "application/problem+json; charset=utf-8")
            #expect(refused.json["type"] == .string("urn:statusbro:problem:rate-limited"))
            let retryAfter = Int(refused.headers[.retryAfter] ?? "") ?? 0
            #expect(retryAfter >= 60)
            // Nothing was written for the refused event.
            #expect(try await h.get("/api/v1/cases/L9", key: portal).code == "NOT_FOUND")
            // Reads have their own bucket; another tenant has its own; administration is not limited.
            #expect(try await h.get("/casestatus/1.0/L0/status", key: portal).status == .ok)
            #expect(try await h.get("/dibk/api/v1/status?innsendingReferanse=NONE", key: vendor).code != "RATE_LIMITED")
            let lifted = try await h.publishSundsvall(adminKey: admin, baseVersion: 2) { $0.limits = nil }
            #expect(lifted.status == .created, "\(lifted.text)")
            #expect(try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "L9", status: "ANM")).status == .created)
        }
    }
}
