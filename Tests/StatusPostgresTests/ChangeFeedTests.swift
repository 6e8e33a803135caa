import Foundation
import PostgresNIO
import StatusCore
import StatusPostgres
import StatusRules
import StatusTestSupport
import Testing

@Suite("The change feed")
struct ChangeFeedTests {
    let sundsvall = TenantID("sundsvall")!

    static func event(_ externalCaseId: String, _ code: String, at occurredAt: String = "2024-04-23T12:47:17+02:00") throws
        -> EventSubmission
    {
        try EventSubmission(
            json: .object([
                "messageId": .string(UUID().uuidString), "sourceSystem": .string("BYGGR"), "externalCaseId": .string(externalCaseId),
                "caseType": .string("Bygglov"), "status": .string(code), "occurredAt": .string(occurredAt),
            ]))
    }

    actor Flag {
        var isSet = false
        func set() { isSet = true }
    }

    /// Follows the feed, always passing back the offset it was given, until `stop` is set.
    static func follow(_ app: TestBackend, tenant: TenantID, until stop: Flag) async throws -> ([FeedEntry], FeedOffset) {
        var seen: [FeedEntry] = []
        var offset = FeedOffset.start
        while await !stop.isSet {
            let page = try await app.services.feed.page(tenant: tenant, after: offset, limit: 7)
            seen += page.changes
            offset = page.next
            if page.changes.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
        }
        return (seen, offset)
    }

