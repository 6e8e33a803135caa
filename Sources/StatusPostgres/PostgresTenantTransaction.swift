import Crypto
import Foundation
import Logging
import Metrics
import PostgresNIO
import StatusCore
import StatusRules
import Synchronization

/// A transaction bound to one tenant (`statusbro.tenant` is set for its duration).
struct PostgresTenantTransaction: TenantTransaction {
    let connection: PostgresConnection
    let tenant: TenantID
    let logger: Logger
    var effects = TransactionEffects()

    private func casesChange() { effects.casesChanged.store(true, ordering: .relaxed) }

    private var t: String { tenant.rawValue }

    @discardableResult
    private func run(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await connection.perform(query, tenant: tenant, logger: logger)
    }

    // MARK: Idempotency

    func storedResponse(scope: String, messageId: String) async throws -> StoredResponse? {
        let rows = try await run(
            "SELECT request, response FROM idempotency_keys WHERE tenant_id = \(t) AND scope = \(scope) AND message_id = \(messageId)")
        for try await (request, response) in rows.decode((JSONValue, JSONValue).self) {
            return StoredResponse(request: request, response: response)
        }
        return nil
    }

    // MARK: Cases and events

    func lockCase(externalCaseId: String) async throws -> CaseRecord? {
        let rows = try await run(
            "SELECT \(unescaped: CaseColumns.list) FROM cases WHERE tenant_id = \(t) AND external_case_id = \(externalCaseId) FOR UPDATE")
        for try await row in rows.decode(CaseColumns.Row.self) { return CaseColumns.record(row) }
        return nil
    }

    func lockCases(externalCaseIds: [String]) async throws -> [String: CaseRecord] {
        guard !externalCaseIds.isEmpty else { return [:] }
        // In the order statusbro_apply locks them: writers of the same cases cannot deadlock.
        let rows = try await run(
            """
            SELECT \(unescaped: CaseColumns.list) FROM cases
             WHERE tenant_id = \(t) AND external_case_id = ANY(\(externalCaseIds)::text[])
             ORDER BY external_case_id FOR UPDATE
            """)
        var records: [String: CaseRecord] = [:]
        for try await row in rows.decode(CaseColumns.Row.self) {
            let record = CaseColumns.record(row)
            records[record.externalCaseId] = record
        }
        return records
    }

    func write(_ writes: [LedgerWrite]) async throws -> LedgerWriteReport {
        guard !writes.isEmpty else { return LedgerWriteReport() }
        let rows: PostgresRowSequence
        if writes.count >= Self.stagingThreshold {
            // Many rows: COPY into a staging table is several times cheaper for PostgreSQL to read
            // than the same rows as one JSON parameter (bench/NOTES.md).
            try await stage(writes)
            rows = try await run(
                """
                SELECT * FROM statusbro_apply(\(t), ARRAY(SELECT ROW(s.*)::statusbro_change FROM pg_temp.statusbro_staged AS s ORDER BY s.ordinal))
                """)
        } else {
            rows = try await run("SELECT * FROM statusbro_apply_changes(\(t), \(LedgerWrites.json(writes))::json)")
        }
        var collected: [PostgresRow] = []
        for try await row in rows { collected.append(row) }
        let report = try LedgerWrites.report(collected)
        if report.written { noteWritten(writes) }
        return report
    }

    /// The statement `copyFrom` sends, as its span names it.
    static let copySQL = "COPY statusbro_staged (\(LedgerWrites.columns.joined(separator: ", "))) FROM STDIN"

    /// From this many writes on, they are sent with COPY.
    static let stagingThreshold = 32

    /// Copies the writes into this transaction's staging table (dropped at its end).
    private func stage(_ writes: [LedgerWrite]) async throws {
        if effects.staged.exchange(true, ordering: .relaxed) {
            try await run("TRUNCATE pg_temp.statusbro_staged")
        } else {
            try await run("CREATE TEMP TABLE statusbro_staged OF statusbro_change ON COMMIT DROP")
        }
        let text = LedgerWrites.copyText(writes)
        let (connection, logger) = (connection, logger)
        try await StatementSpan.run(Self.copySQL, tenant: tenant) {
            // Like every statement here, given up when the connection closes under it (`untilClosed`).
            try await connection.untilClosed {
                try await connection.copyFrom(table: "statusbro_staged", columns: LedgerWrites.columns, logger: logger) { writer in
                    try await writer.write(text)
                }
            }
        }
    }

