import Logging
import PostgresNIO
import StatusCore

extension PostgresConnection {
    /// `query(_:logger:)`, refused at once on a connection that is already closed.
    ///
    /// PostgresNIO 1.33 never completes a query written to a connection whose channel has closed:
    /// the caller waits forever. A connection closes under a transaction when the server ends it
    /// (`idle_in_transaction_session_timeout` after a slow moment, a restart, `pg_terminate_backend`);
    /// the `ROLLBACK` or next statement after that must fail, not hang a request and its admission
    /// slot. (Seen: a statement timeout, then a `ROLLBACK` sent after the idle timeout had already
    /// closed the connection, waited forever.)
    ///
    /// Inside a traced request the statement gets its span (`StatementSpan`), with `tenant` when it is tenant-scoped.
    @discardableResult
    func perform(
        _ query: PostgresQuery, tenant: TenantID? = nil, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> PostgresRowSequence {
        guard !isClosed else { throw StoreError.unavailable("the database cannot be reached") }
        return try await StatementSpan.run(query.sql, tenant: tenant) {
            try await self.query(query, logger: logger, file: file, line: line)
        }
    }
}
