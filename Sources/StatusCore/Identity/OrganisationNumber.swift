/// A Swedish organisation number, stored as its ten digits.
///
/// Accepted forms: `5564900008`, `556490-0008`, and the twelve-digit form with a century prefix
/// (`16`, `19`, `20`: `165564900008`). The last of the ten digits is a Luhn check digit.
public struct OrganisationNumber: Sendable, Hashable, CustomStringConvertible {
    /// The ten digits.
    public let digits: String

    /// Parses and checks a number in any accepted form.
    public init?(_ text: String) {
        var candidate = Array(text.utf8)
        if candidate.count == 11, candidate[6] == UInt8(ascii: "-") { candidate.remove(at: 6) }
        if candidate.count == 13, candidate[8] == UInt8(ascii: "-") { candidate.remove(at: 8) }
        guard candidate.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        if candidate.count == 12 {
            let century = String(decoding: candidate[0..<2], as: UTF8.self)
            guard ["16", "19", "20"].contains(century) else { return nil }
            candidate.removeFirst(2)
        }
        guard candidate.count == 10, Luhn.isValid(candidate.map { Int($0 - 0x30) }) else { return nil }
        self.digits = String(decoding: candidate, as: UTF8.self)
    }

    /// The ten digits.
    public var description: String { digits }
}

/// The Luhn (mod 10) check used by Swedish organisation and personal identity numbers.
enum Luhn {
    static func isValid(_ digits: [Int]) -> Bool {
        var sum = 0
        for (index, digit) in digits.enumerated() {
            // Weights 2,1,2,1… from the left over ten digits; the last digit has weight 1.
            let weighted = digit * (index % 2 == 0 ? 2 : 1)
            sum += weighted > 9 ? weighted - 9 : weighted
        }
        return sum % 10 == 0
    }
}
