import Foundation
import PostgresNIO
import StatusCore
import StatusPostgres
import StatusRules
import StatusTestSupport
import Testing

@Suite("Erasure: the one narrow way to rewrite an event")
struct ErasureTests {
    /// A case of sundsvall with one event, through the real ingestion path.
    static func seed(_ settings: DatabaseSettings) async throws {
        try await TestBackend.withBackend(settings: settings) { app in
            let submission = try EventSubmission(
                json: .object([
                    "messageId": .string(UUID().uuidString), "sourceSystem": .string("BYGGR"), "externalCaseId": .string("ERASE-1"),
                    "caseType": .string("Test"), "status": .string("ANM"), "occurredAt": .string("2024-04-23T12:47:17+02:00"),
                    "organisationNumber": .string("5564900008"),
                ]))
            _ = try await app.services.events.record(
                submission, snapshot: try app.services.registry.serving(TenantID("sundsvall")!), tenant: TenantID("sundsvall")!,
                correlationId: "test")
        }
    }

    @Test("events stay immutable for the owner too unless an erasure of that case is running, and then only their payload")
    func owner() async throws {
        let settings = try await TestDatabase.fresh()
        try await Self.seed(settings)
        try await TestDatabase.asOwner(settings) { client in
            // A tombstone, but no erasure running: refused.
            await #expect(throws: PSQLError.self) {
                try await client.query(#"UPDATE case_events SET payload = '{"statusbro:erased":"x"}'"#)
            }
            try await client.withConnection { connection in
                // An erasure of another case running does not open this one; nor may anything but the payload change.
                try await connection.run("BEGIN")
                try await connection.run("SELECT set_config('statusbro.erasing', 'sundsvall:' || gen_random_uuid(), true)")
                await #expect(throws: PSQLError.self) {
                    try await connection.run(#"UPDATE case_events SET payload = '{"statusbro:erased":"x"}'"#)
                }
                try await connection.run("ROLLBACK")
                try await connection.run("BEGIN")
                try await connection.run(
                    "SELECT set_config('statusbro.erasing', 'sundsvall:' || (SELECT case_id FROM cases WHERE external_case_id = 'ERASE-1'), true)"
                )
                await #expect(throws: PSQLError.self) {
                    try await connection.run(#"UPDATE case_events SET payload = '{"statusbro:erased":"x"}', applied = false"#)
                }
                try await connection.run("ROLLBACK")
            }
        }
    }

    @Test("the service role can erase only through statusbro_erase_case, only in its own tenant, and always leaves an audit row")
    func service() async throws {
        let settings = try await TestDatabase.fresh()
        try await Self.seed(settings)
        let erased = try await TestDatabase.asService(settings) { client in
            try await client.withConnection { connection in
                try await connection.run("BEGIN")
                try await connection.run("SELECT set_config('statusbro.tenant', 'sundsvall', true)")
                await #expect(throws: PSQLError.self) { try await connection.run(#"UPDATE case_events SET payload = '{}'"#) }
                try await connection.run("ROLLBACK")
                try await connection.run("BEGIN")
                try await connection.run("SELECT set_config('statusbro.tenant', 'sundsvall', true)")
                await #expect(throws: PSQLError.self) { try await connection.run(#"UPDATE idempotency_keys SET request = '{}'"#) }
                try await connection.run("ROLLBACK")

                var caseId = UUID()
                var eventId = UUID()
                try await connection.run("BEGIN")
                try await connection.run("SELECT set_config('statusbro.tenant', 'sundsvall', true)")
                for try await (c, e) in try await connection.run("SELECT case_id, event_id FROM case_events").decode((UUID, UUID).self) {
                    (caseId, eventId) = (c, e)
                }
                try await connection.run("COMMIT")
                let erasure =
                    #"{"erasure_id":"\#(UUID())","case_id":"\#(caseId)","scope":"events","erased_by":"Z999999","source_system":"BYGGR","correlation_id":"t","rule_version":1,"kept_event_id":"\#(UUID())"}"#
                // Without a tenant, and from another tenant, the case is out of reach.
                // (The function's errors arrive with its rows, so they are read.)
                await #expect(throws: PSQLError.self) {
                    for try await _ in try await connection.run("SELECT statusbro_erase_case(\(erasure)::json, '{}'::json)") {}
                }
                try await connection.run("BEGIN")
                try await connection.run("SELECT set_config('statusbro.tenant', 'bergen', true)")
                await #expect(throws: PSQLError.self) {
                    for try await _ in try await connection.run("SELECT statusbro_erase_case(\(erasure)::json, '{}'::json)") {}
                }
                try await connection.run("ROLLBACK")

                try await connection.run("BEGIN")
                try await connection.run("SELECT set_config('statusbro.tenant', 'sundsvall', true)")
                var count = 0
                for try await n in try await connection.run("SELECT statusbro_erase_case(\(erasure)::json, '{}'::json)").decode(Int.self) {
                    count = n
                }
                var payloads: [String] = []
                for try await text in try await connection.run("SELECT payload::text FROM case_events WHERE event_id = \(eventId)").decode(
                    String.self)
                {
                    payloads.append(text)
                }
                var audits = 0
                for try await n in try await connection.run("SELECT count(*)::bigint FROM case_erasures").decode(Int.self) { audits = n }
                try await connection.run("COMMIT")
                return (count, payloads, audits)
            }
        }
        #expect(erased.0 == 1)
        #expect(erased.1.count == 1 && erased.1[0].contains("statusbro:erased"))
        #expect(erased.2 == 1)
        // The audit row stays as written, whoever asks.
        try await TestDatabase.asOwner(settings) { client in
            await #expect(throws: PSQLError.self) { try await client.query("UPDATE case_erasures SET reason = 'x'") }
            await #expect(throws: PSQLError.self) { try await client.query("DELETE FROM case_erasures") }
        }
    }
}
