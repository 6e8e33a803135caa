import Foundation
import HTTPTypes
import Hummingbird
import StatusRules
import StatusTestSupport
import Testing

@Suite("Rules administration and audit over HTTP")
struct AdminTests {
    @Test("read the active release, list versions, read one, and find what was active at an instant")
    func releases() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            let active = try await h.get("/admin/v1/rules", key: admin)
            #expect(active.text.hasPrefix("{\"version\":1,\"publishedAt\":"))
            #expect(active.json["document"]?["sources"]?["BYGGR"]?["codes"]?["KOMP"] == .string("Väntar på komplettering"))
            let instant = active.json["publishedAt"]!.stringValue!
            _ = try await h.publishSundsvall(adminKey: admin, baseVersion: 1) { $0.displayName = "Sundsvall" }
            #expect(try await h.get("/admin/v1/rules/versions", key: admin).json.arrayValue?.count == 2)
            #expect(try await h.get("/admin/v1/rules/versions/2", key: admin).json["document"]?["displayName"] == .string("Sundsvall"))
            #expect(try await h.get("/admin/v1/rules/versions/9", key: admin).code == "NOT_FOUND")
            let at = try await h.get("/admin/v1/rules?at=\(segment(instant))", key: admin)
            #expect(at.json["version"] == .number(1))
            #expect(try await h.get("/admin/v1/rules?at=yesterday", key: admin).code == "VALIDATION_FAILED")
            #expect(try await h.get("/admin/v1/rules?at=1999-01-01T00:00:00Z", key: admin).code == "NOT_FOUND")
        }
    }

    @Test("validate reports findings at their paths, test results and the impact on existing cases")
    func validate() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            let byggr = try await h.key("sundsvall", "byggr")
            for n in 0..<3 { _ = try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "K\(n)", status: "KOMPTEK")) }
            _ = try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "U", status: "UTSKICK"))
            var document = try TestDatabase.document("sundsvall")
            document.sources["BYGGR"]!.codes["KOMPTEK"] = "Under behandling"
            document.sources["BYGGR"]!.codes["UTSKICK"] = "Klar"  // typo
            let broken = try await h.post("/admin/v1/rules/validate", key: admin, "{\"document\":\(document.jsonValue().canonicalString)}")
            #expect(broken.status == .ok && broken.json["valid"] == .bool(false))
            #expect(broken.json["errors"]?.arrayValue?.first?["path"] == .string("sources.BYGGR.codes.UTSKICK"))
            #expect(broken.json["errors"]?.arrayValue?.first?["pointer"] == .string("/sources/BYGGR/codes/UTSKICK"))
            document.sources["BYGGR"]!.codes["UTSKICK"] = "Klart"
            let fixed = try await h.post("/admin/v1/rules/validate", key: admin, document.jsonValue().canonicalString)
            #expect(fixed.json["valid"] == .bool(true))
            #expect(fixed.json["tests"]?.arrayValue?.allSatisfy { $0["passed"] == .bool(true) } == true)
            #expect(fixed.json["impact"]?["casesChangingStatus"] == .number(4))
            let byCode = fixed.json["impact"]?["byCode"]?.arrayValue ?? []
            #expect(byCode.map { $0["code"] } == [.string("KOMPTEK"), .string("UTSKICK")])
            #expect(
                byCode.first?["cases"] == .number(3) && byCode.first?["from"] == .string("Kompletterad")
                    && byCode.first?["to"] == .string("Under behandling"))
        }
    }

    @Test("publish: 201 with the version, 409 VERSION_CONFLICT on a stale base, 422 RULES_INVALID listing each finding")
    func publish() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            #expect(try await h.publishSundsvall(adminKey: admin, baseVersion: 1) { $0.displayName = "A" }.status == .created)
            let stale = try await h.publishSundsvall(adminKey: admin, baseVersion: 1) { $0.displayName = "B" }
            #expect(stale.status == .conflict && stale.code == "VERSION_CONFLICT" && stale.json["activeVersion"] == .number(2))
            let invalid = try await h.publishSundsvall(adminKey: admin, baseVersion: 2) {
                $0.sources["BYGGR"]!.codes["NY"] = "Okänd"
                $0.roles["portal"] = ["status:write"]
            }
            #expect(invalid.status == .unprocessableContent && invalid.code == "RULES_INVALID")
            let pointers = (invalid.json["errors"]?.arrayValue ?? []).compactMap { $0["pointer"]?.stringValue }
            #expect(Set(pointers) == ["/sources/BYGGR/codes/NY", "/roles/portal/0"])
            #expect(try await h.post("/admin/v1/rules/publish", key: admin, "{\"comment\":\"no base\"}").code == "VALIDATION_FAILED")
            let auditor = try await h.key("sundsvall", "auditor")
            #expect(try await h.publishSundsvall(adminKey: auditor, baseVersion: 2) { $0.displayName = "C" }.code == "FORBIDDEN")
        }
    }

    @Test("drafts, simulate, diff, rollback")
    func draftSimulateDiffRollback() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            #expect(try await h.get("/admin/v1/rules/draft", key: admin).code == "NOT_FOUND")
            var document = try TestDatabase.document("sundsvall")
            document.sources["BYGGR"]!.codes["NYKOD"] = "Under behandling"
            let saved = try await h.request(.put, "/admin/v1/rules/draft", key: admin, json: document.jsonValue().canonicalString)
            #expect(saved.status == .ok && saved.json["document"]?["sources"]?["BYGGR"]?["codes"]?["NYKOD"] == .string("Under behandling"))
            #expect(try await h.get("/admin/v1/rules/draft", key: admin).json["updatedBy"]?.stringValue?.hasPrefix("sundsvall.") == true)

            let simulated = try await h.post(
                "/admin/v1/rules/simulate", key: admin, "{\"sourceSystem\":\"BYGGR\",\"code\":\"ANM\",\"fromStatus\":\"Klart\"}")
            #expect(
                simulated.text
                    == "{\"status\":\"Inskickat\",\"category\":\"Mottagningskvittens\",\"transitionAllowed\":false,\"matched\":true,\"outcome\":\"mapped\"}"
            )
            let unmapped = try await h.post("/admin/v1/rules/simulate", key: admin, "{\"sourceSystem\":\"BYGGR\",\"code\":\"NYKOD\"}")
            #expect(unmapped.json["status"] == .null && unmapped.json["matched"] == .bool(false))
            let onDraft = try await h.post(
                "/admin/v1/rules/simulate", key: admin,
                "{\"sourceSystem\":\"BYGGR\",\"code\":\"NYKOD\",\"document\":\(document.jsonValue().canonicalString)}")
            #expect(onDraft.json["status"] == .string("Under behandling"))

            let published = try await h.post("/admin/v1/rules/publish", key: admin, "{\"baseVersion\":1,\"comment\":\"från utkastet\"}")
            #expect(published.text == "{\"version\":2}")
            let diff = try await h.get("/admin/v1/rules/diff?from=1&to=2", key: admin)
            #expect(
                diff.text == "[{\"path\":\"sources.BYGGR.codes.NYKOD\",\"change\":\"added\",\"old\":null,\"new\":\"Under behandling\"}]")
            #expect(try await h.get("/admin/v1/rules/diff?from=1", key: admin).code == "VALIDATION_FAILED")

            let rollback = try await h.post("/admin/v1/rules/rollback", key: admin, "{\"toVersion\":1,\"comment\":\"ångra\"}")
            #expect(rollback.status == .created && rollback.text == "{\"version\":3}")
            let active = try await h.get("/admin/v1/rules", key: admin).json
            #expect(active["rolledBackFrom"] == .number(1) && active["document"]?["sources"]?["BYGGR"]?["codes"]?["NYKOD"] == nil)
        }
    }

    @Test("the rules history exports as CSV a spreadsheet opens correctly, and as JSON")
    func rulesHistoryExport() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            let auditor = try await h.key("sundsvall", "auditor")
            _ = try await h.publishSundsvall(adminKey: admin, baseVersion: 1) {
                $0.sources["BYGGR"]!.codes["KOMPTEK"] = "Under behandling"
                $0.displayName = "Sundsvalls kommun, \"Stadsbyggnad\""
            }
            let today = String(RFC3339Format.today())
            let csv = try await h.get("/admin/v1/audit/rules-history?format=csv&from=\(today)&to=\(today)", key: auditor)
            #expect(csv.status == .ok && csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.headers[.contentDisposition] == "attachment; filename=\"rules-history-sundsvall.csv\"")
            let lines = csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.first == "\u{FEFF}version,publishedAt,publishedBy,comment,path,change,old,new")
            // Version 1 adds every entry; version 2 changes two.
            let version2 = lines.filter { $0.hasPrefix("2,") }
            #expect(version2.count == 2)
            #expect(
                version2.contains {
                    $0.hasSuffix(",test,displayName,changed,Sundsvalls kommun,\"Sundsvalls kommun, \"\"Stadsbyggnad\"\"\"")
                })
            #expect(version2.contains { $0.hasSuffix(",test,sources.BYGGR.codes.KOMPTEK,changed,Kompletterad,Under behandling") })
            // The JSON export has the same rows as the CSV, with the same values.
            let json = try await h.get("/admin/v1/audit/rules-history?format=json", key: auditor).json.arrayValue ?? []
            #expect(json.count == lines.count - 1)
            let jsonVersion2 = json.filter { $0["version"] == .number(2) }
            #expect(jsonVersion2.compactMap { $0["path"]?.stringValue }.sorted() == ["displayName", "sources.BYGGR.codes.KOMPTEK"])
            let komptek = jsonVersion2.first { $0["path"] == .string("sources.BYGGR.codes.KOMPTEK") }
            #expect(komptek?["change"] == .string("changed") && komptek?["comment"] == .string("test"))
            #expect(komptek?["old"] == .string("Kompletterad") && komptek?["new"] == .string("Under behandling"))
            #expect(try await h.get("/admin/v1/audit/rules-history?format=xml", key: auditor).code == "VALIDATION_FAILED")
            #expect(try await h.get("/admin/v1/audit/rules-history", key: admin).code == "FORBIDDEN")
        }
    }
}

