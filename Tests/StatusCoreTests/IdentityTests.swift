import Foundation
import Testing

@testable import StatusCore

@Suite("Identity numbers and their redaction")
struct IdentityTests {
    @Test(
        "Swedish organisation numbers: all forms of one number are the same ten digits; bad ones fail",
        arguments: [
            ("5564900008", "5564900008"), ("556490-0008", "5564900008"), ("165564900008", "5564900008"), ("16556490-0008", "5564900008"),
            ("2021005489", "2021005489"),
        ])
    func organisationNumbers(input: String, digits: String) {
        #expect(OrganisationNumber(input)?.digits == digits)
    }

    @Test(
        "invalid organisation numbers",
        arguments: ["5564900009", "556490000", "55649000081", "255564900008", "556490+0008", "55649O0008", "", "５５６４９００００８"])
    func invalidOrganisationNumbers(input: String) {
        #expect(OrganisationNumber(input) == nil)
    }

    @Test("Norwegian national identity numbers: both mod-11 check digits, D-numbers too")
    func norwegian() {
        // Fixtures computed independently (Python, from the published weights), not by this code.
        #expect(NorwegianIdentityNumber("15078610090") != nil)
        #expect(NorwegianIdentityNumber("55078610084") != nil)  // a D-number: day + 40
        #expect(NorwegianIdentityNumber("15078610091") == nil)  // second check digit wrong
        #expect(NorwegianIdentityNumber("15078610190") == nil)  // first check digit wrong
        #expect(NorwegianIdentityNumber("10068831950") == nil)  // NAV's illustrative example fails its check digits
        #expect(NorwegianIdentityNumber("1507861009") == nil)
        #expect(NorwegianIdentityNumber("1507861009a") == nil)
    }

    @Test("identity-number-like runs are masked in log text; other numbers stay")
    func redaction() {
        #expect(IdentityRedaction.redact("fnr 10068831950 sent") == "fnr *********** sent")
        #expect(IdentityRedaction.redact("pnr 19121212-1212 and 121212-1212") == "pnr ********-**** and ******-****")
        #expect(IdentityRedaction.redact("CPR 010203-1234.") == "CPR ******-****.")
        #expect(IdentityRedaction.redact("version 12, port 8080, 2024-04-23") == "version 12, port 8080, 2024-04-23")
        #expect(IdentityRedaction.redact("id=123456789") == "id=123456789")
    }
}

@Suite("Time")
struct TimeTests {
    @Test("RFC 3339 instants with offsets parse; anything ambiguous or impossible does not")
    func parse() {
        #expect(RFC3339.parse("2024-04-23T12:47:17+02:00") == Date(timeIntervalSince1970: 1_713_869_237))
        #expect(RFC3339.parse("2024-04-23T10:47:17Z") == Date(timeIntervalSince1970: 1_713_869_237))
        #expect(RFC3339.parse("2024-04-23T10:47:17.5z") == Date(timeIntervalSince1970: 1_713_869_237.5))
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") != nil)
        for bad in [
            "2023-02-29T00:00:00Z", "2024-04-23T12:47:17", "2024-04-23 12:47:17Z", "2024-13-01T00:00:00Z", "2024-04-23T24:00:00Z",
            "2024-04-23T12:47:17+0200", "yesterday", "2024-04-23T12:47:17Z trailing", "2024-04-23T12:47:17.Z",
        ] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("formatting in UTC keeps milliseconds only when there are some")
    func format() {
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_713_869_237)) == "2024-04-23T10:47:17Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_713_869_237.25)) == "2024-04-23T10:47:17.250Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
    }

    @Test("tenant time: yyyy-MM-dd HH:mm in the tenant's zone, across daylight saving")
    func tenantTime() {
        let stockholm = TimeZone(identifier: "Europe/Stockholm")!
        #expect(CivilTime(RFC3339.parse("2024-04-23T10:47:17Z")!, in: stockholm).minuteString == "2024-04-23 12:47")
        #expect(CivilTime(RFC3339.parse("2024-01-15T23:30:00Z")!, in: stockholm).minuteString == "2024-01-16 00:30")
        #expect(CivilTime(RFC3339.parse("2024-03-31T00:59:00Z")!, in: stockholm).minuteString == "2024-03-31 01:59")
        #expect(CivilTime(RFC3339.parse("2024-03-31T01:00:00Z")!, in: stockholm).minuteString == "2024-03-31 03:00")
    }
}
