import Foundation
import HTTPTypes
import StatusRules
import StatusTestSupport
import Testing

/// One case of `Tests/shared/moves.json`: a document and the moves the server must answer for it.
/// The console's browser test (`Tests/system/test_console_views.py`) draws the same cases, so the
/// server and what the console shows cannot disagree unnoticed.
struct SharedMovesCase: Sendable, CustomTestStringConvertible {
    let name: String
    let document: JSONValue
    let expected: JSONValue

    var testDescription: String { name }

    /// Every case of the file, each merged into the file's base document.
    static func all() throws -> [SharedMovesCase] {
        let url = TestDatabase.repositoryRoot.appendingPathComponent("Tests/shared/moves.json")
        let file = try JSONValue.parse(try Data(contentsOf: url))
        guard let base = file["document"]?.objectValue, let cases = file["cases"]?.arrayValue else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return try cases.map { entry in
            guard let name = entry["name"]?.stringValue, let statuses = entry["statuses"], let expected = entry["expect"] else {
                throw CocoaError(.fileReadCorruptFile)
            }
            var document = base
            document["statuses"] = statuses
            document["transitions"] = entry["transitions"]
            return SharedMovesCase(name: name, document: .object(document), expected: expected)
        }
    }
}

@Suite("The moves the console draws, from the cases it shares with the server")
struct SharedMovesTests {
    @Test("validate and the draft answer with the moves the case expects", arguments: try SharedMovesCase.all())
    func serverAnswers(_ shared: SharedMovesCase) async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            let body = JSONValue.object(["document": shared.document]).canonicalString
            let report = try await h.post("/admin/v1/rules/validate", key: admin, body)
            #expect(report.status == .ok)
            #expect(report.json["moves"] == shared.expected)
            #expect(try await h.request(.put, "/admin/v1/rules/draft", key: admin, json: body).json["moves"] == shared.expected)
            #expect(try await h.get("/admin/v1/rules/draft", key: admin).json["moves"] == shared.expected)
        }
    }

    @Test("the expected moves are what the engine judges events by, pair by pair", arguments: try SharedMovesCase.all())
    func engineAgrees(_ shared: SharedMovesCase) throws {
        let document = try RulesDocument.decode(value: shared.document)
        let snapshot = try #require(RulesValidator.validate(document).snapshot)
        let rows = try #require(shared.expected["statuses"]?.arrayValue)
        #expect(rows.compactMap { $0["status"]?.stringValue } == snapshot.statuses.map(\.name))
        for (from, row) in zip(snapshot.statuses, rows) {
            #expect(row["final"] == .bool(from.isFinal), "\(from.name)")
            let allowed = Set(row["to"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            for to in snapshot.statuses where to.index != from.index {
                #expect(snapshot.isTransitionAllowed(from: from, to: to) == allowed.contains(to.name), "\(from.name) → \(to.name)")
            }
        }
    }

    @Test("a release carries the moves of its document, as validating that document does")
    func releaseAnswers() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            let release = try await h.get("/admin/v1/rules", key: admin).json
            let document = try #require(release["document"])
            let report = try await h.post("/admin/v1/rules/validate", key: admin, JSONValue.object(["document": document]).canonicalString)
            #expect(release["moves"] != nil && release["moves"] == report.json["moves"])
            let archived = release["moves"]?["statuses"]?.arrayValue?.first { $0["status"] == .string("Ärendet arkiveras") }
            #expect(archived?["final"] == .bool(true) && archived?["to"] == .array([]))
            #expect(try await h.get("/admin/v1/rules/versions/1", key: admin).json["moves"] == release["moves"])
        }
    }

    @Test("a draft that cannot be read as the tenant's rules has no moves, and validating it says why")
    func unreadableDraft() async throws {
        try await Harness.run { h in
            let admin = try await h.key("sundsvall", "municipality-admin")
            let other = #"{"tenant":"bergen","displayName":"Bergen","country":"NO","timeZone":"Europe/Oslo","statuses":[]}"#
            #expect(try await h.request(.put, "/admin/v1/rules/draft", key: admin, json: other).json["moves"] == .null)
            let report = try await h.post("/admin/v1/rules/validate", key: admin, other).json
            #expect(report["moves"] == .null && report["errors"]?.arrayValue?.first?["code"] == .string("WRONG_TENANT"))
        }
    }
}
