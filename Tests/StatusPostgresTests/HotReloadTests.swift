import Foundation
import PostgresNIO
import ServiceLifecycle
import StatusCore
import StatusPostgres
import StatusRules
import StatusTestSupport
import Testing

@Suite("Hot reload between processes sharing one database")
struct HotReloadTests {
    let sundsvall = TenantID("sundsvall")!

    /// Waits until `condition` holds, for at most `seconds`.
    func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test("a publish through one backend is served by another; one made while its listener was cut off is picked up")
    func acrossBackends() async throws {
        try await TestBackend.withBackend { publisher in
            // The second backend resyncs rarely, so only notifications and reconnects bring news.
            let other = try PostgresBackend(settings: publisher.settings, resyncInterval: .seconds(600), logger: TestDatabase.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await other.client.run() }
                group.addTask { try await other.listener.run() }
                defer { group.cancelAll() }
                let state = other.listener.state
                #expect(try await eventually { state.isConnected && other.services.registry.snapshot(for: sundsvall)?.version == 1 })

                var document = try TestDatabase.document("sundsvall")
                document.sources["BYGGR"]!.codes["NYKOD"] = "Under behandling"
                _ = try await publisher.services.rules.publish(
                    tenant: sundsvall, document: document.jsonValue(), baseVersion: 1, comment: "", by: "test")
                #expect(try await eventually { other.services.registry.snapshot(for: sundsvall)?.version == 2 })
                #expect(
                    other.services.registry.snapshot(for: sundsvall)?.map(source: "BYGGR", code: "NYKOD").status?.name == "Under behandling"
                )

                // Cut the listening connection, publish while it is gone, and expect the reconnect to catch up.
                try await TestDatabase.asOwner(publisher.settings) { client in
                    try await client.query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                    )
                }
                #expect(try await eventually(5) { !state.isConnected })
                document.sources["BYGGR"]!.codes["NYKOD"] = "Klart"
                _ = try await publisher.services.rules.publish(
                    tenant: sundsvall, document: document.jsonValue(), baseVersion: 2, comment: "", by: "test")
                #expect(try await eventually { state.isConnected && other.services.registry.snapshot(for: sundsvall)?.version == 3 })
                #expect(other.services.registry.snapshot(for: sundsvall)?.map(source: "BYGGR", code: "NYKOD").status?.name == "Klart")
            }
        }
    }

    @Test("a request keeps the snapshot it started with while a publish swaps in a new one")
    func snapshotsAreStable() async throws {
        try await TestBackend.withBackend { app in
            func event(_ id: String) throws -> EventSubmission {
                try EventSubmission(
                    json: .object([
                        "messageId": .string(UUID().uuidString), "sourceSystem": .string("BYGGR"), "externalCaseId": .string(id),
                        "caseType": .string("Bygglov"), "status": .string("UTSKICK"), "occurredAt": .string("2024-05-01T10:00:00Z"),
                    ]))
            }
            // What a request took when it was authenticated…
            let started = try app.services.registry.serving(sundsvall)
            // …then a publish lands while it is still running.
            var document = try TestDatabase.document("sundsvall")
            document.sources["BYGGR"]!.codes["UTSKICK"] = "Klart"
            _ = try await app.services.rules.publish(
                tenant: sundsvall, document: document.jsonValue(), baseVersion: 1, comment: "", by: "t")
            #expect(try app.services.registry.serving(sundsvall).version == 2)

            // The running request maps under its own snapshot, not the one just installed.
            let during = try await app.services.events.record(
                try event("STABLE-1"), snapshot: started, tenant: sundsvall, correlationId: "t")
            #expect(during.answer.ruleVersion == 1 && during.answer.status == "Under behandling")
            // A request that starts now gets the new rules.
            let after = try await app.services.events.record(
                try event("STABLE-2"), snapshot: try app.services.registry.serving(sundsvall), tenant: sundsvall, correlationId: "t")
            #expect(after.answer.ruleVersion == 2 && after.answer.status == "Klart")
        }
    }
}
