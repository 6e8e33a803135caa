import Crypto
import Foundation
import StatusRules

/// Reads the events of a backfill: each line of NDJSON, or each element of a JSON array, becomes
/// a validated event or, when it is not one, a malformed message that is kept as a dead letter.
public enum EventBatch {
    /// The most events one request may carry.
    public static let maximumEvents = 10_000
    /// The largest body one request may carry (32 MiB).
    public static let maximumBodySize = 32 << 20
    /// Events applied in one transaction: large enough that the round trips vanish, small enough
    /// that a chunk's locks and memory stay modest.
    public static let chunkSize = 2_000

    /// The event on one line of text (without its line break).
    public static func item(line: some Collection<UInt8>) -> BatchItem<EventMessage> {
        let data = Data(line)
        guard let value = try? data.withUnsafeBytes({ try JSONValue.parse(bytes: $0) }) else {
            return .malformed(
                MalformedMessage(
                    scope: EventMessage.scope, messageId: digest(data), payload: .string(storableText(data)),
                    error: .invalid("/", "the line is not valid JSON (UTF-8)")))
        }
        return item(value, text: data, verbatim: true)
    }

    /// The event in a JSON value (an element of a JSON array).
    public static func item(_ value: JSONValue) -> BatchItem<EventMessage> {
        item(value, text: Data(value.canonicalString.utf8), verbatim: false)
    }

    private static func item(_ value: JSONValue, text: Data, verbatim: Bool) -> BatchItem<EventMessage> {
        var error: StatusError
        if let pointer = value.firstNULPointer() {
            error = .invalid(pointer, "must not contain NUL characters")
        } else {
            do {
                return .message(
                    EventMessage(
                        try EventSubmission(json: value),
                        text: verbatim ? text.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } : nil))
            } catch let failure {
                error = failure
            }
        }
        // A NUL cannot be stored in jsonb, and a bare `null` would read as no payload at all: such
        // a message is kept as the text it came as.
        let storable = value != .null && value.firstNULPointer() == nil
        return .malformed(
            MalformedMessage(
                scope: EventMessage.scope, messageId: ownMessageId(value) ?? digest(text),
                payload: storable ? value : .string(storableText(text)), error: error))
    }

    /// The message id a malformed event names, when it is a valid one.
    private static func ownMessageId(_ value: JSONValue) -> String? {
        guard let text = value["messageId"]?.stringValue, let id = UUID(uuidString: text) else { return nil }
        return id.uuidString.lowercased()
    }

    /// `sha256:` and the digest of what was sent: the same bytes again name the same dead letter.
    static func digest(_ data: Data) -> String {
        "sha256:" + SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// The text as sent, with what PostgreSQL cannot store (NUL, invalid UTF-8) replaced by U+FFFD.
    static func storableText(_ data: Data) -> String {
        String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
    }
}

extension EventRecorder {
    /// Records a backfill under `snapshot`, in order, a chunk per transaction: each item gets its
    /// own result, exactly as if it had been sent alone; a bad one never holds back the good ones.
    /// `progress` hears how many items are done after each chunk.
    public func recordBatch(
        _ items: [BatchItem<EventMessage>], snapshot: RuleSnapshot, tenant: TenantID, correlationId: String,
        chunkSize: Int = EventBatch.chunkSize
    ) async throws -> [BatchResult<EventReceipt>] {
        var results: [BatchResult<EventReceipt>] = []
        results.reserveCapacity(items.count)
        var start = 0
        while start < items.count {
            let end = min(start + chunkSize, items.count)
            results += try await ledger.submitBatch(
                Array(items[start..<end]), snapshot: snapshot, tenant: tenant, correlationId: correlationId)
            start = end
        }
        return results
    }
}
