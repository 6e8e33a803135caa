import Foundation
import Logging
import Metrics
import PostgresNIO
import StatusCore
import StatusRules

/// The ledger's writes as `statusbro_apply` reads them (`sql/003_ingest.sql`): rows of the
/// `statusbro_change` type, sent as JSON (one event, in one round trip) or as `COPY` text into a
/// staging table (a backfill chunk), and the rows it reports back.
enum LedgerWrites {
    /// One column's value.
    enum Value {
        case text(String)
        /// JSON text, stored as `jsonb`.
        case json(String)
        case integer(Int)
        case boolean(Bool)
        /// Seconds since the epoch (microseconds survive a Double at these magnitudes, as they do
        /// in PostgresNIO's own encoding of a `Date`).
        case instant(Date)
    }

    /// The columns of `statusbro_change`, in its order.
    static let columns = [
        "ordinal", "kind", "scope", "message_id", "payload", "correlation_id", "external_case_id", "expected_revision", "case_id",
        "case_written", "flow_instance_id", "case_type", "organisation_number", "source_system", "raw_status", "status", "category",
        "rule_version", "last_status_change", "created_at", "withdrawn_at", "event_id", "change_type", "occurred_at", "recorded_at",
        "feed_reason", "response", "dead_letter_id", "code", "detail", "party",
    ]

    /// A write's values, one per column of `columns` (`nil`: NULL).
    static func values(_ write: LedgerWrite) -> [Value?] {
        var row = [Value?](repeating: nil, count: columns.count)
        row[0] = .integer(write.ordinal)
        row[2] = .text(write.scope)
        row[3] = write.origin.messageId.map(Value.text)
        row[4] = .json(write.origin.payloadText)
        row[5] = .text(write.origin.correlationId)
        row[6] = write.externalCaseId.map(Value.text)
        row[7] = write.expectedRevision.map { .integer(Int($0)) }
        switch write.effect {
        case .apply(let applied, let answer):
            let record = applied.caseRecord
            let event = applied.event
            row[1] = .text("apply")
            row[8] = .text(record.caseId.uuidString)
            row[9] = .boolean(event.applied)
            row[10] = record.flowInstanceId.map(Value.text)
            row[11] = .text(record.caseType)
            row[12] = record.organisationNumber.map(Value.text)
            row[13] = .text(event.sourceSystem)
            row[14] = .text(event.rawStatus)
            row[15] = .text(event.status)
            row[16] = .text(event.category)
            row[17] = .integer(event.ruleVersion)
            row[18] = .instant(record.lastStatusChange)
            row[19] = .instant(record.createdAt)
            row[20] = record.withdrawnAt.map(Value.instant)
            row[21] = .text(event.eventId.uuidString)
            row[22] = .text(event.changeType.rawValue)
            row[23] = .instant(event.occurredAt)
            row[24] = .instant(event.recordedAt)
            row[25] = applied.feedChange.map { .text($0.reason.rawValue) }
            row[26] = .json(answer)
            row[30] = record.party.map(Value.text)
        case .park(let deadLetterId, let code, let detail):
            row[1] = .text("park")
            row[27] = .text(deadLetterId.uuidString)
            row[28] = .text(code)
            row[29] = .text(detail)
        }
        return row
    }

    /// The writes as the JSON text bound to `statusbro_apply_changes(p_tenant, p_changes json)`.
    static func json(_ writes: [LedgerWrite]) -> String {
        var out = "["
        out.reserveCapacity(writes.count * 900)
        for (index, write) in writes.enumerated() {
            out += index > 0 ? ",{" : "{"
            var first = true
            for (column, value) in zip(columns, values(write)) {
                guard let value else { continue }
                out += first ? "\"" : ",\""
                first = false
                out += column
                out += "\":"
                switch value {
                case .text(let text): JSONValue.writeString(text, to: &out)
                case .json(let json): out += json
                case .integer(let number): out += String(number)
                case .boolean(let flag): out += flag ? "true" : "false"
                case .instant(let date): out += String(date.timeIntervalSince1970)
                }
            }
            out += "}"
        }
        out += "]"
        return out
    }

    /// The writes in `COPY … FROM STDIN` text format: tab-separated, `\N` for NULL, and
    /// backslash, tab, newline and carriage return escaped.
    static func copyText(_ writes: [LedgerWrite]) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(writes.count * 1100)
        for write in writes {
            for (index, value) in values(write).enumerated() {
                if index > 0 { out.writeInteger(UInt8(ascii: "\t")) }
                switch value {
                case nil: out.writeStaticString("\\N")
                case .text(let text)?, .json(let text)?: writeEscaped(text, to: &out)
                case .integer(let number)?: out.writeString(String(number))
                case .boolean(let flag)?: out.writeInteger(flag ? UInt8(ascii: "t") : UInt8(ascii: "f"))
                case .instant(let date)?: out.writeString(String(date.timeIntervalSince1970))
                }
            }
            out.writeInteger(UInt8(ascii: "\n"))
        }
        return out
    }

    private static func writeEscaped(_ text: String, to out: inout ByteBuffer) {
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() {
                let escape: UInt8
                switch byte {
                case UInt8(ascii: "\\"): escape = UInt8(ascii: "\\")
                case UInt8(ascii: "\t"): escape = UInt8(ascii: "t")
                case UInt8(ascii: "\n"): escape = UInt8(ascii: "n")
                case UInt8(ascii: "\r"): escape = UInt8(ascii: "r")
                default: continue
                }
                out.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<index]))
                out.writeInteger(UInt8(ascii: "\\"))
                out.writeInteger(escape)
                start = index + 1
            }
            out.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...]))
        }
    }

    /// What the writes change of what case reads show (`nil`: nothing).
    static func caseChanges(_ writes: [LedgerWrite]) -> CaseChanges? {
        var changes = CaseChanges()
        for write in writes {
            guard case .apply(let applied, _) = write.effect, applied.event.applied else { continue }
            changes.insert(applied.caseRecord)
            // The case the decision was made on, by the id its row is written under.
            if let externalCaseId = write.externalCaseId { changes.ids.insert(ExactText(externalCaseId)) }
        }
        return changes.isEmpty ? nil : changes
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
