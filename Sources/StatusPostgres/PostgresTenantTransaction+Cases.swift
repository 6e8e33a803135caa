import Foundation
import PostgresNIO
import StatusCore
import StatusRules

extension PostgresTenantTransaction {
    func storedResponse(scope: String, messageId: String) async throws -> StoredResponse? {
        let rows = try await run(
            "SELECT request, response FROM idempotency_keys WHERE tenant_id = \(t) AND scope = \(scope) AND message_id = \(messageId)")
        for try await (request, response) in rows.decode((JSONValue, JSONValue).self) {
            return StoredResponse(request: request, response: response)
        }
        return nil
    }

    func lockCase(externalCaseId: String) async throws -> CaseRecord? {
        try await cases(
            "SELECT \(unescaped: CaseColumns.list) FROM cases WHERE tenant_id = \(t) AND external_case_id = \(externalCaseId) FOR UPDATE"
        ).first
    }

    func lockCases(externalCaseIds: [String]) async throws -> [String: CaseRecord] {
        guard !externalCaseIds.isEmpty else { return [:] }
        // In the order statusbro_apply locks them: writers of the same cases cannot deadlock.
        let records = try await cases(
            """
            SELECT \(unescaped: CaseColumns.list) FROM cases
             WHERE tenant_id = \(t) AND external_case_id = ANY(\(externalCaseIds)::text[])
             ORDER BY external_case_id FOR UPDATE
            """)
        return Dictionary(records.map { ($0.externalCaseId, $0) }, uniquingKeysWith: { _, last in last })
    }

    func cases(party: String, sourceSystem: String) async throws -> [CaseRecord] {
        try await cases(
            """
            SELECT \(unescaped: CaseColumns.list) FROM cases
             WHERE tenant_id = \(t) AND party = \(party) AND source_system = \(sourceSystem)
             ORDER BY created_at, case_id
            """)
    }

    private func cases(_ query: PostgresQuery) async throws -> [CaseRecord] {
        var records: [CaseRecord] = []
        for try await row in try await run(query).decode(CaseColumns.Row.self) { records.append(CaseColumns.record(row)) }
        return records
    }

    func erase(_ erasure: CaseErasure, requestDigests: [String: String]) async throws -> Int {
        var members: [String: JSONValue] = [
            "erasure_id": .string(erasure.erasureId.uuidString), "case_id": .string(erasure.caseId.uuidString),
            "scope": .string(erasure.scope), "erased_by": .string(erasure.erasedBy), "source_system": .string(erasure.sourceSystem),
            "correlation_id": .string(erasure.correlationId), "rule_version": .number(Double(erasure.ruleVersion)),
            "kept_event_id": .string(erasure.keptEventId.uuidString),
        ]
        if let reason = erasure.reason { members["reason"] = .string(reason) }
        if let messageId = erasure.messageId { members["message_id"] = .string(messageId) }
        if let requestedAt = erasure.requestedAt { members["requested_at"] = .string(RFC3339.format(requestedAt)) }
        let object = JSONValue.object(members).canonicalString
        let digests = JSONValue.object(requestDigests.mapValues(JSONValue.string)).canonicalString
        casesChange(.tenant)
        return try await values("SELECT statusbro_erase_case(\(object)::json, \(digests)::json)", as: Int.self).first ?? 0
    }
}