    /// Counts what was written, and marks the cases changed for the caches once the transaction commits.
    private func noteWritten(_ writes: [LedgerWrite]) {
        if LedgerWrites.changesCases(writes) { casesChange() }
        LedgerWrites.countFeedEntries(writes)
    }

    static let eventColumns =
        "e.event_id, e.case_id, e.message_id, e.change_type, e.source_system, e.raw_status, e.status, e.category, e.rule_version, e.applied, e.occurred_at, e.recorded_at, e.correlation_id, e.payload"

    typealias EventRow = (UUID, UUID, String?, String, String, String, String, String, Int, Bool, Date, Date, String, JSONValue)

    static func event(_ r: EventRow) -> CaseEvent {
        CaseEvent(
            eventId: r.0, caseId: r.1, messageId: r.2, changeType: ChangeType(rawValue: r.3) ?? .update, sourceSystem: r.4,
            rawStatus: r.5, status: r.6, category: r.7, ruleVersion: r.8, applied: r.9, occurredAt: r.10, recordedAt: r.11,
            correlationId: r.12, payload: r.13)
    }

    func events(caseId: UUID) async throws -> [CaseEvent] {
        let rows = try await run(
            """
            SELECT \(unescaped: Self.eventColumns) FROM case_events e
             WHERE e.tenant_id = \(t) AND e.case_id = \(caseId) ORDER BY e.recorded_at, e.event_id
            """)
        var events: [CaseEvent] = []
        for try await row in rows.decode(EventRow.self) { events.append(Self.event(row)) }
        return events
    }

    func events(externalCaseId: String?, from: Date?, to: Date?, limit: Int) async throws -> [(externalCaseId: String, event: CaseEvent)] {
        let rows = try await run(
            """
            SELECT c.external_case_id, \(unescaped: Self.eventColumns)
              FROM case_events e JOIN cases c ON c.tenant_id = e.tenant_id AND c.case_id = e.case_id
             WHERE e.tenant_id = \(t)
               AND (\(externalCaseId)::text IS NULL OR c.external_case_id = \(externalCaseId))
               AND (\(from)::timestamptz IS NULL OR e.recorded_at >= \(from))
               AND (\(to)::timestamptz IS NULL OR e.recorded_at < \(to))
             ORDER BY e.recorded_at, e.event_id
             LIMIT \(limit)
            """)
        var result: [(String, CaseEvent)] = []
        for try await row in rows.decode(
            (String, UUID, UUID, String?, String, String, String, String, String, Int, Bool, Date, Date, String, JSONValue).self)
        {
            result.append(
                (row.0, Self.event((row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10, row.11, row.12, row.13, row.14)))
            )
        }
        return result
    }

    func cases(organisationNumber: String) async throws -> [CaseRecord] {
        let rows = try await run(
            """
            SELECT \(unescaped: CaseColumns.list) FROM cases
             WHERE tenant_id = \(t) AND organisation_number = \(organisationNumber) AND withdrawn_at IS NULL
             ORDER BY last_status_change DESC, external_case_id
            """)
        var records: [CaseRecord] = []
        for try await row in rows.decode(CaseColumns.Row.self) { records.append(CaseColumns.record(row)) }
        return records
    }

    func cases(party: String, sourceSystem: String) async throws -> [CaseRecord] {
        let rows = try await run(
            """
            SELECT \(unescaped: CaseColumns.list) FROM cases
             WHERE tenant_id = \(t) AND party = \(party) AND source_system = \(sourceSystem)
             ORDER BY created_at, case_id
            """)
        var records: [CaseRecord] = []
        for try await row in rows.decode(CaseColumns.Row.self) { records.append(CaseColumns.record(row)) }
        return records
    }

