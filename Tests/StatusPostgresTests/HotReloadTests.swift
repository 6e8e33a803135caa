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
            let before = try #require(app.services.registry.snapshot(for: sundsvall))
            var document = try TestDatabase.document("sundsvall")
            document.sources["BYGGR"]!.codes["UTSKICK"] = "Klart"
            _ = try await app.services.rules.publish(
                tenant: sundsvall, document: document.jsonValue(), baseVersion: 1, comment: "", by: "t")
            #expect(before.map(source: "BYGGR", code: "UTSKICK").status?.name == "Under behandling")
            #expect(app.services.registry.snapshot(for: sundsvall)?.map(source: "BYGGR", code: "UTSKICK").status?.name == "Klart")
        }
    }
}
