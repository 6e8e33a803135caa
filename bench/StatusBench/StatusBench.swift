import Foundation
import StatusRules

/// In-process benchmarks of the rules engine, run by `bench/run` in release mode.
///
/// `statusbro-bench lookups`  — mapping lookups per second on one core over a realistic table.
/// `statusbro-bench compile`  — compiling 1,000 tenants of 200 codes each.
/// `statusbro-bench json`     — parsing an event body: the hand-written parser against Foundation's decoder.
@main
struct StatusBench {
    static func main() throws {
        let mode = CommandLine.arguments.dropFirst().first ?? "lookups"
        switch mode {
        case "lookups": try lookups()
        case "compile": try compile()
        case "json": try json()
        default:
            FileHandle.standardError.write(Data("usage: statusbro-bench lookups|compile|json\n".utf8))
            exit(2)
        }
    }

    /// A document like a large municipality's: `sources` source systems with `codes` codes each.
    static func document(tenant: String, sources: Int, codes: Int) -> RulesDocument {
        let statuses = ["Inskickat", "Under behandling", "Väntar på komplettering", "Kompletterad", "Klart", "Ärendet arkiveras"]
        var table: [String: SourceDefinition] = [:]
        for s in 0..<sources {
            var mapping: [String: String] = [:]
            for c in 0..<codes { mapping["KOD-\(s)-\(c)"] = statuses[(c * 7 + s) % statuses.count] }
            table["SYSTEM\(s)"] = SourceDefinition(codes: mapping)
        }
        return RulesDocument(
            tenant: tenant, displayName: tenant, country: "SE", timeZone: "Europe/Stockholm",
            categories: ["Mottagningskvittens", "Upplysning", "Kompletteringsbegäran", "Svar", "Beslut"],
            statuses: [
                StatusDefinition(name: statuses[0], category: "Mottagningskvittens", initial: true),
                StatusDefinition(name: statuses[1], category: "Upplysning"),
                StatusDefinition(name: statuses[2], category: "Kompletteringsbegäran"),
                StatusDefinition(name: statuses[3], category: "Svar"),
                StatusDefinition(name: statuses[4], category: "Beslut"),
                StatusDefinition(name: statuses[5], category: "Upplysning", final: true),
            ],
            sources: table)
    }

    static func lookups() throws {
        let sources = 5
        let codes = 400
        let snapshot = try RuleSnapshot.compile(document(tenant: "bench", sources: sources, codes: codes), version: 1)
        // Fresh String instances, as a request would bring them (not the table's own keys).
        var keys: [(String, String)] = []
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<65_536 {
            let s = Int.random(in: 0..<sources, using: &generator)
            let c = Int.random(in: 0..<(codes + codes / 10), using: &generator)  // ~9% unmapped
            keys.append(
                (String(decoding: Array("SYSTEM\(s)".utf8), as: UTF8.self), String(decoding: Array("KOD-\(s)-\(c)".utf8), as: UTF8.self)))
        }
        let iterations = 50_000_000
        var mapped = 0
        let start = ContinuousClock.now
        for i in 0..<iterations {
            let (source, code) = keys[i & 65_535]
            if case .mapped = snapshot.map(source: source, code: code) { mapped &+= 1 }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(
            "{\"lookups\":\(iterations),\"seconds\":\(seconds),\"perSecond\":\(Double(iterations) / seconds),\"codes\":\(sources * codes),\"mapped\":\(mapped)}"
        )
    }

    static func compile() throws {
        let documents = (0..<1000).map { document(tenant: "tenant-\($0)", sources: 2, codes: 100) }
        let start = ContinuousClock.now
        var snapshots: [RuleSnapshot] = []
        for (index, document) in documents.enumerated() { snapshots.append(try RuleSnapshot.compile(document, version: index + 1)) }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("{\"tenants\":\(snapshots.count),\"codesPerTenant\":200,\"seconds\":\(seconds)}")
    }

    static func json() throws {
        let body = Data(
            #"{"messageId":"8540d774-4863-4d2b-b788-4ecb19412e85","sourceSystem":"BYGGR","externalCaseId":"BYGG 2024-000123","flowInstanceId":"771234","caseType":"Nybyggnadskarta","organisationNumber":"5564900008","status":"KOMP","occurredAt":"2024-04-23T12:47:17+02:00"}"#
                .utf8)
        let iterations = 200_000
        func time(_ parse: () throws -> JSONValue) rethrows -> Double {
            let start = ContinuousClock.now
            for _ in 0..<iterations { _ = try parse() }
            let elapsed = ContinuousClock.now - start
            return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) / Double(iterations) * 1e6
        }
        let decoder = JSONDecoder()
        let foundation = try time { try decoder.decode(JSONValue.self, from: body) }
        let ours = try time { try JSONValue.parse(body) }
        print("{\"bytes\":\(body.count),\"foundationMicroseconds\":\(foundation),\"parserMicroseconds\":\(ours)}")
    }
}
