import Foundation
import PostgresNIO
import StatusCore
import StatusTestSupport
import Testing

@testable import StatusPostgres

@Suite("Limits: bounded admission and statement timeouts")
struct LimitsTests {
    @Test("beyond the admission limit a database operation is refused at once (503), not queued")
    func admission() async throws {
        var settings = try await TestDatabase.fresh()
        settings.maximumConnections = 2
        settings.maximumPendingOperations = 2
        let backend = try PostgresBackend(settings: settings, logger: TestDatabase.logger)
        try await withPostgresClientRunning(backend.client) {
            let tenant = TenantID("sundsvall")!
            let store = backend.store
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await store.withTransaction(tenant: tenant) { _ in try await Task.sleep(for: .milliseconds(600)) }
                    }
                }
                try await Task.sleep(for: .milliseconds(150))
                #expect(store.gate.current == 2)
                await #expect(throws: StoreError.unavailable("the service is at capacity; retry shortly")) {
                    _ = try await store.caseRecord(tenant: tenant, externalCaseId: "X")
                }
                try await group.waitForAll()
            }
            #expect(store.gate.current == 0)
            #expect(try await store.caseRecord(tenant: tenant, externalCaseId: "X") == nil)
        }
    }

    @Test("a statement that runs longer than the timeout is cancelled and reported as unavailable")
    func statementTimeout() async throws {
        var settings = try await TestDatabase.fresh()
        // A second: the transaction's own statements (BEGIN, the tenant) must come within twice that
        // (the idle-in-transaction limit) even on a machine busy with other work.
        settings.statementTimeout = .seconds(1)
        let backend = try PostgresBackend(settings: settings, logger: TestDatabase.logger)
        try await withPostgresClientRunning(backend.client) {
            await #expect(throws: StoreError.unavailable("the database took too long; try again")) {
                try await backend.store.withTenantConnection(TenantID("sundsvall")!) { connection in
                    // Had it run to its end, nothing would be thrown.
                    for try await _ in try await connection.run("SELECT pg_sleep(30)") {}
                }
            }
        }
    }

    @Test("a transaction whose connection the server closed meanwhile fails at once instead of waiting forever")
    func closedUnderneath() async throws {
        let settings = try await TestDatabase.fresh()
        let backend = try PostgresBackend(settings: settings, logger: TestDatabase.logger)
        try await withPostgresClientRunning(backend.client) {
            // The server ends the idle transaction while the body dawdles; the next statement and
            // the ROLLBACK go to a closed connection (PostgresNIO alone would wait forever).
            await #expect(throws: StoreError.unavailable("the database cannot be reached")) {
                try await backend.store.withTenantConnection(TenantID("sundsvall")!) { connection in
                    try await connection.run("SET LOCAL idle_in_transaction_session_timeout = 100")
                    try await Task.sleep(for: .milliseconds(800))
                    try await connection.perform("SELECT 1", logger: TestDatabase.logger)
                }
            }
            // The pool replaces the connection; the next transaction works.
            let record = try await backend.store.caseRecord(tenant: TenantID("sundsvall")!, externalCaseId: "X")
            #expect(record == nil)
        }
    }

    @Test("a statement the server leaves unanswered is given up, and its connection closed, instead of waiting forever")
    func unanswered() async throws {
        var settings = try await TestDatabase.fresh()
        settings.statementTimeout = .seconds(1)
        let limit = settings.unansweredStatementLimit
        let backend = try PostgresBackend(settings: settings, logger: TestDatabase.logger)
        try await withPostgresClientRunning(backend.client) {
            let tenant = TenantID("sundsvall")!
            let started = ContinuousClock.now
            await #expect(throws: StoreError.unavailable("the database cannot be reached")) {
                try await backend.store.withTenantConnection(tenant) { connection in
                    // The server's own timeout off: it answers after eight seconds, as a vanished host never would.
                    try await connection.run("SET LOCAL statement_timeout = 0")
                    try await connection.perform("SELECT pg_sleep(8)", logger: TestDatabase.logger)
                }
            }
            let waited = ContinuousClock.now - started
            #expect(waited >= limit && waited < .seconds(6))
            // The pool replaces the closed connection. Until it has noticed the close (at once on a
            // quiet machine, later on a busy one) a lease may still get the closing connection and
            // answer 503 at once; within a second a read works.
            var answered = false
            for _ in 0..<20 where !answered {
                do {
                    #expect(try await backend.store.caseRecord(tenant: tenant, externalCaseId: "X") == nil)
                    answered = true
                } catch StoreError.unavailable {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(answered)
        }
    }
}