    @Test("four concurrent writers and a reader following offsets: every acknowledged change seen exactly once, in order")
    func concurrentWriters() async throws {
        try await TestBackend.withBackend { app in
            let writers = 4
            let perWriter = 60
            let stop = Flag()
            async let reading = Self.follow(app, tenant: sundsvall, until: stop)
            var written: [String] = []
            try await withThrowingTaskGroup(of: [String].self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        var ids: [String] = []
                        for n in 0..<perWriter {
                            let id = "W\(writer)-\(n)"
                            _ = try await app.services.events.record(
                                try Self.event(id, "ANM"), snapshot: try app.services.registry.serving(sundsvall), tenant: sundsvall,
                                correlationId: "feed-test")
                            ids.append(id)
                        }
                        return ids
                    }
                }
                for try await ids in group { written += ids }
            }
            await stop.set()
            var (seen, offset) = try await reading
            // Drain what is left after the writers finished.
            while true {
                let page = try await app.services.feed.page(tenant: sundsvall, after: offset, limit: 50)
                if page.changes.isEmpty { break }
                seen += page.changes
                offset = page.next
            }
            #expect(written.count == writers * perWriter)
            #expect(seen.count == written.count, "every change exactly once")
            #expect(Set(seen.map(\.externalCaseId)) == Set(written))
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.position < $1.position })
        }
    }

    @Test("single and batch writers on shared cases, and a reader: every applied change seen exactly once, in position order")
    func singleAndBatchWriters() async throws {
        try await TestBackend.withBackend { app in
            let stop = Flag()
            async let reading = Self.follow(app, tenant: sundsvall, until: stop)
            let snapshot = try app.services.registry.serving(sundsvall)
            // Each writer's own clock runs forward, so most of its events are applied; events of
            // another writer that arrive later with an older time are kept but not applied.
            func at(_ writer: Int, _ n: Int) -> String {
                "2024-05-01T\(String(format: "%02d", n / 60 % 24)):\(String(format: "%02d", n % 60)):\(String(format: "%02d", writer))Z"
            }
            let applied = try await withThrowingTaskGroup(of: Int.self) { group in
                for writer in 0..<2 {
                    group.addTask {
                        var applied = 0
                        for n in 0..<80 {
                            let submitted = try await app.services.events.record(
                                try Self.event("S\(n % 15)", "ANM", at: at(writer, n)), snapshot: snapshot, tenant: sundsvall,
                                correlationId: "single")
                            if submitted.answer.applied { applied += 1 }
                        }
                        return applied
                    }
                }
                for writer in 2..<4 {
                    group.addTask {
                        var applied = 0
                        for round in 0..<4 {
                            let items = try (0..<20).map { k -> BatchItem<EventMessage> in
                                let n = round * 20 + k
                                return .message(EventMessage(try Self.event("S\(n % 15)", "ANM", at: at(writer, n))))
                            }
                            for result in try await app.services.events.recordBatch(
                                items, snapshot: snapshot, tenant: sundsvall, correlationId: "batch", chunkSize: 7)
                            {
                                if case .accepted(let submitted) = result, submitted.answer.applied { applied += 1 }
                            }
                        }
                        return applied
                    }
                }
                var total = 0
                for try await count in group { total += count }
                return total
            }
            await stop.set()
            var (seen, offset) = try await reading
            while true {
                let page = try await app.services.feed.page(tenant: sundsvall, after: offset, limit: 50)
                if page.changes.isEmpty { break }
                seen += page.changes
                offset = page.next
            }
            #expect(applied > 0)
            #expect(seen.count == applied, "every applied change exactly once")
            #expect(Set(seen.map(\.position)).count == seen.count)
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.position < $1.position })
            let history = try await app.store.withTransaction(tenant: sundsvall) { tx in
                try await tx.events(externalCaseId: nil, from: nil, to: nil, limit: 10_000)
            }
            #expect(history.count == 320 && history.filter(\.event.applied).count == applied)
        }
    }

    @Test("a slower writer holding a lower position is not skipped: the reader waits for it")
    func slowWriterNotSkipped() async throws {
        try await TestBackend.withBackend { app in
            try await TestDatabase.asService(app.settings) { client in
                try await client.withConnection { slow in
                    // The slow writer takes its position first and commits last.
                    try await slow.run("BEGIN")
                    try await slow.run("SELECT set_config('statusbro.tenant', 'sundsvall', true)")
                    try await slow.run(
                        """
                        INSERT INTO feed_entries (tenant_id, case_id, external_case_id, status, category, reason, rule_version)
                        VALUES ('sundsvall', gen_random_uuid(), 'SLOW', 'Inskickat', 'Mottagningskvittens', 'event', 1)
                        """)
                    _ = try await app.services.events.record(
                        try Self.event("FAST", "ANM"), snapshot: try app.services.registry.serving(sundsvall), tenant: sundsvall,
                        correlationId: "t")
                    let reader = Task { try await app.services.feed.page(tenant: sundsvall, after: .start, limit: 10) }
                    try await Task.sleep(for: .milliseconds(300))
                    try await slow.run("COMMIT")
                    let page = try await reader.value
                    #expect(page.changes.map(\.externalCaseId) == ["SLOW", "FAST"])
                }
            }
        }
    }

    @Test("offsets: opaque tokens round-trip, malformed ones are refused")
    func offsets() {
        let offset = FeedOffset(position: 12345)
        #expect(FeedOffset(token: offset.token) == offset)
        #expect(FeedOffset(token: "12345") == nil)
        #expect(FeedOffset(token: "ZjEuLTE") == nil)  // f1.-1
        #expect(FeedOffset(token: "' OR 1=1 --") == nil)
    }

    @Test("entries older than the tenant's retention window are not served; an old offset continues from the window's start")
    func retention() async throws {
        try await TestBackend.withBackend { app in
            _ = try await app.services.events.record(
                try Self.event("OLD", "ANM"), snapshot: try app.services.registry.serving(sundsvall), tenant: sundsvall, correlationId: "t")
            _ = try await app.services.events.record(
                try Self.event("NEW", "ANM"), snapshot: try app.services.registry.serving(sundsvall), tenant: sundsvall, correlationId: "t")
            // Age the first entry beyond the 90-day window (the owner may; the service may not).
            try await TestDatabase.asOwner(app.settings) { client in
                try await client.query("ALTER TABLE feed_entries DISABLE TRIGGER feed_entries_immutable")
                try await client.query("UPDATE feed_entries SET changed_at = now() - interval '91 days' WHERE external_case_id = 'OLD'")
                try await client.query("ALTER TABLE feed_entries ENABLE TRIGGER feed_entries_immutable")
            }
            let page = try await app.services.feed.page(tenant: sundsvall, after: .start, limit: 10)
            #expect(page.changes.map(\.externalCaseId) == ["NEW"])
            // A client that last read before the old entry passes back an offset now older than the
            // window: it goes on from the window's start, the aged entry not served, nothing refused.
            let oldPosition = try await TestDatabase.asOwner(app.settings) { client in
                var position: Int64 = 0
                for try await found in try await client.query("SELECT position FROM feed_entries WHERE external_case_id = 'OLD'")
                    .decode(Int64.self)
                { position = found }
                return position
            }
            #expect(oldPosition > 0)
            let resumed = try await app.services.feed.page(tenant: sundsvall, after: FeedOffset(position: oldPosition - 1), limit: 10)
            #expect(resumed.changes.map(\.externalCaseId) == ["NEW"])
            #expect(resumed.next == page.next)
        }
    }

    @Test("a publish that changes what existing cases show adds one 'rules' entry per affected case, in the same commit")
    func rulesEntries() async throws {
        try await TestBackend.withBackend { app in
            for n in 0..<3 {
                _ = try await app.services.events.record(
                    try Self.event("R\(n)", "KOMPTEK"), snapshot: try app.services.registry.serving(sundsvall), tenant: sundsvall,
                    correlationId: "t")
            }
            _ = try await app.services.events.record(
                try Self.event("U", "UAB"), snapshot: try app.services.registry.serving(sundsvall), tenant: sundsvall, correlationId: "t")
            let before = try await app.services.feed.page(tenant: sundsvall, after: .start, limit: 100)
            var document = try TestDatabase.document("sundsvall")
            document.sources["BYGGR"]!.codes["KOMPTEK"] = "Under behandling"
            let report = try await app.services.rules.validate(tenant: sundsvall, document: document.jsonValue())
            #expect(report.impact.casesChangingStatus == 3)
            #expect(report.impact.byCode.map(\.code) == ["KOMPTEK"])
            _ = try await app.services.rules.publish(
                tenant: sundsvall, document: document.jsonValue(), baseVersion: 1, comment: "", by: "t")
            let after = try await app.services.feed.page(tenant: sundsvall, after: before.next, limit: 100)
            #expect(after.changes.map(\.reason) == [.rules, .rules, .rules])
            #expect(Set(after.changes.map(\.externalCaseId)) == ["R0", "R1", "R2"])
            #expect(after.changes.allSatisfy { $0.status == "Under behandling" && $0.category == "Upplysning" })
        }
    }
}
