/// A Norwegian national identity number: fødselsnummer or D-number, eleven digits with two
/// mod-11 check digits.
public struct NorwegianIdentityNumber: Sendable, Hashable {
    /// The eleven digits.
    public let digits: String

    private static let firstWeights = [3, 7, 6, 1, 8, 9, 4, 5, 2]
    private static let secondWeights = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]

    /// Parses and checks a number.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 11, bytes.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let d = bytes.map { Int($0 - 0x30) }
        guard let k1 = Self.checkDigit(d[0..<9], Self.firstWeights), k1 == d[9],
            let k2 = Self.checkDigit(d[0..<10], Self.secondWeights), k2 == d[10]
        else { return nil }
        // D-numbers add 4 to the first digit of the day; both forms must name a real day of a month.
        let day = (d[0] >= 4 ? d[0] - 4 : d[0]) * 10 + d[1]
        let month = d[2] * 10 + d[3]
        guard (1...31).contains(day), (1...12).contains(month) || (41...52).contains(month) || (81...92).contains(month)
        else { return nil }
        self.digits = text
    }

    private static func checkDigit(_ digits: ArraySlice<Int>, _ weights: [Int]) -> Int? {
        let sum = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
        let remainder = 11 - sum % 11
        switch remainder {
        case 11: return 0
        case 10: return nil  // no valid number has this remainder
        default: return remainder
        }
    }
}
