import Foundation

/// Date-times that may come without an offset, read in a zone the sending document names (NAV:
/// "dersom du ikke oppgir sone, vil tidspunktet bli tolket som … Europe/Oslo"), and calendar dates.
public enum LocalDateTime {
    /// An RFC 3339 instant, or a date-time without offset (`2022-09-17T21:00:14`, up to nine
    /// fraction digits) read in `zone` as `java.time` reads a local date-time: in the autumn overlap
    /// the earlier offset; in the spring gap the time is moved later by the gap's length.
    public static func parse(_ text: String, zone: TimeZone) -> Date? {
        if let instant = RFC3339.parse(text) { return instant }
        let b = Array(text.utf8)
        guard b.count >= 19, b.count <= 29 else { return nil }
        // The same text with a Z is an RFC 3339 instant exactly when the text is a valid local date-time.
        guard let asUTC = RFC3339.parse(text + "Z") else { return nil }
        let seconds = asUTC.timeIntervalSince1970
        // The offsets in force a day either side: the moment is one of them, or in the gap between.
        let before = zone.secondsFromGMT(for: Date(timeIntervalSince1970: seconds - 86_400))
        let after = zone.secondsFromGMT(for: Date(timeIntervalSince1970: seconds + 86_400))
        for offset in [before, after] {
            let candidate = Date(timeIntervalSince1970: seconds - Double(offset))
            if zone.secondsFromGMT(for: candidate) == offset { return candidate }
        }
        return Date(timeIntervalSince1970: seconds - Double(before))
    }
}

/// A calendar date, `YYYY-MM-DD`, that exists.
public struct CalendarDate: Sendable, Hashable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Parses `YYYY-MM-DD` (years 1000–9999).
    public init?(_ text: String) {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard (0x30...0x39).contains(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), year >= 1000, let month = number(5..<7), let day = number(8..<10), (1...12).contains(month),
            (1...CivilTime.daysInMonth(year: year, month: month)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        String(year) + "-" + RFC3339.pad(month) + "-" + RFC3339.pad(day)
    }
}
