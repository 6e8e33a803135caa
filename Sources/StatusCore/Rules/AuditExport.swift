import Foundation
import StatusRules

/// The auditor's exports as text, shared by the API and `statusbro audit export`: CSV (UTF-8
/// with a byte-order mark, CRLF, RFC 4180 quoting, so a spreadsheet opens Swedish and Norwegian
/// letters correctly) or JSON with the columns in header order.
public enum AuditExport {
    /// CSV or JSON.
    public enum Format: String, Sendable {
        case csv
        case json
    }

    /// One cell of an export.
    enum Cell {
        case null
        case int(Int)
        case bool(Bool)
        case string(String)
        case instant(Date)
        /// A free-form value from a rules document: compact JSON, strings bare in CSV.
        case value(JSONValue)

        static func optional(_ text: String?) -> Cell { text.map(Cell.string) ?? .null }

        /// As a JSON value.
        func writeJSON(to out: inout String) {
            switch self {
            case .null: out += "null"
            case .int(let number): out += String(number)
            case .bool(let flag): out += flag ? "true" : "false"
            case .string(let text): JSONValue.writeString(text, to: &out)
            case .instant(let date): JSONValue.writeString(RFC3339.format(date), to: &out)
            case .value(let value): out += value.canonicalString
            }
        }

        /// As the text of a CSV cell.
        var csvText: String {
            switch self {
            case .null: ""
            case .int(let number): String(number)
            case .bool(let flag): flag ? "true" : "false"
            case .string(let text): text
            case .instant(let date): RFC3339.format(date)
            case .value(let value): value.displayString
            }
        }
    }

    /// One row per changed entry per release.
    public static func rulesHistory(_ rows: [RulesHistoryRow], format: Format) -> String {
        let header = ["version", "publishedAt", "publishedBy", "comment", "path", "change", "old", "new"]
        let records: [[Cell]] = rows.map { r in
            [
                .int(r.version), .instant(r.publishedAt), .string(r.publishedBy), .string(r.comment), .string(r.change.path),
                .string(r.change.change.rawValue), r.change.old.map(Cell.value) ?? .null, r.change.new.map(Cell.value) ?? .null,
            ]
        }
        return render(format, header: header, records: records)
    }

    /// Every recorded event with the rules version that mapped it.
    public static func decisions(_ rows: [(externalCaseId: String, event: CaseEvent)], format: Format) -> String {
        let header = [
            "recordedAt", "externalCaseId", "eventId", "messageId", "changeType", "sourceSystem", "rawStatus", "status", "category",
            "ruleVersion", "applied", "occurredAt", "correlationId",
        ]
        let records: [[Cell]] = rows.map { row in
            let e = row.event
            return [
                .instant(e.recordedAt), .string(row.externalCaseId), .string(e.eventId.uuidString.lowercased()), .optional(e.messageId),
                .string(e.changeType.rawValue), .string(e.sourceSystem), .string(e.rawStatus), .string(e.status), .string(e.category),
                .int(e.ruleVersion), .bool(e.applied), .instant(e.occurredAt), .string(e.correlationId),
            ]
        }
        return render(format, header: header, records: records)
    }

    static func render(_ format: Format, header: [String], records: [[Cell]]) -> String {
        switch format {
        case .json:
            var out = "["
            for (index, record) in records.enumerated() {
                out += index > 0 ? ",{" : "{"
                for (column, (name, cell)) in zip(header, record).enumerated() {
                    if column > 0 { out += "," }
                    JSONValue.writeString(name, to: &out)
                    out += ":"
                    cell.writeJSON(to: &out)
                }
                out += "}"
            }
            return out + "]"
        case .csv:
            var text = "\u{FEFF}" + header.map(csvField).joined(separator: ",") + "\r\n"
            for record in records {
                text += record.map { csvField($0.csvText) }.joined(separator: ",") + "\r\n"
            }
            return text
        }
    }

    /// An RFC 4180 field, quoted where needed. A cell starting with `=`, `+`, `-` or `@` gets a
    /// leading apostrophe so a spreadsheet shows it as text instead of running it as a formula.
    static func csvField(_ text: String) -> String {
        var text = text
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
        guard
            text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == ";" }) || text.hasPrefix(" ")
                || text.hasSuffix(" ")
        else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
