import Foundation
import StatusRules

/// The repository's root, found from this file's place in it.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Reads `tenants/<name>.yaml`.
func tenantDocument(_ name: String) throws -> RulesDocument {
    let text = try String(contentsOf: repositoryRoot.appendingPathComponent("tenants/\(name).yaml"), encoding: .utf8)
    return try RulesDocument.decode(yaml: text)
}

/// A small valid document to mutate in tests.
func sampleDocument() -> RulesDocument {
    RulesDocument(
        tenant: "testkommun", displayName: "Testkommun", country: "SE", timeZone: "Europe/Stockholm",
        categories: ["Mottagningskvittens", "Upplysning", "Beslut", "Kompletteringsbegäran"],
        statuses: [
            StatusDefinition(name: "Inskickat", category: "Mottagningskvittens", initial: true),
            StatusDefinition(name: "Under behandling", category: "Upplysning"),
            StatusDefinition(name: "Väntar på komplettering", category: "Kompletteringsbegäran"),
            StatusDefinition(name: "Klart", category: "Beslut", final: true),
        ],
        sources: [
            "BYGGR": SourceDefinition(codes: [
                "ANM": "Inskickat", "UNDER": "Under behandling", "KOMP": "Väntar på komplettering", "UAB": "Klart",
            ])
        ],
        transitions: TransitionPolicy(default: .allow, rules: [TransitionRule(from: "Klart", to: [])]),
        roles: ["portal": ["status:read"], "byggr": ["events:write:BYGGR"]]
    )
}
