import Foundation
import PostgresNIO
import StatusCore
import StatusPostgres
import StatusRules
import StatusTestSupport
import Testing

@Suite("Tenants as data and API keys")
struct TenantsAndKeysTests {
    @Test("a tenant document survives import → export → import unchanged")
    func importExportImport() async throws {
        try await TestBackend.withBackend { app in
            let original = try TestDatabase.document("sundsvall")
            let exported = try #require(try await app.store.activeRelease(tenant: TenantID("sundsvall")!)).document.yaml()
            let reimported = try RulesDocument.decode(yaml: exported)
            #expect(reimported == original)
            // Importing the same document again publishes nothing.
            let version = try await app.services.rules.importDocument(reimported, by: "test", comment: "again")
            #expect(version == nil)
            #expect(try await app.store.activeRelease(tenant: TenantID("sundsvall")!)?.version == 1)
            // A changed document is published as the next version.
            var changed = reimported
            changed.displayName = "Sundsvalls kommun (ändrad)"
            #expect(try await app.services.rules.importDocument(changed, by: "test", comment: "changed") == 2)
        }
    }

    @Test("only a hash of an API key is stored; the raw key appears nowhere in the database")
    func keyHashed() async throws {
        try await TestBackend.withBackend { app in
            let key = try await app.key("sundsvall", "oep-portal")
            let secret = String(key.split(separator: "_", maxSplits: 2)[2])
            let dump = try await TestDatabase.asOwner(app.settings) { client in
                var text = ""
                for table in [
                    "tenants", "rule_releases", "rule_drafts", "cases", "case_events", "idempotency_keys", "dead_letters",
                    "feed_entries", "api_keys",
                ] {
                    for try await row in try await client.query(PostgresQuery(unsafeSQL: "SELECT t::text FROM \(table) t")).decode(
                        String.self)
                    {
                        text += row
                    }
                }
                return text
            }
            #expect(!dump.isEmpty)
            #expect(!dump.contains(key))
            #expect(!dump.contains(secret))
            // …and the key still authenticates.
            let principal = try await app.services.keys.authenticate(key: key)
            #expect(principal.tenant.rawValue == "sundsvall" && principal.roles == ["oep-portal"])
        }
    }

    @Test("a revoked key stops authenticating once the cache forgets it; an unknown key never authenticates")
    func revoke() async throws {
        try await TestBackend.withBackend { app in
            let key = try await app.key("sundsvall", "oep-portal")
            _ = try await app.services.keys.authenticate(key: key)
            let keys = try await app.store.listKeys(tenant: TenantID("sundsvall")!)
            #expect(try await app.store.revokeKey(tenant: TenantID("sundsvall")!, keyId: keys[0].keyId))
            app.services.keys.forget(tenant: TenantID("sundsvall")!)
            await #expect(throws: StatusError.unauthenticated("the API key is unknown or revoked")) {
                try await app.services.keys.authenticate(key: key)
            }
            let forged = "sbk_sundsvall_" + String(repeating: "A", count: 43)
            await #expect(throws: StatusError.self) { try await app.services.keys.authenticate(key: forged) }
            await #expect(throws: StatusError.self) { try await app.services.keys.authenticate(key: "not-a-key") }
        }
    }
}
