import Foundation
import Synchronization

extension UUID {
    /// A version 7 UUID (RFC 9562): the Unix time in milliseconds, then 74 random bits.
    ///
    /// Ids made one after the other sort roughly by time, so the indexes of a busy table are
    /// appended to rather than written all over; and the random bits come from the system's
    /// generator without opening `/dev/urandom` for every id (which Foundation's `UUID()` does on
    /// Linux: three file opens per event, measured with strace).
    public static func timeOrdered(at date: Date = Date()) -> UUID {
        var random = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        let a = random.next() as UInt64
        let b = random.next() as UInt64
        let high = (milliseconds << 16) | 0x7000 | (a & 0x0FFF)
        let low = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return UUID(
            uuid: (
                UInt8(truncatingIfNeeded: high >> 56), UInt8(truncatingIfNeeded: high >> 48), UInt8(truncatingIfNeeded: high >> 40),
                UInt8(truncatingIfNeeded: high >> 32), UInt8(truncatingIfNeeded: high >> 24), UInt8(truncatingIfNeeded: high >> 16),
                UInt8(truncatingIfNeeded: high >> 8), UInt8(truncatingIfNeeded: high), UInt8(truncatingIfNeeded: low >> 56),
                UInt8(truncatingIfNeeded: low >> 48), UInt8(truncatingIfNeeded: low >> 40), UInt8(truncatingIfNeeded: low >> 32),
                UInt8(truncatingIfNeeded: low >> 24), UInt8(truncatingIfNeeded: low >> 16), UInt8(truncatingIfNeeded: low >> 8),
                UInt8(truncatingIfNeeded: low)
            ))
    }
}

/// New correlation ids: the lowercase text of a version 7 UUID (RFC 9562), made without a system
/// call, for the ids a request gets when it brings none.
///
/// The Unix time in milliseconds, then 74 bits: 12 drawn once per process at random, and a counter
/// (RFC 9562 section 6.2 allows one there) put through a permutation of the 62-bit numbers keyed at
/// random per process. Ids never repeat within a process and differ between processes, and without
/// the process's keys two ids do not show how many requests came in between. A correlation id is
/// not a secret (clients choose their own), so it needs to be unique, not unpredictable; and a
/// status read makes one for every request, where `UUID.timeOrdered` (two `getrandom` calls) and
/// its `uuidString` cost 6% of the read's profile.
public enum CorrelationID {
    private static let keys: (prefix: UInt64, rounds: [UInt64]) = {
        var random = SystemRandomNumberGenerator()
        return (random.next(), (0..<4).map { _ in random.next() })
    }()
    private static let counter = Atomic<UInt64>(0)

    /// `value`'s low 62 bits through a four-round Feistel network on two 31-bit halves, each round
    /// mixing one half with a round key: one-to-one, so distinct counts stay distinct.
    static func permuted(_ value: UInt64, roundKeys: [UInt64] = keys.rounds) -> UInt64 {
        let half: UInt64 = (1 << 31) - 1
        var left = (value >> 31) & half
        var right = value & half
        for key in roundKeys {
            var mixed = (right ^ key) &* 0xBF58_476D_1CE4_E5B9
            mixed ^= mixed >> 31
            mixed = mixed &* 0x94D0_49BB_1331_11EB
            mixed ^= mixed >> 29
            (left, right) = (right, left ^ (mixed & half))
        }
        return (left << 31) | right
    }

    /// A new id, `xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx`.
    public static func next(at date: Date = Date()) -> String {
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        let count = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        let high = (milliseconds << 16) | 0x7000 | (keys.prefix & 0x0FFF)
        let low = permuted(count) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { text in
            var at = 0
            for nibble in 0..<32 {
                if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                    text[at] = UInt8(ascii: "-")
                    at += 1
                }
                let word = nibble < 16 ? high : low
                let digit = UInt8(truncatingIfNeeded: word >> (60 - 4 * UInt64(nibble % 16))) & 0x0F
                text[at] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
                at += 1
            }
            return at
        }
    }
}
