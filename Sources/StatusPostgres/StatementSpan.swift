import Foundation
import PostgresNIO
import StatusCore
import Tracing

/// A span per SQL statement under the request that runs it, with OpenTelemetry's database
/// attributes (semantic conventions 1.3x: `db.system.name`, `db.operation.name`,
/// `db.query.summary`, `db.query.text`, `db.response.status_code`).
///
/// The statement's text is recorded but never a bound value: every value in our SQL is a bound
/// parameter (`$1`), and `unescaped:` only ever splices fixed column lists. The text still passes
/// `IdentityRedaction`, so no future literal can carry an identity number into a span.
enum StatementSpan {
    /// Runs `body`, which sends `sql` (for `tenant`, when it is tenant-scoped), in a statement span.
    ///
    /// The span ends when the server has answered the statement; rows the caller reads afterwards
    /// stream outside it.
    nonisolated(nonsending) static func run<T>(_ sql: String, tenant: TenantID? = nil, _ body: () async throws -> T) async throws -> T {
        try await ChildSpan.run(summary(of: sql), ofKind: .client) { span in
            if let span {
                span.attributes["db.system.name"] = "postgresql"
                // The name before semantic conventions 1.30, which some backends still index.
                span.attributes["db.system"] = "postgresql"
                span.attributes["db.operation.name"] = operation(of: sql)
                span.attributes["db.query.summary"] = span.operationName
                span.attributes["db.query.text"] = IdentityRedaction.redact(sql)
                if let tenant { span.attributes["statusbro.tenant"] = tenant.rawValue }
            }
            do {
                return try await body()
            } catch let error as PSQLError {
                // The SQLSTATE only: the server's message can quote the value it refused.
                if let code = error.serverInfo?[.sqlState] { span?.attributes["db.response.status_code"] = code }
                throw error
            }
        }
    }

    /// The statement's command, upper-cased: `SELECT`, `CALL`, `BEGIN`, `WITH`.
    static func operation(of sql: String) -> String {
        words(of: sql).first.map { $0.uppercased() } ?? "SQL"
    }

    /// A low-cardinality name for the statement (`db.query.summary`): its command and the table or
    /// routine it reads from or writes to, e.g. `SELECT cases`, `CALL statusbro_record_changes`,
    /// `INSERT rule_releases`, `SELECT set_config`; the command alone when it names none (`BEGIN`, `SELECT 1`).
    static func summary(of sql: String) -> String {
        let words = words(of: sql)
        guard let first = words.first else { return "SQL" }
        let command = first.uppercased()
        let targetAfter: String?
        switch command {
        case "SELECT", "DELETE", "WITH": targetAfter = "FROM"
        case "INSERT": targetAfter = "INTO"
        case "CREATE": targetAfter = "TABLE"
        case "UPDATE", "CALL", "TRUNCATE", "COPY": targetAfter = String(first)
        default: targetAfter = nil
        }
        guard let targetAfter, let keyword = words.firstIndex(where: { $0.uppercased() == targetAfter.uppercased() }),
            keyword + 1 < words.count
        else {
            // `SELECT set_config(…)`, `SELECT statusbro_feed_horizon(…)`: the routine it calls.
            if command == "SELECT", words.count > 1, sql.contains("\(words[1])(") { return "SELECT \(words[1])" }
            return command
        }
        let target = words[keyword + 1]
        // Only an identifier names a table or routine; anything else is not worth a name.
        guard let initial = target.first, initial.isLetter || initial == "_" else { return command }
        return "\(command) \(target)"
    }

    /// The identifier-like words of `sql`, comments left out.
    private static func words(of sql: String) -> [Substring] {
        var words: [Substring] = []
        for line in sql.split(separator: "\n") {
            let code = line.range(of: "--").map { line[..<$0.lowerBound] } ?? line
            words += code.split { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") }
        }
        return words
    }
}
