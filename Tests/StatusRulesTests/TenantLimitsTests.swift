import Foundation
import Testing

@testable import StatusRules

@Suite("Request limits in the rules document")
struct TenantLimitsTests {
    @Test("limits are read from YAML, written back only when given, and a document without them keeps its bytes")
    func readAndWrite() throws {
        let yaml = """
            tenant: t
            displayName: T
            country: SE
            timeZone: Europe/Stockholm
            statuses: [{name: Inskickat, category: Upplysning, initial: true}]
            categories: [Upplysning]
            limits:
              tenant: {writes: {perSecond: 200, burst: 400}, reads: {perSecond: 1000}}
              perKey: {writes: {perSecond: 50, burst: 100}}
            """
        let document = try RulesDocument.decode(yaml: yaml)
        #expect(document.limits?.tenant.writes == RateLimit(perSecond: 200, burst: 400))
        #expect(document.limits?.tenant.reads == RateLimit(perSecond: 1000, burst: 1000))  // burst defaults to one second's worth
        #expect(document.limits?.perKey.writes == RateLimit(perSecond: 50, burst: 100))
        #expect(document.limits?.perKey.reads == nil)
        let again = try RulesDocument.decode(json: document.json())
        #expect(again == document)
        #expect(RulesValidator.validate(document).isValid)

        var without = document
        without.limits = nil
        #expect(!without.canonicalJSON().contains("limits"))
    }

    @Test("a misspelt or impossible limit is a finding at its path")
    func findings() throws {
        #expect(throws: RulesDecodingError.self) {
            _ = try RulesDocument.decode(
                json: Data(
                    #"{"tenant":"t","displayName":"T","country":"SE","timeZone":"UTC","statuses":[],"limits":{"tenant":{"write":{"perSecond":1}}}}"#
                        .utf8))
        }
        do {
            _ = try RulesDocument.decode(
                json: Data(
                    #"{"tenant":"t","displayName":"T","country":"SE","timeZone":"UTC","statuses":[],"limits":{"perKey":{"reads":{"burst":3}}}}"#
                        .utf8))
            Issue.record("a bucket without a rate was read")
        } catch {
            #expect(error.finding.path == "limits.perKey.reads.perSecond")
        }

        var document = sampleDocument()
        document.limits = TenantLimits(
            tenant: RequestLimits(reads: RateLimit(perSecond: 0, burst: 10), writes: RateLimit(perSecond: 10, burst: 20)),
            perKey: RequestLimits(writes: RateLimit(perSecond: 50, burst: 0)))
        let findings = RulesValidator.validate(document).findings
        #expect(Set(findings.errors.map(\.path)) == ["limits.tenant.reads.perSecond", "limits.perKey.writes.burst"])
        #expect(findings.errors.allSatisfy { $0.code == "OUT_OF_RANGE" })
        #expect(findings.warnings.contains { $0.path == "limits.perKey.writes.perSecond" && $0.code == "NEVER_REACHED" })
        #expect(findings.first { $0.path == "limits.perKey.writes.burst" }?.pointer == "/limits/perKey/writes/burst")
    }
}
