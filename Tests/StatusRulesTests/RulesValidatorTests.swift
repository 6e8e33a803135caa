import Foundation
import Testing

@testable import StatusRules

@Suite("Validation reports every finding at once, with its path")
struct RulesValidatorTests {
    @Test("a document broken in many places reports each place")
    func everyFindingAtOnce() {
        var document = sampleDocument()
        document.sources["BYGGR"]!.codes["KOMPREV"] = "Kompleterad"  // typo: unknown status
        document.statuses[1].category = "Okänd"  // unknown category
        document.statuses[0].initial = false
        document.transitions.rules.append(TransitionRule(from: "Arkiv", to: ["Inskickat"]))
        document.transitions.rules.append(TransitionRule(from: "Klart", to: ["Inskickat"]))  // final with moves (duplicate too)
        document.roles["portal"]!.append("status:write")
        document.jwtIssuers = [JWTIssuerDefinition(issuer: "https://idp", audience: "statusbro", jwks: .object(["keys": .string("x")]))]
        document.tests = [.mapping(name: nil, source: "BYGGR", code: "UNDER", expect: .status("Klart", category: nil))]

        let findings = RulesValidator.validate(document).findings
        let paths = Set(findings.errors.map(\.path))
        #expect(paths.contains("sources.BYGGR.codes.KOMPREV"))
        #expect(paths.contains("statuses[1].category"))
        #expect(paths.contains("statuses"))  // no initial status
        #expect(paths.contains("transitions.rules[1].from"))
        #expect(paths.contains("transitions.rules[2].to"))
        #expect(paths.contains("roles.portal[1]"))
        #expect(paths.contains("jwtIssuers[0].jwks"))
        #expect(paths.contains("tests[0]"))
        let komprev = findings.first { $0.path == "sources.BYGGR.codes.KOMPREV" }
        #expect(komprev?.code == "UNKNOWN_STATUS")
        #expect(komprev?.pointer == "/sources/BYGGR/codes/KOMPREV")
    }

    @Test("warnings do not block: a status no code reaches")
    func warnings() {
        var document = sampleDocument()
        document.statuses.append(StatusDefinition(name: "Vilande", category: "Upplysning"))
        let validation = RulesValidator.validate(document)
        #expect(validation.isValid)
        #expect(validation.findings.warnings.map(\.path) == ["statuses[4]"])
    }

    @Test("a scoped permission must name a source of the document")
    func scopedPermission() {
        var document = sampleDocument()
        document.roles["ecos"] = ["events:write:ECOS"]
        let findings = RulesValidator.validate(document).findings.errors
        #expect(findings.map(\.path) == ["roles.ecos[0]"])
    }

    @Test("an invalid tenant id and time zone are errors")
    func identity() {
        var document = sampleDocument()
        document.tenant = "Sundsvall Kommun"
        document.timeZone = "Europe/Sundsvall"
        let paths = RulesValidator.validate(document).findings.errors.map(\.path)
        #expect(paths == ["tenant", "timeZone"])
    }

    @Test("compile refuses an invalid document and lists its errors")
    func compileRefuses() {
        var document = sampleDocument()
        document.sources["BYGGR"]!.codes["X"] = "Nowhere"
        #expect(throws: RulesInvalidError.self) { try RuleSnapshot.compile(document, version: 2) }
    }

    @Test("a well-formed EC and RSA JWKS passes the structural check")
    func jwksShape() {
        let good: JSONValue = .object([
            "keys": .array([
                .object([
                    "kty": .string("EC"), "crv": .string("P-256"), "x": .string("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"),
                    "y": .string("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"),
                ]),
                .object([
                    "kty": .string("RSA"),
                    "n": .string(
                        "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"
                    ), "e": .string("AQAB"),
                ]),
            ])
        ])
        #expect(JWKSShape.problems(in: good).isEmpty)
    }
}
