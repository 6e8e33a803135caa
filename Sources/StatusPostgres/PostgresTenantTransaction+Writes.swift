import Foundation
import PostgresNIO
import StatusCore
import Synchronization

extension PostgresTenantTransaction {
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
        if let changes = LedgerWrites.caseChanges(writes) { casesChange(.cases(changes)) }
        LedgerWrites.countFeedEntries(writes)
    }
}
