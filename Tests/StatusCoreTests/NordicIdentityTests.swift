import Foundation
import Testing

@testable import StatusCore

/// The expected answers come from `fnr.py`/`cpr.py`, written from the published rules
/// independently of this code, and from NAV's fnrvalidator and python-stdnum test numbers.
@Suite("Norwegian fødselsnummer/D-numbers and Danish CPR numbers")
struct NordicIdentityTests {
    @Test(
        "valid Norwegian numbers: fødselsnummer, leap days, an 11 that becomes 0, D-, H- and synthetic numbers, and 2032's first check digits",
        arguments: [
            "13097248022", "29029648784", "29020075838", "15021951940", "53097248016", "13527248013", "10915596784", "68467038838",
            "50846202355", "30108299939", "02013299911", "70108299922", "15078610090", "55078610084",
        ])
    func validNorwegian(number: String) {
        #expect(NorwegianIdentityNumber(number)?.digits == number)
    }

    @Test(
        "invalid Norwegian numbers: NAV's own example, wrong check digits, impossible dates, wrong shapes",
        arguments: [
            "10068831950",  // the NAV document's example: its first check digit should be 7
            "13097248032", "13097248023", "15078610091", "15078610190",  // a check digit wrong
            "31027248066",  // check digits right, 31 February
            "29020012380",  // check digits right, 29.02.1900 (individnummer below 500)
            "32127248022", "13137248022",  // day 32, month 13
            "1234567890", "123456789101", "1234567891A", "130972 48022", "",
        ])
    func invalidNorwegian(number: String) {
        #expect(NorwegianIdentityNumber(number) == nil)
    }

    static let today = (year: 2025, month: 6, day: 1)

    @Test(
        "valid CPR numbers, with and without the hyphen; the seventh digit picks the century",
        arguments: [
            ("1111111111", "1111111111", 1911), ("111111-1111", "1111111111", 1911), ("211062-5629", "2110625629", 1862),
            ("2110620629", "2110620629", 1962), ("290200-4000", "2902004000", 2000), ("010158-5000", "0101585000", 1858),
            ("311299-9000", "3112999000", 1999),
        ])
    func validCPR(text: String, digits: String, year: Int) {
        let number = DanishCPRNumber(text, today: Self.today)
        #expect(number?.digits == digits)
        #expect(number?.birthDate.year == year)
    }

    @Test(
        "invalid CPR numbers: impossible or future dates, wrong shapes (there is no mod-11 check)",
        arguments: [
            "290200-3000",  // 1900 has no 29 February
            "511062-5629", "311162-1234", "011362-1234", "000162-1234",  // day 51, 31 November, month 13, day 00
            "2110525629", "010136-9000",  // 2052 and 2036: not born yet
            "21106256290", "211062 5629", "211062/5629", "21106-25629", "21106a5629", "",
        ])
    func invalidCPR(text: String) {
        #expect(DanishCPRNumber(text, today: Self.today) == nil)
    }

    @Test("a CPR number born today is valid; tomorrow's is not")
    func cprToday() {
        #expect(DanishCPRNumber("010625-4000", today: Self.today) != nil)
        #expect(DanishCPRNumber("020625-4000", today: Self.today) == nil)
    }

    @Test("the NAV document's fnr and every CPR form are masked in log text")
    func redaction() {
        #expect(IdentityRedaction.redact("personIdent=13097248022") == "personIdent=***********")
        #expect(IdentityRedaction.redact("{\"Identifikation\":\"211062-5629\"}") == "{\"Identifikation\":\"******-****\"}")
        #expect(
            IdentityRedaction.redact("/star/v1/Indkaldelse/historik?identifikation=2110625629")
                == "/star/v1/Indkaldelse/historik?identifikation=**********")
    }
}

@Suite("Date-times without an offset, read in a zone")
struct LocalDateTimeTests {
    static let oslo = TimeZone(identifier: "Europe/Oslo")!

    @Test("an offset given wins; without one the time is Oslo's, winter and summer")
    func zones() {
        #expect(LocalDateTime.parse("2022-09-17T21:00:14+01:00", zone: Self.oslo) == RFC3339.parse("2022-09-17T20:00:14Z"))
        #expect(LocalDateTime.parse("2022-09-17T21:00:14", zone: Self.oslo) == RFC3339.parse("2022-09-17T19:00:14Z"))
        #expect(LocalDateTime.parse("2022-01-17T21:00:14.5", zone: Self.oslo) == RFC3339.parse("2022-01-17T20:00:14.5Z"))
    }

    @Test("in the autumn overlap the earlier offset; in the spring gap the time moves on by the gap, as java.time does")
    func transitions() {
        // 30 October 2022: 03:00 summer time became 02:00 winter time, so 02:30 happened twice.
        #expect(LocalDateTime.parse("2022-10-30T02:30:00", zone: Self.oslo) == RFC3339.parse("2022-10-30T00:30:00Z"))
        // 27 March 2022: 02:00 became 03:00, so 02:30 never happened; it is read as 03:30 summer time.
        #expect(LocalDateTime.parse("2022-03-27T02:30:00", zone: Self.oslo) == RFC3339.parse("2022-03-27T01:30:00Z"))
    }

    @Test("date-only, a zone name in brackets, impossible dates and other shapes are refused")
    func refused() {
        for bad in [
            "2022-09-17", "2022-09-17T21:00:14[Europe/Oslo]", "2022-02-30T21:00:14", "2022-09-17 21:00:14", "2022-09-17T21:00",
            "2022-09-17T21:00:14.1234567890", "2022-09-17T21:00:14+0100",
        ] {
            #expect(LocalDateTime.parse(bad, zone: Self.oslo) == nil, "\(bad)")
        }
    }

    @Test("calendar dates must exist")
    func dates() {
        #expect(CalendarDate("2022-03-01")?.description == "2022-03-01")
        #expect(CalendarDate("2024-02-29") != nil)
        for bad in ["2023-02-29", "2022-13-01", "2022-3-01", "0999-01-01", "2022-03-01T00:00:00Z"] {
            #expect(CalendarDate(bad) == nil, "\(bad)")
        }
    }
}
