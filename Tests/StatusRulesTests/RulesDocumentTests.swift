import Foundation
import Testing

@testable import StatusRules

@Suite("Rules documents: reading, writing, round trips")
struct RulesDocumentTests {
    @Test("sundsvall.yaml carries the real Byggr and Ecos tables and validates cleanly")
    func sundsvallFile() throws {
        let document = try tenantDocument("sundsvall")
        #expect(document.tenant == "sundsvall")
        #expect(document.sources["BYGGR"]?.codes.count == 14)
        #expect(document.sources["BYGGR"]?.codes["KOMPREV"] == "Kompletterad")
        #expect(document.sources["BYGGR"]?.codes["Avslutat"] == "Ärendet arkiveras")
        #expect(document.sources["ECOS"]?.codes["Begäran om komplettering"] == "Väntar på komplettering")
        let validation = RulesValidator.validate(document)
        #expect(validation.findings.isEmpty, "\(validation.findings)")
        #expect(validation.tests.allSatisfy { $0.passed })
    }

    @Test("bergen.yaml maps DiBK milestones and outcomes and validates cleanly")
    func bergenFile() throws {
        let document = try tenantDocument("bergen")
        #expect(document.country == "NO")
        let snapshot = try RuleSnapshot.compile(document, version: 1)
        #expect(snapshot.map(source: "DIBK", code: "MB").status?.name == "Venter på søker")
        #expect(snapshot.map(source: "DIBK", code: "UTFALL:VEDTAK").status?.name == "Vedtak fattet")
        #expect(RulesValidator.validate(document).findings.isEmpty)
    }

    @Test("YAML export and re-import gives the same document, and the export is stable")
    func yamlRoundTrip() throws {
        for name in ["sundsvall", "bergen"] {
            let document = try tenantDocument(name)
            let exported = document.yaml()
            let reimported = try RulesDocument.decode(yaml: exported)
            #expect(reimported == document)
            #expect(reimported.yaml() == exported)
            #expect(exported.hasPrefix("tenant: \(name)\n"))
            #expect(exported.contains("Väntar på komplettering") || exported.contains("Venter på søker"))
        }
    }

    @Test("JSON round trip gives the same document and canonical JSON ignores key order")
    func jsonRoundTrip() throws {
        let document = try tenantDocument("sundsvall")
        let decoded = try RulesDocument.decode(json: document.json())
        #expect(decoded == document)
        #expect(decoded.canonicalJSON() == document.canonicalJSON())
    }

    @Test("an unknown key is an error with its path, not silently ignored")
    func unknownKey() throws {
        let yaml = """
            tenant: x
            displayName: X
            country: SE
            timeZone: Europe/Stockholm
            statuses: [{name: A, category: C, initial: true}]
            transition: {default: deny}
            """
        #expect {
            try RulesDocument.decode(yaml: yaml)
        } throws: { error in
            let finding = (error as? RulesDecodingError)?.finding
            return finding?.path == "transition" && finding?.message.contains("unknown key") == true
        }
    }

    @Test("a missing required field names its path")
    func missingField() throws {
        let yaml = """
            tenant: x
            displayName: X
            country: SE
            timeZone: Europe/Stockholm
            statuses: [{name: A, initial: true}]
            """
        #expect {
            try RulesDocument.decode(yaml: yaml)
        } throws: { error in
            (error as? RulesDecodingError)?.finding.path == "statuses[0].category"
        }
    }

    @Test("unmapped policy reads both forms")
    func unmappedPolicy() throws {
        let yaml = """
            tenant: x
            displayName: X
            country: SE
            timeZone: Europe/Stockholm
            categories: [C]
            statuses: [{name: A, category: C, initial: true}]
            sources:
              S1: {unmapped: reject, codes: {a: A}}
              S2: {unmapped: {default: A}, codes: {}}
            """
        let document = try RulesDocument.decode(yaml: yaml)
        #expect(document.sources["S1"]?.unmapped == .reject)
        #expect(document.sources["S2"]?.unmapped == .defaultStatus("A"))
    }
}
