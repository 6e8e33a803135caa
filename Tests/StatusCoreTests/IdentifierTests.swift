import Foundation
import StatusCore
import Testing

@Suite("Identifiers")
struct IdentifierTests {
    @Test("time-ordered UUIDs are version 7 with the RFC 9562 variant, sort by time, and do not repeat")
    func timeOrdered() {
        let early = Date(timeIntervalSince1970: 1_700_000_000)
        let ids = (0..<1000).map { UUID.timeOrdered(at: early.addingTimeInterval(Double($0) / 100)) }
        for id in ids {
            let bytes = id.uuid
            #expect(bytes.6 >> 4 == 7)
            #expect(bytes.8 >> 6 == 0b10)
        }
        #expect(Set(ids).count == ids.count)
        let texts = ids.map { $0.uuidString.lowercased() }
        // Ids of different milliseconds sort in time order as text (ids within one millisecond need not).
        let byMillisecond = stride(from: 0, to: ids.count, by: 10).map { texts[$0] }
        #expect(byMillisecond == byMillisecond.sorted())
        // The first 48 bits are the milliseconds.
        #expect(texts[0].replacingOccurrences(of: "-", with: "").prefix(12) == String(format: "%012llx", UInt64(1_700_000_000_000)))
    }

    @Test("correlation ids are the text of version 7 UUIDs: the time first, the RFC 9562 variant, no repeats")
    func correlationIds() throws {
        let at = Date(timeIntervalSince1970: 1_700_000_000.25)
        let ids = (0..<10_000).map { _ in CorrelationID.next(at: at) }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            let uuid = try #require(UUID(uuidString: id))
            #expect(uuid.uuidString.lowercased() == id)
            #expect(uuid.uuid.6 >> 4 == 7)
            #expect(uuid.uuid.8 >> 6 == 0b10)
            #expect(id.replacingOccurrences(of: "-", with: "").prefix(12) == String(format: "%012llx", UInt64(1_700_000_000_250)))
        }
        // Consecutive ids do not count up: the tail does not tell how many ids came in between.
        let tails = ids.map { UInt64($0.suffix(12), radix: 16)! }
        let countingUp = zip(tails, tails.dropFirst()).filter { $0.0 &+ 1 == $0.1 }.count
        #expect(countingUp == 0)
        // A later millisecond sorts after as text.
        #expect(CorrelationID.next(at: at.addingTimeInterval(0.001)) > ids.max()!)
    }
}
