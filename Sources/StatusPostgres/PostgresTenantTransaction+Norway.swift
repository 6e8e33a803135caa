import Foundation
import PostgresNIO
import StatusCore
import StatusRules

extension PostgresTenantTransaction {
    func dibkCase(reference: String) async throws -> String? {
        try await values(
            "SELECT external_case_id FROM dibk_references WHERE tenant_id = \(t) AND innsending_referanse = \(reference)", as: String.self
        ).first
    }

    func dibkCase(saksaar: String, sakssekvensnummer: String) async throws -> String? {
        try await values(
            """
            SELECT external_case_id FROM dibk_case_numbers
             WHERE tenant_id = \(t) AND saksaar = \(saksaar) AND sakssekvensnummer = \(sakssekvensnummer)
             ORDER BY updated_at DESC LIMIT 1
            """, as: String.self
        ).first
    }

    func linkDIBK(references: [String], to externalCaseId: String) async throws {
        try await run(
            """
            INSERT INTO dibk_references (tenant_id, innsending_referanse, external_case_id)
            SELECT \(t), reference, \(externalCaseId) FROM unnest(\(references)::text[]) WITH ORDINALITY AS r(reference, n)
             ORDER BY n
            ON CONFLICT DO NOTHING
            """)
    }

    func setDIBKCaseNumber(externalCaseId: String, _ number: Saksnummer) async throws {
        try await run(
            """
            INSERT INTO dibk_case_numbers (tenant_id, external_case_id, saksaar, sakssekvensnummer)
            VALUES (\(t), \(externalCaseId), \(number.saksaar), \(number.sakssekvensnummer))
            ON CONFLICT (tenant_id, external_case_id) DO UPDATE
               SET saksaar = EXCLUDED.saksaar, sakssekvensnummer = EXCLUDED.sakssekvensnummer, updated_at = now()
            """)
    }

    func appendDIBKUpdate(externalCaseId: String, oppdateringId: UUID, oppdatertDato: Date, payload: JSONValue) async throws {
        try await run(
            """
            INSERT INTO dibk_updates (tenant_id, oppdatering_id, external_case_id, oppdatert_dato, payload)
            VALUES (\(t), \(oppdateringId), \(externalCaseId), \(oppdatertDato), \(payload))
            """)
    }

    func dibkReferences(externalCaseId: String) async throws -> [String] {
        try await values(
            """
            SELECT innsending_referanse FROM dibk_references WHERE tenant_id = \(t) AND external_case_id = \(externalCaseId)
             ORDER BY linked_at, innsending_referanse
            """, as: String.self)
    }

    func dibkUpdates(externalCaseId: String) async throws -> [JSONValue] {
        try await values(
            """
            SELECT payload FROM dibk_updates WHERE tenant_id = \(t) AND external_case_id = \(externalCaseId)
             ORDER BY oppdatert_dato, received_at
            """, as: JSONValue.self)
    }
}
