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

    func record(_ raw: String, id: String = "C-1", caseId: UUID = UUID(), flow: String? = nil, organisation: String? = nil) -> CaseRecord {
        CaseRecord(
            caseId: caseId, externalCaseId: id, flowInstanceId: flow, caseType: "", organisationNumber: organisation,
            sourceSystem: "BYGGR", rawStatus: raw, status: "", category: "", ruleVersion: 1, lastStatusChange: Date(), createdAt: Date(),
            withdrawnAt: nil)
    }

    @Test("a read that raced the loss of the notification connection does not cache, even for a tenant with nothing cached yet")
    func epochs() {
        let cache = CaseCache()
        let generation = cache.generation(sundsvall)  // no entry of sundsvall's exists yet
        cache.invalidateAll()
        cache.store(record("ANM"), sundsvall, "C-1", .externalId, generation: generation)
        #expect(cache.record(sundsvall, "C-1", .externalId) == nil)
    }

    @Test("ids are compared byte for byte, as PostgreSQL compares them, not as canonically equivalent text")
    func exactIds() {
        let cache = CaseCache()
        cache.store(record("ANM", id: "K-1"), sundsvall, "K-1", .externalId, generation: cache.generation(sundsvall))
        #expect("\u{212A}-1" == "K-1")  // the Kelvin sign: Swift's strings call them equal
        #expect(cache.record(sundsvall, "\u{212A}-1", .externalId) == nil)
        #expect(cache.record(sundsvall, "K-1", .externalId)?.externalCaseId == "K-1")
        let composed = "\u{E9}-2"
        let decomposed = "e\u{301}-2"
        cache.store(record("ANM", id: composed), sundsvall, composed, .flowOrExternalId, generation: cache.generation(sundsvall))
        #expect(cache.record(sundsvall, decomposed, .flowOrExternalId) == nil)
        var changes = CaseChanges()
        changes.insert(record("KOMP", id: decomposed))
        cache.invalidate(sundsvall, changes)  // another case: the composed one stays
        #expect(cache.record(sundsvall, composed, .flowOrExternalId) != nil)
    }

    @Test("entries live between nine tenths of the time to live and all of it, not all alike")
    func spreadExpiry() {
        let cache = CaseCache(timeToLive: .seconds(60))
        let lifetimes = (0..<1_000).map { _ in cache.expiry() }
        #expect(lifetimes.allSatisfy { $0 >= .seconds(54) && $0 <= .seconds(60) })
        #expect(Set(lifetimes).count > 900)
        #expect(lifetimes.contains { $0 < .seconds(55) } && lifetimes.contains { $0 > .seconds(59) })
    }

    @Test("a write forgets the entries that may show its case, old ids and old organisation included, and keeps the rest")
    func perCaseInvalidation() {
        let cache = CaseCache()
        let a = record("ANM", id: "A", flow: "F-A", organisation: "5560360793")
        let b = record("ANM", id: "B", organisation: "5560360793")
        let c = record("ANM", id: "C", organisation: "2120000142")
        let d = record("ANM", id: "F-A2")
        var generation = cache.generation(sundsvall)
        cache.store(a, sundsvall, "A", .externalId, generation: generation)
        cache.store(a, sundsvall, "F-A", .flowOrExternalId, generation: generation)
        cache.store(b, sundsvall, "B", .externalId, generation: generation)
        cache.store(c, sundsvall, "C", .externalId, generation: generation)
        cache.store(d, sundsvall, "F-A2", .flowOrExternalId, generation: generation)
        cache.store([a, b], sundsvall, organisationNumber: "5560360793", generation: generation)
        cache.store([c], sundsvall, organisationNumber: "2120000142", generation: generation)
        cache.store([], sundsvall, organisationNumber: "5565014484", generation: generation)
        cache.store(a, TenantID("bergen")!, "A", .externalId, generation: cache.generation(TenantID("bergen")!))

        // A gets a new flow id (which case F-A2 is also found by) and moves to an organisation that had no cases.
        var moved = a
        moved.flowInstanceId = "F-A2"
        moved.organisationNumber = "5565014484"
        var changes = CaseChanges()
        changes.insert(moved)
        generation = cache.generation(sundsvall)
        cache.invalidate(sundsvall, changes)

        #expect(cache.record(sundsvall, "A", .externalId) == nil)
        #expect(cache.record(sundsvall, "F-A", .flowOrExternalId) == nil)  // its old flow id, found through the case
        #expect(cache.record(sundsvall, "F-A2", .flowOrExternalId) == nil)  // now answered by A, not D
        #expect(cache.cases(sundsvall, organisationNumber: "5560360793") == nil)  // the list it left
        #expect(cache.cases(sundsvall, organisationNumber: "5565014484") == nil)  // the list it joined
        #expect(cache.record(sundsvall, "B", .externalId)?.externalCaseId == "B")
        #expect(cache.record(sundsvall, "C", .externalId)?.externalCaseId == "C")
        #expect(cache.cases(sundsvall, organisationNumber: "2120000142")?.count == 1)
        #expect(cache.record(TenantID("bergen")!, "A", .externalId) != nil)  // another tenant's case of the same id

        // A read of the tenant that was in flight during the write does not cache what it read.
        cache.store(b, sundsvall, "B2", .externalId, generation: generation)
        #expect(cache.record(sundsvall, "B2", .externalId) == nil)
    }

    @Test("announcements name the changed cases, fall back to the whole tenant when large, and refuse what they cannot read")
    func announcements() {
        var changes = CaseChanges()
        changes.insert(record("ANM", id: "A", flow: "F-A", organisation: "5560360793"))
        let change = CaseInvalidation.cases(changes)
        let origin = UUID()
        let announced = CaseInvalidation.parse(change.payload(sundsvall, origin: origin))
        #expect(announced?.0 == sundsvall && announced?.1 == change && announced?.origin == origin)
        #expect(CaseInvalidation.parse(CaseInvalidation.tenant.payload(sundsvall, origin: origin))?.1 == .tenant)
        #expect(CaseInvalidation.parse("sundsvall")?.1 == .tenant)  // as earlier versions announce

        var many = CaseChanges()
        for index in 0...CaseInvalidation.largestAnnounced { many.insert(record("ANM", id: "K-\(index)")) }
        #expect(CaseInvalidation.cases(many).payload(sundsvall, origin: origin) == "sundsvall")
        #expect(change.merged(with: .cases(many)).isLarge && change.merged(with: .tenant) == .tenant)
        var long = CaseChanges()
        for index in 0..<CaseInvalidation.largestAnnounced {
            long.insert(record("ANM", id: String(repeating: "x", count: 195) + "\(index)"))
        }
        #expect(CaseInvalidation.cases(long).payload(sundsvall, origin: origin) == "sundsvall")  // would not fit in a NOTIFY

        #expect(CaseInvalidation.parse("{\"tenant\":\"sundsvall\"}") == nil)
        #expect(CaseInvalidation.parse(#"{"version":1,"tenant":"sundsvall"}"#)?.1 == .tenant)  // version 1, but not all of it
        // A later version's announcement: understood as the whole tenant.
        let later = #"{"version":2,"tenant":"sundsvall","cases":[],"ids":[],"organisations":[],"more":[]}"#
        #expect(CaseInvalidation.parse(later)?.0 == sundsvall && CaseInvalidation.parse(later)?.1 == .tenant)
        #expect(CaseInvalidation.parse("not a tenant") == nil)
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

    /// Runs `body` with a writing process and a reading one (its own pool, cache and listener) on one database.
    func withTwoProcesses(_ body: @Sendable (_ writer: TestBackend, _ reader: PostgresBackend) async throws -> Void) async throws {
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
                try await body(writer, reader)
            }
        }
    }

    func event(_ id: String, _ code: String, _ at: String, _ more: [String: JSONValue] = [:]) throws -> EventSubmission {
        try EventSubmission(
            json: .object(
                [
                    "messageId": .string(UUID().uuidString), "sourceSystem": .string("BYGGR"), "externalCaseId": .string(id),
                    "caseType": .string("Bygglov"), "status": .string(code), "occurredAt": .string(at),
                ].merging(more) { $1 }))
    }

    func submit(_ event: EventSubmission, to writer: TestBackend) async throws {
        _ = try await writer.services.events.record(
            event, snapshot: try writer.services.registry.serving(sundsvall), tenant: sundsvall, correlationId: "t")
    }

    /// Reads until the read is served from `reader`'s cache (a write's own announcement may reach
    /// the reader just after its first read and empty its cache again); whether it came to be, within a second.
    func readUntilCached(_ reader: PostgresBackend, _ read: () async throws -> Void, cached: () -> Bool) async throws -> Bool {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(1) {
            try await read()
            if cached() { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    @Test("a change written by one process is seen by another's cached read within moments, not after the TTL")
    func acrossProcesses() async throws {
        try await withTwoProcesses { writer, reader in
            try await submit(try event("X-1", "ANM", "2024-05-01T10:00:00Z"), to: writer)
            #expect(try await reader.store.caseRecord(tenant: sundsvall, externalCaseId: "X-1")?.rawStatus == "ANM")
            let cached = try await readUntilCached(reader) {
                _ = try await reader.store.caseRecord(tenant: sundsvall, externalCaseId: "X-1")
            } cached: {
                reader.store.cache?.record(sundsvall, "X-1", .externalId) != nil
            }
            #expect(cached)  // now served from the cache
            try await submit(try event("X-1", "KOMP", "2024-05-02T10:00:00Z"), to: writer)
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

    @Test("another process forgets only what a write changed: the case by its old flow id and old organisation, not its neighbours")
    func acrossProcessesPerCase() async throws {
        try await withTwoProcesses { writer, reader in
            let (first, second) = ("5560360793", "2120000142")
            try await submit(
                try event("P-1", "ANM", "2024-05-01T10:00:00Z", ["flowInstanceId": .string("F-1"), "organisationNumber": .string(first)]),
                to: writer
            )
            try await submit(try event("P-2", "ANM", "2024-05-01T11:00:00Z", ["organisationNumber": .string(first)]), to: writer)
            let store = reader.store
            func warm() async throws -> Bool {
                try await readUntilCached(reader) {
                    _ = try await store.caseRecord(tenant: sundsvall, flowInstanceOrExternalId: "F-1")
                    _ = try await store.caseRecord(tenant: sundsvall, externalCaseId: "P-2")
                    _ = try await store.cases(tenant: sundsvall, organisationNumber: first)
                } cached: {
                    store.cache?.record(sundsvall, "F-1", .flowOrExternalId) != nil
                        && store.cache?.record(sundsvall, "P-2", .externalId) != nil
                        && store.cache?.cases(sundsvall, organisationNumber: first)?.count == 2
                }
            }
            #expect(try await warm())
            // Once more after the two writes' announcements have surely arrived, so none of them empties what follows.
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await warm())

            // P-1 gets a new flow id and moves to another organisation.
            try await submit(
                try event(
                    "P-1", "KOMP", "2024-05-02T10:00:00Z", ["flowInstanceId": .string("F-2"), "organisationNumber": .string(second)]),
                to: writer)
            let start = ContinuousClock.now
            while store.cache?.cases(sundsvall, organisationNumber: first) != nil && ContinuousClock.now - start < .seconds(1) {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(store.cache?.cases(sundsvall, organisationNumber: first) == nil)  // the list it left
            #expect(store.cache?.record(sundsvall, "F-1", .flowOrExternalId) == nil)  // its old flow id
            #expect(store.cache?.record(sundsvall, "P-2", .externalId)?.rawStatus == "ANM")  // its neighbour, still cached
            #expect(try await store.caseRecord(tenant: sundsvall, flowInstanceOrExternalId: "F-1") == nil)
            #expect(try await store.caseRecord(tenant: sundsvall, flowInstanceOrExternalId: "F-2")?.rawStatus == "KOMP")
            #expect(try await store.cases(tenant: sundsvall, organisationNumber: first).map(\.externalCaseId) == ["P-2"])
            #expect(try await store.cases(tenant: sundsvall, organisationNumber: second).map(\.externalCaseId) == ["P-1"])
        }
    }

    @Test("a process's own announcement, coming back to it, does not make it forget again")
    func ownAnnouncements() async throws {
        try await TestBackend.withBackend { writer in
            try await withThrowingTaskGroup(of: Void.self) { group in
                let services: [any Service] = [writer.backend.announcer, writer.backend.listener]
                for service in services {
                    group.addTask { try await service.run() }
                }
                defer { group.cancelAll() }
                let deadline = Date().addingTimeInterval(10)
                while !writer.backend.listener.state.isConnected && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
                try await Task.sleep(for: .milliseconds(100))  // the listener's first invalidateAll is behind us
                let cache = try #require(writer.store.cache)
                try await submit(try event("E-1", "ANM", "2024-05-01T10:00:00Z"), to: writer)
                let afterCommit = cache.generation(sundsvall)
                // Another process's announcement of the same kind is heard (the listener works)...
                var changes = CaseChanges()
                changes.insert(record("ANM", id: "E-2"))
                _ = try await writer.backend.client.rows(
                    "SELECT pg_notify('statusbro_cases', \(CaseInvalidation.cases(changes).payload(sundsvall, origin: UUID())))",
                    logger: TestDatabase.logger)
                let start = ContinuousClock.now
                while cache.generation(sundsvall) == afterCommit && ContinuousClock.now - start < .seconds(2) {
                    try await Task.sleep(for: .milliseconds(5))
                }
                try await Task.sleep(for: .milliseconds(300))  // anything else on its way arrives too
                // ...and it bumped the generation once: the write's own announcement, sent before it, did not.
                #expect(cache.generation(sundsvall).tenant == afterCommit.tenant + 1)
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