    func events(caseIds: [UUID]) async throws -> [CaseEvent] {
        guard !caseIds.isEmpty else { return [] }
        let rows = try await run(
            """
            SELECT \(unescaped: Self.eventColumns) FROM case_events e
             WHERE e.tenant_id = \(t) AND e.case_id = ANY(\(caseIds)::uuid[]) ORDER BY e.recorded_at, e.event_id
            """)
        var events: [CaseEvent] = []
        for try await row in rows.decode(EventRow.self) { events.append(Self.event(row)) }
        return events
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
        casesChange()
        let rows = try await run("SELECT statusbro_erase_case(\(object)::json, \(digests)::json)")
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    // MARK: Change feed

    func appendRulesRemap(_ remaps: [CodeRemap], version: Int) async throws -> Int {
        casesChange()
        guard !remaps.isEmpty else { return 0 }
        let rows = try await run(
            """
            WITH remap AS (
                SELECT * FROM unnest(\(remaps.map(\.sourceSystem)), \(remaps.map(\.rawStatus)), \(remaps.map(\.recordedStatus)),
                                     \(remaps.map(\.status)), \(remaps.map(\.category)))
                    AS r(source_system, raw_status, recorded_status, status, category)
            ), written AS (
                -- one entry per live case whose shown status the release changes, in case order
                INSERT INTO feed_entries (tenant_id, case_id, external_case_id, status, category, reason, rule_version, party)
                SELECT c.tenant_id, c.case_id, c.external_case_id, remap.status, remap.category, 'rules', \(version), c.party
                  FROM cases c JOIN remap ON c.source_system = remap.source_system AND c.raw_status = remap.raw_status
                                         AND c.status = remap.recorded_status
                 WHERE c.tenant_id = \(t) AND c.withdrawn_at IS NULL
                 ORDER BY c.case_id
                RETURNING 1
            )
            SELECT count(*)::bigint FROM written
            """)
        for try await count in rows.decode(Int.self) {
            Counter(label: "statusbro_feed_entries_written_total", dimensions: [("reason", "rules")]).increment(by: count)
            return count
        }
        return 0
    }

    func feedHorizon() async throws -> Int64 {
        let rows = try await run("SELECT statusbro_feed_horizon(\(t))")
        for try await horizon in rows.decode(Int64.self) { return horizon }
        return 0
    }

    func feedEntries(after: Int64, upTo: Int64, since: Date, limit: Int) async throws -> [FeedEntry] {
        let rows = try await run(
            """
            SELECT position, case_id, external_case_id, status, category, reason, changed_at, party FROM feed_entries
             WHERE tenant_id = \(t) AND position > \(after) AND position <= \(upTo) AND changed_at >= \(since)
             ORDER BY position LIMIT \(limit)
            """)
        var entries: [FeedEntry] = []
        for try await (position, caseId, externalCaseId, status, category, reason, changedAt, party) in rows.decode(
            (Int64, UUID, String, String?, String?, String, Date, String?).self)
        {
            entries.append(
                FeedEntry(
                    position: position, caseId: caseId, externalCaseId: externalCaseId, status: status, category: category,
                    reason: ChangeReason(rawValue: reason) ?? .event, changedAt: changedAt, party: party))
        }
        return entries
    }

    // MARK: Dead letters

    static let deadLetterColumns =
        "dead_letter_id, scope, message_id, code, detail, payload, correlation_id, received_at, state, attempts, replayed_at, replay_result, external_case_id"

    typealias DeadLetterRow = (UUID, String, String?, String, String, JSONValue, String, Date, String, Int, Date?, JSONValue?, String?)

    static func deadLetter(_ r: DeadLetterRow) -> DeadLetter {
        DeadLetter(
            id: r.0, scope: r.1, messageId: r.2, externalCaseId: r.12, code: r.3, detail: r.4, payload: r.5, correlationId: r.6,
            receivedAt: r.7, state: DeadLetter.State(rawValue: r.8) ?? .pending, attempts: r.9, replayedAt: r.10, replayResult: r.11)
    }

    func lockDeadLetter(id: UUID) async throws -> DeadLetter? {
        let rows = try await run(
            "SELECT \(unescaped: Self.deadLetterColumns) FROM dead_letters WHERE tenant_id = \(t) AND dead_letter_id = \(id) FOR UPDATE")
        for try await row in rows.decode(DeadLetterRow.self) { return Self.deadLetter(row) }
        return nil
    }

    func deadLetters(state: DeadLetter.State?, scope: String?, limit: Int) async throws -> [DeadLetter] {
        let rows = try await run(
            """
            SELECT \(unescaped: Self.deadLetterColumns) FROM dead_letters
             WHERE tenant_id = \(t) AND (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
               AND (\(scope)::text IS NULL OR scope = \(scope))
             ORDER BY received_at, dead_letter_id LIMIT \(limit)
            """)
        var letters: [DeadLetter] = []
        for try await row in rows.decode(DeadLetterRow.self) { letters.append(Self.deadLetter(row)) }
        return letters
    }

    func pendingDeadLetterCount() async throws -> Int {
        let rows = try await run("SELECT count(*)::bigint FROM dead_letters WHERE tenant_id = \(t) AND state = 'pending'")
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    func recordReplay(id: UUID, replayed: Bool, code: String?, detail: String?, result: JSONValue) async throws {
        try await run(
            """
            UPDATE dead_letters
               SET attempts = attempts + 1, replay_result = \(result),
                   state = CASE WHEN \(replayed) THEN 'replayed' ELSE state END,
                   replayed_at = CASE WHEN \(replayed) THEN clock_timestamp() ELSE replayed_at END,
                   code = COALESCE(\(code), code), detail = COALESCE(\(detail), detail)
             WHERE tenant_id = \(t) AND dead_letter_id = \(id)
            """)
    }

    // MARK: Rules

    func activeVersion() async throws -> Int {
        let rows = try await run("SELECT COALESCE(max(version), 0) FROM rule_releases WHERE tenant_id = \(t)")
        for try await version in rows.decode(Int.self) { return version }
        return 0
    }

    static let releaseColumns = "version, document, sha256, published_by, published_at, comment, rolled_back_from"

    private func releases(_ query: PostgresQuery) async throws -> [RuleRelease] {
        var releases: [RuleRelease] = []
        for try await (version, document, sha, by, at, comment, from) in try await run(query).decode(
            (Int, RulesDocument, String, String, Date, String, Int?).self)
        {
            releases.append(
                RuleRelease(
                    tenant: tenant, version: version, document: document, sha256: sha, publishedBy: by, publishedAt: at,
                    comment: comment, rolledBackFrom: from))
        }
        return releases
    }

    func release(version: Int) async throws -> RuleRelease? {
        try await releases(
            "SELECT \(unescaped: Self.releaseColumns) FROM rule_releases WHERE tenant_id = \(t) AND version = \(version)"
        ).first
    }

    /// Release times are kept in milliseconds; an instant that went through a `Date` may be a
    /// microsecond short of the millisecond it names, so the comparison allows half a millisecond.
    func release(activeAt instant: Date) async throws -> RuleRelease? {
        try await releases(
            """
            SELECT \(unescaped: Self.releaseColumns) FROM rule_releases
             WHERE tenant_id = \(t) AND published_at <= \(instant)::timestamptz + interval '500 microseconds'
             ORDER BY version DESC LIMIT 1
            """
        ).first
    }

    func releases() async throws -> [RuleReleaseSummary] {
        let rows = try await run(
            """
            SELECT version, sha256, published_by, published_at, comment, rolled_back_from FROM rule_releases
             WHERE tenant_id = \(t) ORDER BY version
            """)
        var summaries: [RuleReleaseSummary] = []
        for try await (version, sha, by, at, comment, from) in rows.decode((Int, String, String, Date, String, Int?).self) {
            summaries.append(
                RuleReleaseSummary(version: version, sha256: sha, publishedBy: by, publishedAt: at, comment: comment, rolledBackFrom: from))
        }
        return summaries
    }

    func releases(publishedFrom from: Date?, to: Date?) async throws -> [RuleRelease] {
        try await releases(
            """
            SELECT \(unescaped: Self.releaseColumns) FROM rule_releases
             WHERE tenant_id = \(t) AND (\(from)::timestamptz IS NULL OR published_at >= \(from))
               AND (\(to)::timestamptz IS NULL OR published_at < \(to))
             ORDER BY version
            """)
    }

    func insertRelease(_ r: NewRuleRelease) async throws {
        let canonical = r.document.canonicalJSON()
        let sha = SHA256.hash(data: Data(canonical.utf8)).map { String(format: "%02x", $0) }.joined()
        do {
            try await run(
                """
                INSERT INTO rule_releases (tenant_id, version, document, sha256, published_by, comment, rolled_back_from)
                VALUES (\(t), \(r.version), \(r.document), \(sha), \(r.publishedBy), \(r.comment), \(r.rolledBackFrom))
                """)
        } catch {
            throw PostgresStatusStore.translate(error)
        }
    }

    func draft() async throws -> RulesDraft? {
        let rows = try await run("SELECT document, base_version, updated_by, updated_at FROM rule_drafts WHERE tenant_id = \(t)")
        for try await (document, base, by, at) in rows.decode((JSONValue, Int, String, Date).self) {
            return RulesDraft(document: document, baseVersion: base, updatedBy: by, updatedAt: at)
        }
        return nil
    }

    func saveDraft(_ document: JSONValue, baseVersion: Int, by: String) async throws {
        try await run(
            """
            INSERT INTO rule_drafts (tenant_id, document, base_version, updated_by) VALUES (\(t), \(document), \(baseVersion), \(by))
            ON CONFLICT (tenant_id) DO UPDATE
               SET document = EXCLUDED.document, base_version = EXCLUDED.base_version, updated_by = EXCLUDED.updated_by,
                   updated_at = now()
            """)
    }

    func deleteDraft() async throws -> Bool {
        let rows = try await run("DELETE FROM rule_drafts WHERE tenant_id = \(t) RETURNING tenant_id")
        for try await _ in rows { return true }
        return false
    }

    func codeUsage() async throws -> [CodeUsage] {
        let rows = try await run(
            """
            SELECT source_system, raw_status, status, category, count(*)::bigint FROM cases
             WHERE tenant_id = \(t) AND withdrawn_at IS NULL
             GROUP BY source_system, raw_status, status, category
            """)
        var usage: [CodeUsage] = []
        for try await (source, raw, status, category, count) in rows.decode((String, String, String, String, Int).self) {
            usage.append(CodeUsage(sourceSystem: source, rawStatus: raw, recordedStatus: status, recordedCategory: category, cases: count))
        }
        return usage
    }

    // MARK: Statistics

    func ingestCounts(since: Date) async throws -> [IngestHour] {
        let rows = try await run(
            """
            WITH accepted AS (
                -- every recorded event: applied, or kept in history only; a replayed dead letter counts when replayed
                SELECT date_trunc('hour', recorded_at, 'UTC') AS hour, count(*) AS n FROM case_events
                 WHERE tenant_id = \(t) AND recorded_at >= \(since)
                 GROUP BY 1
            ), parked AS (
                -- naming both states lets the (tenant_id, state, received_at) index serve the window
                SELECT date_trunc('hour', received_at, 'UTC') AS hour, count(*) AS n FROM dead_letters
                 WHERE tenant_id = \(t) AND state = ANY(ARRAY['pending', 'replayed']) AND received_at >= \(since)
                 GROUP BY 1
            )
            SELECT hour, COALESCE(a.n, 0)::bigint, COALESCE(p.n, 0)::bigint
              FROM accepted AS a FULL JOIN parked AS p USING (hour)
             ORDER BY hour
            """)
        var hours: [IngestHour] = []
        for try await (hour, accepted, parked) in rows.decode((Date, Int, Int).self) {
            hours.append(IngestHour(hour: hour, accepted: accepted, deadLettered: parked))
        }
        return hours
    }

    func pendingDeadLetterGroups() async throws -> [PendingDeadLetterGroup] {
        // What a parked message carries, read as its face reads it: an event names its source
        // system and code (`sourceSystem`, `status`); a DiBK receipt or update is of source system
        // DIBK, its code the milestone, else its last outcome as UTFALL:<type> (NorwegianUpdate.rawStatus).
        let dibkScopes = [DIBK.receiptScope, DIBK.updateScope]
        let rows = try await run(
            """
            SELECT code,
                   CASE WHEN scope = \(EventMessage.scope) THEN payload ->> 'sourceSystem'
                        WHEN scope = ANY(\(dibkScopes)::text[]) THEN \(DIBK.sourceSystem) END AS source_system,
                   CASE WHEN scope = \(EventMessage.scope) THEN payload ->> 'status'
                        WHEN scope = ANY(\(dibkScopes)::text[])
                        THEN COALESCE(payload ->> 'milepæl', \(DIBK.outcomeCode("")) || (payload -> 'utfall' -> -1 ->> 'utfallType'))
                   END AS raw_status,
                   count(*)::bigint, min(received_at), max(received_at)
              FROM dead_letters
             WHERE tenant_id = \(t) AND state = 'pending'
             GROUP BY 1, 2, 3
            """)
        var groups: [PendingDeadLetterGroup] = []
        for try await (code, source, raw, count, oldest, newest) in rows.decode((String, String?, String?, Int, Date, Date).self) {
            groups.append(
                PendingDeadLetterGroup(code: code, sourceSystem: source, rawStatus: raw, count: count, oldest: oldest, newest: newest))
        }
        return groups
    }
}

// MARK: Norwegian submissions

extension PostgresTenantTransaction {
    func dibkCase(reference: String) async throws -> String? {
        let rows = try await connection.perform(
            "SELECT external_case_id FROM dibk_references WHERE tenant_id = \(tenant.rawValue) AND innsending_referanse = \(reference)",
            tenant: tenant, logger: logger)
        for try await id in rows.decode(String.self) { return id }
        return nil
    }

    func dibkCase(saksaar: String, sakssekvensnummer: String) async throws -> String? {
        let rows = try await connection.perform(
            """
            SELECT external_case_id FROM dibk_case_numbers
             WHERE tenant_id = \(tenant.rawValue) AND saksaar = \(saksaar) AND sakssekvensnummer = \(sakssekvensnummer)
             ORDER BY updated_at DESC LIMIT 1
            """, tenant: tenant, logger: logger)
        for try await id in rows.decode(String.self) { return id }
        return nil
    }

    func linkDIBK(references: [String], to externalCaseId: String) async throws {
        try await connection.perform(
            """
            INSERT INTO dibk_references (tenant_id, innsending_referanse, external_case_id)
            SELECT \(tenant.rawValue), reference, \(externalCaseId) FROM unnest(\(references)::text[]) WITH ORDINALITY AS r(reference, n)
             ORDER BY n
            ON CONFLICT DO NOTHING
            """, tenant: tenant, logger: logger)
    }

    func setDIBKCaseNumber(externalCaseId: String, _ number: Saksnummer) async throws {
        try await connection.perform(
            """
            INSERT INTO dibk_case_numbers (tenant_id, external_case_id, saksaar, sakssekvensnummer)
            VALUES (\(tenant.rawValue), \(externalCaseId), \(number.saksaar), \(number.sakssekvensnummer))
            ON CONFLICT (tenant_id, external_case_id) DO UPDATE
               SET saksaar = EXCLUDED.saksaar, sakssekvensnummer = EXCLUDED.sakssekvensnummer, updated_at = now()
            """, tenant: tenant, logger: logger)
    }

    func appendDIBKUpdate(externalCaseId: String, oppdateringId: UUID, oppdatertDato: Date, payload: JSONValue) async throws {
        try await connection.perform(
            """
            INSERT INTO dibk_updates (tenant_id, oppdatering_id, external_case_id, oppdatert_dato, payload)
            VALUES (\(tenant.rawValue), \(oppdateringId), \(externalCaseId), \(oppdatertDato), \(payload))
            """, tenant: tenant, logger: logger)
    }

    func dibkReferences(externalCaseId: String) async throws -> [String] {
        let rows = try await connection.perform(
            """
            SELECT innsending_referanse FROM dibk_references WHERE tenant_id = \(tenant.rawValue) AND external_case_id = \(externalCaseId)
             ORDER BY linked_at, innsending_referanse
            """, tenant: tenant, logger: logger)
        var references: [String] = []
        for try await reference in rows.decode(String.self) { references.append(reference) }
        return references
    }

    func dibkUpdates(externalCaseId: String) async throws -> [JSONValue] {
        let rows = try await connection.perform(
            """
            SELECT payload FROM dibk_updates WHERE tenant_id = \(tenant.rawValue) AND external_case_id = \(externalCaseId)
             ORDER BY oppdatert_dato, received_at
            """, tenant: tenant, logger: logger)
        var updates: [JSONValue] = []
        for try await payload in rows.decode(JSONValue.self) { updates.append(payload) }
        return updates
    }
}
