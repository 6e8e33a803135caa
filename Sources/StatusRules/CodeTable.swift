/// The (source system, raw code) → portal status table of a snapshot, for the lookup every event
/// and every status read makes.
///
/// One open-addressing table over both strings, hashed with FNV-1a over their UTF-8 bytes: one
/// pass over a dozen bytes instead of two dictionaries hashing each string with SipHash (seeded
/// per process to resist collision attacks on request data; here the keys are the tenant's own
/// codes, fixed at compile time, and a lookup's cost does not depend on what a request sends
/// beyond its length). Measured by `statusbro-bench lookups`.
struct CodeTable: Sendable {
    private struct Slot: Sendable {
        var hash: UInt64
        var source: String
        var code: String
        var status: Int
    }

    private let slots: [Slot?]
    private let mask: Int

    /// A table of `entries`; each status is an index into the snapshot's statuses.
    init(_ entries: [(source: String, code: String, status: Int)]) {
        var capacity = 16
        while capacity < entries.count * 2 { capacity *= 2 }
        var slots = [Slot?](repeating: nil, count: capacity)
        let mask = capacity - 1
        for entry in entries {
            let hash = Self.hash(entry.source, entry.code)
            var index = Int(truncatingIfNeeded: hash) & mask
            while let occupied = slots[index], !(occupied.hash == hash && occupied.source == entry.source && occupied.code == entry.code) {
                index = (index + 1) & mask
            }
            slots[index] = Slot(hash: hash, source: entry.source, code: entry.code, status: entry.status)
        }
        self.slots = slots
        self.mask = mask
    }

    /// The status index of a pair, `nil` when the table has no such pair.
    func status(source: String, code: String) -> Int? {
        let hash = Self.hash(source, code)
        var index = Int(truncatingIfNeeded: hash) & mask
        while let slot = slots[index] {
            if slot.hash == hash, slot.code == code, slot.source == source { return slot.status }
            index = (index + 1) & mask
        }
        return nil
    }

    static func hash(_ source: String, _ code: String) -> UInt64 {
        var hash = mix(0xcbf2_9ce4_8422_2325, source)
        // A byte no UTF-8 text holds, so ("AB", "C") and ("A", "BC") differ.
        hash = (hash ^ 0xFF) &* prime
        hash = mix(hash, code)
        // FNV's low bits are weak; fold the high ones in before masking.
        return hash ^ (hash >> 29)
    }

    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// FNV-1a over the text's UTF-8 bytes. The closure returns its result rather than mutating a
    /// captured variable: a captured `var` costs a dynamic exclusivity check per byte.
    private static func mix(_ seed: UInt64, _ text: String) -> UInt64 {
        func fold(_ bytes: some Sequence<UInt8>) -> UInt64 {
            var hash = seed
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* prime }
            return hash
        }
        return text.utf8.withContiguousStorageIfAvailable { fold($0) } ?? fold(text.utf8)
    }
}
