/// A Norwegian national identity number: fødselsnummer or D-number (also H-numbers and the
/// synthetic test numbers of NAV and Skatteetaten), eleven digits `DDMMYY` + individnummer `III`
/// + two mod-11 check digits, naming a date that exists.
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
        guard Self.firstCheckDigitHolds(d), let k2 = Self.checkDigit(d[0..<10], Self.secondWeights), k2 == d[10],
            Self.dateExists(d)
        else { return nil }
        self.digits = text
    }

    /// The first check digit, under the rule Skatteetaten announced for numbers issued from 2032:
    /// the weighted sum of the first ten digits (k1 weighted 1) may leave remainder 0, 1, 2 or 3,
    /// where before only 0 was issued. Every number valid under the old rule stays valid, and the
    /// unchanged second check digit still catches every single-digit error
    /// (skatteetaten.no, "Nye fødselsnummer og d-nummer fra 2032"; NAV's fnrvalidator does the same).
    private static func firstCheckDigitHolds(_ d: [Int]) -> Bool {
        let sum = zip(d[0..<10], firstWeights + [1]).reduce(0) { $0 + $1.0 * $1.1 }
        return sum % 11 <= 3
    }

    /// D-numbers add 4 to the first digit of the day; H-numbers (and NAV's synthetic numbers) 4 to
    /// the first digit of the month, Skatteetaten's synthetic (Tenor) numbers 8. What remains must
    /// be a real day: the century matters only for 29 February of year 00 (individnummer 000–499:
    /// 1900, not a leap year; 500–999: 2000).
    private static func dateExists(_ d: [Int]) -> Bool {
        var day = d[0] * 10 + d[1]
        if day > 40 { day -= 40 }
        var month = d[2] * 10 + d[3]
        if (81...92).contains(month) {
            month -= 80
        } else if (41...52).contains(month) {
            month -= 40
        }
        guard (1...12).contains(month) else { return false }
        let yy = d[4] * 10 + d[5]
        let individual = d[6] * 100 + d[7] * 10 + d[8]
        let year = yy == 0 && individual < 500 ? 1900 : 2000 + yy
        return (1...CivilTime.daysInMonth(year: year, month: month)).contains(day)
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
