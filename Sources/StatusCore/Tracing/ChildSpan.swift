import Tracing

/// Spans below a request's span: the rules lookup, each SQL statement.
///
/// One is started only inside a traced request (a task-local `InstrumentationContext` set by the HTTP
/// layer's request span). Work with no request behind it — the rules listener's resync every few
/// seconds, migrations, the CLI — would otherwise send a root trace per statement, and a process that
/// traces nothing pays one task-local read per call instead of a span.
public enum ChildSpan {
    /// Runs `body` in a span named `name` under the current request's span; outside one, runs it with
    /// `nil` and starts nothing (`name` is not even evaluated).
    ///
    /// A thrown error sets the span's status and `error.type` to the error's type, never its
    /// description: a database error's message can quote the value it refused.
    public nonisolated(nonsending) static func run<T>(
        _ name: @autoclosure () -> String, ofKind kind: SpanKind = .internal, _ body: ((any Span)?) async throws -> T
    ) async throws -> T {
        guard let parent = InstrumentationContext.current else { return try await body(nil) }
        let span = InstrumentationSystem.tracer.startSpan(name(), context: parent, ofKind: kind)
        defer { span.end() }
        do {
            return try await InstrumentationContext.$current.withValue(span.context) { try await body(span) }
        } catch {
            span.attributes["error.type"] = String(describing: type(of: error))
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }
}
