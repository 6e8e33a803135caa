import Foundation
import StatusRules
import Testing

@testable import StatusCore

@Suite("Request validation")
struct ValidationTests {
    func body(_ members: [String: JSONValue]) -> JSONValue { .object(members) }

    let good: [String: JSONValue] = [
        "messageId": .string("8540D774-4863-4D2B-B788-4ECB19412E85"), "sourceSystem": .string("BYGGR"),
        "externalCaseId": .string("BYGG 2024-000123"), "caseType": .string("Nybyggnadskarta"), "status": .string("KOMP"),
        "occurredAt": .string("2024-04-23T12:47:17+02:00"), "organisationNumber": .string("556490-0008"),
    ]

    @Test("a good event is read, the message id normalised and the organisation number stored as ten digits")
    func goodEvent() throws {
        let event = try EventSubmission(json: body(good))
        #expect(event.messageId == "8540d774-4863-4d2b-b788-4ecb19412e85")
        #expect(event.organisationNumber?.digits == "5564900008")
        #expect(event.changeType == nil)
    }

    @Test("an event with only an invalid organisation number is INVALID_IDENT-shaped")
    func identOnly() {
        var members = good
        members["organisationNumber"] = .string("5564900009")
        #expect {
            try EventSubmission(json: body(members))
        } throws: { error in
            guard case StatusError.validationFailed(let errors) = error else { return false }
            return errors.count == 1 && errors[0].isIdentityNumber && errors[0].pointer == "/organisationNumber"
        }
    }

    @Test("overlong ids, control characters, wrong types and non-objects are each reported")
    func hostileFields() {
        var members = good
        members["externalCaseId"] = .string(String(repeating: "x", count: 201))
        members["caseType"] = .string("a\u{0}b")
        members["status"] = .array([])
        #expect {
            try EventSubmission(json: body(members))
        } throws: { error in
            guard case StatusError.validationFailed(let errors) = error else { return false }
            return Set(errors.map(\.pointer)) == ["/externalCaseId", "/caseType", "/status"]
        }
        #expect(throws: StatusError.self) { try EventSubmission(json: .array([])) }
    }

    @Test("API keys name their tenant; key ids too; anything else is not ours")
    func apiKeys() {
        let tenant = TenantID("sundsvall")!
        let (keyId, key) = APIKeyFormat.generate(for: tenant)
        #expect(APIKeyFormat.tenant(ofKey: key) == tenant)
        #expect(APIKeyFormat.tenant(ofKeyId: keyId) == tenant)
        #expect(key.count > 50)
        #expect(APIKeyFormat.tenant(ofKey: "sbk_Sundsvall_" + String(repeating: "a", count: 43)) == nil)
        #expect(APIKeyFormat.tenant(ofKey: "sbk_sundsvall_short") == nil)
        #expect(APIKeyFormat.tenant(ofKey: "eyJhbGciOiJIUzI1NiJ9.e30.x") == nil)
        #expect(APIKeyFormat.generate(for: tenant).key != key)
    }
}

@Suite("Rules impact on existing cases")
struct ImpactTests {
    @Test("cases whose shown status differs are counted per code; a code that becomes unmapped keeps its recorded status")
    func impact() throws {
        var document = RulesDocument(
            tenant: "t", displayName: "T", country: "SE", timeZone: "Europe/Stockholm", categories: ["C", "D"],
            statuses: [StatusDefinition(name: "A", category: "C", initial: true), StatusDefinition(name: "B", category: "D")],
            sources: ["S": SourceDefinition(codes: ["x": "A", "y": "A", "z": "B"])])
        let old = try RuleSnapshot.compile(document, version: 1)
        document.sources["S"]!.codes["x"] = "B"
        document.sources["S"]!.codes["z"] = nil
        let new = try RuleSnapshot.compile(document, version: 2)
        let usage = [
            CodeUsage(sourceSystem: "S", rawStatus: "x", recordedStatus: "A", recordedCategory: "C", cases: 30),
            CodeUsage(sourceSystem: "S", rawStatus: "y", recordedStatus: "A", recordedCategory: "C", cases: 5),
            CodeUsage(sourceSystem: "S", rawStatus: "z", recordedStatus: "B", recordedCategory: "D", cases: 7),
        ]
        let (impact, remaps) = RulesAdministration.impact(of: usage, from: old, to: new)
        #expect(impact.casesChangingStatus == 30)
        #expect(impact.byCode.map(\.code) == ["x"])
        #expect(remaps == [CodeRemap(sourceSystem: "S", rawStatus: "x", recordedStatus: "A", status: "B", category: "D")])
    }
}
