import Logging
import PostgresNIO
import StatusCore
import Synchronization

extension PostgresConnection {
    /// `query(_:logger:)`, refused at once on a connection that is already closed, and given up
    /// when the connection closes before the server answered.
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
        try await StatementSpan.run(query.sql, tenant: tenant) {
            try await untilClosed { try await self.query(query, logger: logger, file: file, line: line) }
        }
    }

    /// Runs `operation`, but gives up with `unavailable` as soon as this connection closes.
    ///
    /// PostgresNIO 1.33 never completes a query written to a connection whose channel has just
    /// closed (a server that crashed or failed over while the pool leased the connection): the
    /// caller would wait forever, holding its request, its admission slot and shutdown. So the
    /// operation runs in a task of its own, and the caller resumes with whichever comes first:
    /// its result or the connection's close. A task whose query can never complete stays parked,
    /// with the closed connection; that is the price of the caller going on.
    func untilClosed<Result: Sendable>(_ operation: @escaping @Sendable () async throws -> Result) async throws -> Result {
        let connection = self
        guard !connection.isClosed else { throw StoreError.unavailable("the database cannot be reached") }
        let outcome = OneOutcome<Result>()
        let watch = ClosingWatch.shared.watch(connection) {
            outcome.resume(with: .failure(StoreError.unavailable("the database cannot be reached")))
        }
        defer { ClosingWatch.shared.unwatch(connection, watch) }
        // A server that stops answering without closing (its host gone, the network cut, a commit
        // waiting for a standby that died) would hold the caller as surely as a closed connection:
        // past the deadline the connection is closed, which ends the wait above and takes it out of
        // the pool.
        let deadline = StatementDeadline.current.map { limit in
            connection.eventLoop.scheduleTask(in: .nanoseconds(Int64(limit / .nanoseconds(1)))) {
                _ = connection.close() as EventLoopFuture<Void>
            }
        }
        defer { deadline?.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                outcome.install(continuation)
                outcome.task = Task {
                    do {
                        outcome.resume(with: .success(try await operation()))
                    } catch {
                        outcome.resume(with: .failure(error))
                    }
                }
            }
        } onCancel: {
            outcome.cancel()
        }
    }
}

/// How long a statement may go unanswered before its server is presumed gone; `nil`: no limit
/// (migrations and the owner's work, which may rightly take long). Set by `PrimaryPool` for the
/// service's statements.
enum StatementDeadline {
    @TaskLocal static var current: Duration?
}

/// The operations waiting on each open connection, told together when it closes. One close
/// callback per connection, not per statement: a long-lived connection would otherwise collect
/// a callback for every statement it ever ran.
final class ClosingWatch: Sendable {
    /// The one watch of the process.
    static let shared = ClosingWatch()

    private let waiting = Mutex<[ObjectIdentifier: [Int: @Sendable () -> Void]]>([:])
    private let tokens = Atomic<Int>(0)

    /// Calls `onClose` when `connection` closes (at once if it has), until `unwatch`.
    func watch(_ connection: PostgresConnection, _ onClose: @escaping @Sendable () -> Void) -> Int {
        let id = ObjectIdentifier(connection)
        let token = tokens.add(1, ordering: .relaxed).newValue
        let isFirst = waiting.withLock { waiting in
            let isFirst = waiting[id] == nil
            waiting[id, default: [:]][token] = onClose
            return isFirst
        }
        if isFirst {
            connection.closeFuture.whenComplete { [self] _ in
                let callbacks = waiting.withLock { $0.removeValue(forKey: id) } ?? [:]
                for callback in callbacks.values { callback() }
            }
        }
        return token
    }

    /// Stops telling `token`'s operation.
    func unwatch(_ connection: PostgresConnection, _ token: Int) {
        _ = waiting.withLock { $0[ObjectIdentifier(connection)]?.removeValue(forKey: token) }
    }
}

/// The first of several possible outcomes of an operation, delivered once to its waiting caller.
private final class OneOutcome<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        var early: Result<Value, any Error>?
        var task: Task<Void, Never>?
        var done = false
    }

    private let state = Mutex(State())

    /// The task running the operation, cancelled with the caller.
    var task: Task<Void, Never>? {
        get { state.withLock { $0.task } }
        set { state.withLock { $0.task = newValue } }
    }

    func install(_ continuation: CheckedContinuation<Value, any Error>) {
        let early: Result<Value, any Error>? = state.withLock { state in
            if let early = state.early {
                state.done = true
                return early
            }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func resume(with result: Result<Value, any Error>) {
        let continuation: CheckedContinuation<Value, any Error>? = state.withLock { state in
            guard !state.done else { return nil }
            guard let continuation = state.continuation else {
                if state.early == nil { state.early = result }
                return nil
            }
            state.done = true
            state.continuation = nil
            return continuation
        }
        continuation?.resume(with: result)
    }

    func cancel() {
        state.withLock { $0.task }?.cancel()
    }
}
