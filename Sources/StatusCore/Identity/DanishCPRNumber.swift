import Foundation

/// A Danish CPR number (personnummer), stored as its ten digits: `DDMMYY-SSSS` or `DDMMYYSSSS`,
/// naming a birth date that exists and is not in the future.
///
/// There is no modulus-11 check: the CPR office has issued numbers that fail it since
/// 1 October 2007, for birth dates of any year. The century comes from the seventh digit
/// (CPR-kontoret's table, as python-stdnum's `dk.cpr` reads it).
public struct DanishCPRNumber: Sendable, Hashable {
    /// The ten digits.
    public let digits: String
    /// The birth date the number names.
    public let birthDate: (year: Int, month: Int, day: Int)

    /// Parses and checks a number; `today` is the civil date the birth date may not be after.
    public init?(_ text: String, today: (year: Int, month: Int, day: Int)) {
        var bytes = Array(text.utf8)
        if bytes.count == 11, bytes[6] == UInt8(ascii: "-") { bytes.remove(at: 6) }
        guard bytes.count == 10, bytes.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let d = bytes.map { Int($0 - 0x30) }
        let day = d[0] * 10 + d[1]
        let month = d[2] * 10 + d[3]
        let yy = d[4] * 10 + d[5]
        let year = Self.century(seventh: d[6], yy: yy) + yy
        guard (1...12).contains(month), (1...CivilTime.daysInMonth(year: year, month: month)).contains(day),
            (year, month, day) <= today
        else { return nil }
        self.digits = String(decoding: bytes, as: UTF8.self)
        self.birthDate = (year, month, day)
    }

    /// Parses and checks a number against today's date in Denmark.
    public init?(_ text: String, now: Date = Date()) {
        let zone = TimeZone(identifier: "Europe/Copenhagen") ?? TimeZone(secondsFromGMT: 3600)!
        let civil = CivilTime(now, in: zone)
        self.init(text, today: (civil.year, civil.month, civil.day))
    }

    private static func century(seventh: Int, yy: Int) -> Int {
        switch seventh {
        case 4, 9: yy <= 36 ? 2000 : 1900
        case 5, 6, 7, 8: yy <= 57 ? 2000 : 1800
        default: 1900
        }
    }

    /// Equal when the digits are.
    public static func == (lhs: DanishCPRNumber, rhs: DanishCPRNumber) -> Bool { lhs.digits == rhs.digits }

    /// Hashes the digits.
    public func hash(into hasher: inout Hasher) { hasher.combine(digits) }
}
