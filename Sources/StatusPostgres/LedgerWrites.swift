import Foundation
import Logging
import Metrics
import PostgresNIO
import StatusCore
import StatusRules

/// The ledger's writes as `statusbro_apply_changes` reads them (`sql/004_faces.sql`): a JSON array
/// of `statusbro_change` objects, and the rows it reports back.
enum LedgerWrites {
    /// The writes as the JSON text bound to `p_changes`. Instants are seconds since the epoch
    /// (microseconds survive a Double at these magnitudes, as they do in PostgresNIO's own encoding).
    static func json(_ writes: [LedgerWrite]) -> String {
        var out = "["
        out.reserveCapacity(writes.count * 900)
        for (index, write) in writes.enumerated() {
            if index > 0 { out += "," }
            var object = JSONObjectWriter()
            object.number("ordinal", write.ordinal)
            object.string("scope", write.scope)
            object.string("message_id", write.origin.messageId)
            object.raw("payload", write.origin.payload.canonicalString)
            object.string("correlation_id", write.origin.correlationId)
            object.string("external_case_id", write.externalCaseId)
            if let revision = write.expectedRevision { object.number("expected_revision", Int(revision)) }
            switch write.effect {
            case .apply(let applied, let answer):
                let record = applied.caseRecord
                let event = applied.event
                object.string("kind", "apply")
                object.string("case_id", record.caseId.uuidString)
                object.bool("case_written", event.applied)
                object.string("flow_instance_id", record.flowInstanceId)
                object.string("case_type", record.caseType)
                object.string("organisation_number", record.organisationNumber)
                object.string("party", record.party)
                object.string("source_system", event.sourceSystem)
                object.string("raw_status", event.rawStatus)
                object.string("status", event.status)
                object.string("category", event.category)
                object.number("rule_version", event.ruleVersion)
                object.instant("last_status_change", record.lastStatusChange)
                object.instant("created_at", record.createdAt)
                if let withdrawn = record.withdrawnAt { object.instant("withdrawn_at", withdrawn) }
                object.string("event_id", event.eventId.uuidString)
                object.string("change_type", event.changeType.rawValue)
                object.instant("occurred_at", event.occurredAt)
                object.instant("recorded_at", event.recordedAt)
                object.string("feed_reason", applied.feedChange?.reason.rawValue)
                object.raw("response", answer.canonicalString)
            case .park(let deadLetterId, let code, let detail):
                object.string("kind", "park")
                object.string("dead_letter_id", deadLetterId.uuidString)
                object.string("code", code)
                object.string("detail", detail)
            }
            out += object.closed
        }
        out += "]"
        return out
    }

    /// Whether the writes change what a case read shows.
    static func changesCases(_ writes: [LedgerWrite]) -> Bool {
        writes.contains { if case .apply(let applied, _) = $0.effect { applied.event.applied } else { false } }
    }

    /// Counts the feed entries written (a transaction that then rolls back was counted too).
    static func countFeedEntries(_ writes: [LedgerWrite]) {
        for write in writes {
            guard case .apply(let applied, _) = write.effect, let feed = applied.feedChange else { continue }
            // Made each time, not kept: a handle made before the metrics system is bootstrapped would count nowhere.
            Counter(label: "statusbro_feed_entries_written_total", dimensions: [("reason", feed.reason.rawValue)]).increment()
        }
    }

    /// Reads the rows `statusbro_apply_changes` (or `statusbro_record_changes`) returned.
    static func report(_ rows: [PostgresRow]) throws -> LedgerWriteReport {
        var report = LedgerWriteReport()
        for row in rows {
            let r = row.makeRandomAccess()
            guard let outcome = try r[1].decode(String?.self) else { continue }
            switch outcome {
            case "replayed":
                guard let ordinal = try r[0].decode(Int?.self) else { continue }
                report.replayed[ordinal] = LedgerWriteReport.Replay(
                    requestMatches: try r[2].decode(Bool?.self) ?? false, answer: try r[3].decode(JSONValue?.self) ?? .null)
            case "stale":
                guard let externalCaseId = try r[5].decode(String?.self) else { continue }
                var current: CaseRecord?
                if let caseId = try r[6].decode(UUID?.self) {
                    current = CaseRecord(
                        caseId: caseId, externalCaseId: externalCaseId, flowInstanceId: try r[7].decode(String?.self),
                        caseType: try r[8].decode(String.self), organisationNumber: try r[9].decode(String?.self),
                        sourceSystem: try r[10].decode(String.self), rawStatus: try r[11].decode(String.self),
                        status: try r[12].decode(String.self), category: try r[13].decode(String.self),
                        ruleVersion: try r[14].decode(Int.self), lastStatusChange: try r[15].decode(Date.self),
                        createdAt: try r[16].decode(Date.self), withdrawnAt: try r[17].decode(Date?.self),
                        party: try r[19].decode(String?.self), revision: try r[18].decode(Int64.self))
                }
                report.stale[externalCaseId] = .some(current)
            case "parked":
                guard let ordinal = try r[0].decode(Int?.self), let id = try r[4].decode(UUID?.self) else { continue }
                report.parked[ordinal] = id
            default:
                continue
            }
        }
        return report
    }
}

/// One event, or a few, in one round trip: `CALL statusbro_record_changes`, which commits before it
/// answers. Prepared once per connection.
struct RecordChangesStatement: PostgresPreparedStatement {
    static let sql =
        "CALL statusbro_record_changes($1, $2::json"
        + String(repeating: ", NULL", count: 20) + ")"
    typealias Row = PostgresRow

    var tenant: String
    var changes: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(tenant)
        bindings.append(changes)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// One JSON object's members, skipping `nil`s (the column is then NULL).
struct JSONObjectWriter {
    private(set) var text = "{"

    private mutating func key(_ name: String) {
        text += text.utf8.count == 1 ? "\"" : ",\""
        text += name
        text += "\":"
    }

    mutating func string(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        JSONValue.writeString(value, to: &text)
    }

    mutating func number(_ name: String, _ value: Int) {
        key(name)
        text += String(value)
    }

    mutating func bool(_ name: String, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    mutating func instant(_ name: String, _ value: Date) {
        key(name)
        text += String(value.timeIntervalSince1970)
    }

    /// A member whose value is JSON text already.
    mutating func raw(_ name: String, _ json: String) {
        key(name)
        text += json
    }

    /// The object, closed.
    var closed: String { text + "}" }
}
