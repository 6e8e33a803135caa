import Foundation
import PostgresNIO
import ServiceLifecycle
import StatusCore
import StatusRules
import StatusTestSupport
import Testing

@testable import StatusPostgres

@Suite("The case cache of the read path")
struct CaseCacheTests {
    let sundsvall = TenantID("sundsvall")!

    func record(_ raw: String) -> CaseRecord {
        CaseRecord(
            caseId: UUID(), externalCaseId: "C-1", flowInstanceId: nil, caseType: "", organisationNumber: nil, sourceSystem: "BYGGR",
            rawStatus: raw, status: "", category: "", ruleVersion: 1, lastStatusChange: Date(), createdAt: Date(), withdrawnAt: nil)
    }

    @Test("a read that raced an invalidation does not cache what it read; expired entries are not served")
    func generationsAndExpiry() async throws {
        let cache = CaseCache(timeToLive: .milliseconds(100))
        let generation = cache.generation(sundsvall)
        cache.invalidate(sundsvall)  // a write committed while the read was in flight
        cache.store(record("ANM"), sundsvall, "C-1", .externalId, generation: generation)
        #expect(cache.record(sundsvall, "C-1", .externalId) == nil)
        cache.store(record("KOMP"), sundsvall, "C-1", .externalId, generation: cache.generation(sundsvall))
        #expect(cache.record(sundsvall, "C-1", .externalId)?.rawStatus == "KOMP")
        #expect(cache.record(TenantID("bergen")!, "C-1", .externalId) == nil)
        try await Task.sleep(for: .milliseconds(150))
        #expect(cache.record(sundsvall, "C-1", .externalId) == nil)
    }

    @Test("a change written by one process is seen by another's cached read within moments, not after the TTL")
    func acrossProcesses() async throws {
        try await TestBackend.withBackend { writer in
            let reader = try PostgresBackend(settings: writer.settings, logger: TestDatabase.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                let services: [any Service] = [reader.client, writer.backend.announcer, reader.listener]
                for service in services {
                    group.addTask { try await service.run() }
                }
                defer { group.cancelAll() }
                let deadline = Date().addingTimeInterval(10)
                while !reader.listener.state.isConnected && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
                try await reader.services.loader.resync()

                func event(_ code: String, _ at: String) throws -> EventSubmission {
                    try EventSubmission(
                        json: .object([
                            "messageId": .string(UUID().uuidString), "sourceSystem": .string("BYGGR"), "externalCaseId": .string("X-1"),
                            "caseType": .string("Bygglov"), "status": .string(code), "occurredAt": .string(at),
                        ]))
                }
                _ = try await writer.services.events.record(
                    try event("ANM", "2024-05-01T10:00:00Z"), snapshot: try writer.services.registry.serving(sundsvall), tenant: sundsvall,
                    correlationId: "t")
                #expect(try await reader.store.caseRecord(tenant: sundsvall, externalCaseId: "X-1")?.rawStatus == "ANM")
                // The write's own announcement may reach the reader just after that read and empty its
                // cache again; a read after it is cached for good.
                var cached = false
                let warming = ContinuousClock.now
                while !cached && ContinuousClock.now - warming < .seconds(1) {
                    _ = try await reader.store.caseRecord(tenant: sundsvall, externalCaseId: "X-1")
                    cached = reader.store.cache?.record(sundsvall, "X-1", .externalId) != nil
                    if !cached { try await Task.sleep(for: .milliseconds(5)) }
                }
                #expect(cached)  // now served from the cache
                _ = try await writer.services.events.record(
                    try event("KOMP", "2024-05-02T10:00:00Z"), snapshot: try writer.services.registry.serving(sundsvall), tenant: sundsvall,
                    correlationId: "t")
                let start = ContinuousClock.now
                var seen = ""
                while ContinuousClock.now - start < .seconds(1) {
                    seen = try await reader.store.caseRecord(tenant: sundsvall, externalCaseId: "X-1")?.rawStatus ?? ""
                    if seen == "KOMP" { break }
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(seen == "KOMP")
            }
        }
    }

    @Test("an organisation's list is cached, changes with the next write, and stays with its tenant")
    func organisationLists() async throws {
        try await TestBackend.withBackend { backend in
            let store = backend.store
            let organisation = "5560360793"
            func submit(_ id: String, _ code: String, _ at: String) async throws {
                let event = try EventSubmission(
                    json: .object([
                        "messageId": .string(UUID().uuidString), "sourceSystem": .string("BYGGR"), "externalCaseId": .string(id),
                        "caseType": .string("Bygglov"), "organisationNumber": .string("556036-0793"), "status": .string(code),
                        "occurredAt": .string(at),
                    ]))
                _ = try await backend.services.events.record(
                    event, snapshot: try backend.services.registry.serving(sundsvall), tenant: sundsvall, correlationId: "t")
            }
            try await submit("O-1", "ANM", "2024-05-01T10:00:00Z")
            #expect(try await store.cases(tenant: sundsvall, organisationNumber: organisation).map(\.externalCaseId) == ["O-1"])
            #expect(store.cache?.cases(sundsvall, organisationNumber: organisation)?.count == 1)  // served from the cache now

            // A new case and a changed one show on the very next read, newest change first.
            try await submit("O-2", "ANM", "2024-05-02T10:00:00Z")
            #expect(try await store.cases(tenant: sundsvall, organisationNumber: organisation).map(\.externalCaseId) == ["O-2", "O-1"])
            try await submit("O-1", "KOMP", "2024-05-03T10:00:00Z")
            let listed = try await store.cases(tenant: sundsvall, organisationNumber: organisation)
            #expect(listed.map(\.externalCaseId) == ["O-1", "O-2"] && listed.first?.rawStatus == "KOMP")

            // Another tenant asking for the same number gets its own (empty) answer, not sundsvall's.
            let bergen = TenantID("bergen")!
            #expect(try await store.cases(tenant: bergen, organisationNumber: organisation).isEmpty)
            #expect(store.cache?.cases(bergen, organisationNumber: organisation)?.isEmpty == true)
            #expect(store.cache?.cases(sundsvall, organisationNumber: organisation)?.count == 2)
        }
    }
}
