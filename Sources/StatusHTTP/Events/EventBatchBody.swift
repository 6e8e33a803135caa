import Foundation
import Hummingbird
import StatusCore
import StatusRules

/// The events of a batch request: NDJSON (`application/x-ndjson`, one event per line; blank lines
/// are skipped but counted) or a JSON array (`application/json`; "line" is then the position).
enum EventBatchBody {
    struct Event {
        /// The line (NDJSON) or position (array), counted from 1.
        var line: Int
        var item: BatchItem<EventMessage>
    }

    static func read(_ request: Request, context: StatusRequestContext) async throws -> [Event] {
        let mediaType =
            request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        let isNDJSON = ["application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"].contains(mediaType)
        guard isNDJSON || Request.isJSON(mediaType) else {
            throw RequestBodyError.unsupportedMediaType("send the events as application/x-ndjson (one per line) or as a JSON array")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: EventBatch.maximumBodySize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw RequestBodyError.tooLarge(limit: EventBatch.maximumBodySize)
        }
        let events = isNDJSON ? lines(buffer) : try elements(buffer)
        guard !events.isEmpty else { throw StatusError.invalid("/", "the body holds no events") }
        guard events.count <= EventBatch.maximumEvents else {
            throw StatusError.invalid("/", "at most \(EventBatch.maximumEvents) events per request; this one has \(events.count)")
        }
        return events
    }

    private static func lines(_ buffer: ByteBuffer) -> [Event] {
        var events: [Event] = []
        buffer.withUnsafeReadableBytes { bytes in
            var number = 0
            for var line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                number += 1
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
                events.append(Event(line: number, item: EventBatch.item(line: line)))
            }
        }
        return events
    }

    private static func elements(_ buffer: ByteBuffer) throws -> [Event] {
        guard case .array(let values) = try Request.parseAnyJSON(buffer) else {
            throw StatusError.invalid("/", "a JSON body must be an array of events (or send NDJSON)")
        }
        return values.enumerated().map { Event(line: $0.offset + 1, item: EventBatch.item($0.element)) }
    }
}