enum RFC3339Format {
    /// Today's date in UTC, `yyyy-MM-dd`.
    static func today() -> Substring { ISO8601DateFormatter().string(from: Date()).prefix(10) }
}

@Suite("Console support")
struct ConsoleSupportTests {
    @Test("/admin/v1/me says who the credential is and what it may do; /admin redirects to the console, served as UTF-8")
    func meAndConsole() async throws {
        try await Harness.run { h in
            let auditor = try await h.key("sundsvall", "auditor")
            let me = try await h.get("/admin/v1/me", key: auditor)
            #expect(me.text.hasPrefix("{\"tenant\":\"sundsvall\",\"displayName\":\"Sundsvalls kommun\",\"subject\":\"sundsvall."))
            #expect(me.json["roles"] == .array([.string("auditor")]))
            #expect(me.json["permissions"] == .array([.string("audit:export"), .string("rules:read")]))
            #expect(try await h.get("/admin/v1/me", key: nil).code == "UNAUTHENTICATED")
            let redirect = try await h.get("/admin", key: nil)
            #expect(redirect.status == .permanentRedirect && redirect.headers[.location] == "/admin/")
            let console = try await h.get("/admin/", key: nil)
            #expect(console.status == .ok && console.headers[.contentType] == "text/html; charset=utf-8")
            #expect(console.text.contains("<title>Statusbro admin</title>"))
        }
    }

    @Test("a draft records the version it is based on, and can be discarded")
    func draftBaseAndDelete() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            let document = try TestDatabase.document("sundsvall").jsonValue().canonicalString
            _ = try await h.publishSundsvall(adminKey: admin, baseVersion: 1) { $0.displayName = "Sundsvall" }
            let saved = try await h.request(.put, "/admin/v1/rules/draft", key: admin, json: document)
            #expect(saved.json["baseVersion"] == .number(2))
            #expect(try await h.request(.delete, "/admin/v1/rules/draft", key: admin).status == .noContent)
            #expect(try await h.get("/admin/v1/rules/draft", key: admin).code == "NOT_FOUND")
            #expect(try await h.request(.delete, "/admin/v1/rules/draft", key: admin).code == "NOT_FOUND")
        }
    }
}
