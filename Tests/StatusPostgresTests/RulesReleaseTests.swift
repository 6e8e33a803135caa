import Foundation
import PostgresNIO
import StatusCore
import StatusPostgres
import StatusRules
import StatusTestSupport
import Testing

@Suite("Rule releases: publish, conflicts, rollback, history")
struct RulesReleaseTests {
    let sundsvall = TenantID("sundsvall")!

    func document(_ change: (inout RulesDocument) -> Void) throws -> JSONValue {
        var document = try TestDatabase.document("sundsvall")
        change(&document)
        return document.jsonValue()
    }

    @Test("publish on the active version succeeds; on a stale one it is a version conflict")
    func versionConflict() async throws {
        try await TestBackend.withBackend { app in
            let v2 = try await app.services.rules.publish(
                tenant: sundsvall, document: try document { $0.sources["BYGGR"]!.codes["NYKOD"] = "Under behandling" }, baseVersion: 1,
                comment: "ny kod", by: "test")
            #expect(v2 == 2)
            await #expect(throws: StatusError.versionConflict(active: 2)) {
                _ = try await app.services.rules.publish(
                    tenant: sundsvall, document: try document { $0.displayName = "X" }, baseVersion: 1, comment: "late", by: "other")
            }
            #expect(app.services.registry.snapshot(for: sundsvall)?.version == 2)
        }
    }

    @Test("an invalid document or a failing test is refused with every finding, and nothing is published")
    func rulesInvalid() async throws {
        try await TestBackend.withBackend { app in
            let broken = try document {
                $0.sources["BYGGR"]!.codes["KOMPTEK"] = "Kompleterad"
                $0.tests.append(.mapping(name: nil, source: "BYGGR", code: "UAB", expect: .status("Inskickat", category: nil)))
            }
            do {
                _ = try await app.services.rules.publish(tenant: sundsvall, document: broken, baseVersion: 1, comment: "", by: "test")
                Issue.record("publish should have failed")
            } catch StatusError.rulesInvalid(let findings) {
                let paths = Set(findings.errors.map(\.path))
                #expect(paths.contains("sources.BYGGR.codes.KOMPTEK"))
                #expect(paths.contains { $0.hasPrefix("tests[") })
            }
            #expect(try await app.services.rules.versions(tenant: sundsvall).count == 1)
        }
    }

    @Test("a document for another tenant is refused at its tenant field, and nothing is published")
    func wrongTenant() async throws {
        try await TestBackend.withBackend { app in
            let bergen = try TestDatabase.document("bergen").jsonValue()
            do {
                _ = try await app.services.rules.publish(tenant: sundsvall, document: bergen, baseVersion: 1, comment: "", by: "test")
                Issue.record("publishing Bergen's document as Sundsvall's should have failed")
            } catch StatusError.rulesInvalid(let findings) {
                #expect(findings.errors.map(\.code) == ["WRONG_TENANT"])
                #expect(findings.errors.first?.path == "tenant")
            }
            #expect(try await app.services.rules.versions(tenant: sundsvall).count == 1)
            #expect(app.services.registry.snapshot(for: sundsvall)?.document.tenant == "sundsvall")
        }
    }

    @Test("rollback publishes the old document as a new version; ?at finds what was active; diff and history list changed entries")
    func rollbackAtDiffHistory() async throws {
        try await TestBackend.withBackend { app in
            let beforeV2 = Date()
            try await Task.sleep(for: .milliseconds(20))
            _ = try await app.services.rules.publish(
                tenant: sundsvall, document: try document { $0.sources["BYGGR"]!.codes["KOMPTEK"] = "Under behandling" }, baseVersion: 1,
                comment: "KOMPTEK är inte klar", by: "handläggare")
            let v3 = try await app.services.rules.rollback(tenant: sundsvall, toVersion: 1, comment: "tillbaka", by: "handläggare")
            #expect(v3 == 3)
            let release3 = try await app.services.rules.release(tenant: sundsvall, version: 3)
            #expect(release3.rolledBackFrom == 1)
            #expect(release3.document == (try TestDatabase.document("sundsvall")))
            #expect(try await app.services.rules.release(tenant: sundsvall, activeAt: beforeV2).version == 1)
            #expect(try await app.services.rules.release(tenant: sundsvall, activeAt: Date()).version == 3)

            let diff = try await app.services.rules.diff(tenant: sundsvall, from: 1, to: 2)
            #expect(
                diff == [
                    RulesChange(
                        path: "sources.BYGGR.codes.KOMPTEK", change: .changed, old: .string("Kompletterad"),
                        new: .string("Under behandling"))
                ])
            let history = try await app.services.rules.history(tenant: sundsvall, from: beforeV2, to: nil)
            #expect(history.map(\.version) == [2, 3])
            #expect(history.map(\.change.path) == ["sources.BYGGR.codes.KOMPTEK", "sources.BYGGR.codes.KOMPTEK"])
            #expect(history[0].comment == "KOMPTEK är inte klar")
        }
    }

    @Test("drafts are saved and read back, and validate/publish without a document use the draft")
    func drafts() async throws {
        try await TestBackend.withBackend { app in
            let draft = try document { $0.sources["BYGGR"]!.codes["NYKOD"] = "Inskickat" }
            try await app.services.rules.saveDraft(tenant: sundsvall, document: draft, by: "test")
            #expect(try await app.services.rules.draft(tenant: sundsvall).document == draft)
            let report = try await app.services.rules.validate(tenant: sundsvall, document: nil)
            #expect(report.valid)
            #expect(
                try await app.services.rules.publish(tenant: sundsvall, document: nil, baseVersion: 1, comment: "draft", by: "test") == 2)
            #expect(app.services.registry.snapshot(for: sundsvall)?.map(source: "BYGGR", code: "NYKOD").status?.name == "Inskickat")
        }
    }

    @Test("a release that fails to compile is never served; the previous stays and the failure is reported")
    func brokenReleaseNotServed() async throws {
        try await TestBackend.withBackend { app in
            // Bypass publish (which validates) to store a release the engine cannot compile.
            try await TestDatabase.asOwner(app.settings) { client in
                try await client.query(
                    """
                    INSERT INTO rule_releases (tenant_id, version, document, sha256, published_by)
                    SELECT tenant_id, 2, jsonb_set(document, '{sources,BYGGR,codes,ANM}', '"Finns inte"'), 'x', 'sabotage'
                      FROM rule_releases WHERE tenant_id = 'sundsvall' AND version = 1
                    """)
            }
            let outcome = try await app.services.loader.reload(sundsvall)
            #expect(outcome == .failed(version: 2))
            #expect(app.services.registry.snapshot(for: sundsvall)?.version == 1)
            #expect(app.services.registry.status()[sundsvall]?.failure?.version == 2)
        }
    }
}
