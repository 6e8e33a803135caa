import Foundation
import Testing

@testable import StatusRules

@Suite("The compiled snapshot: mapping, transitions, permissions, tests, simulation")
struct RuleSnapshotTests {
    @Test("every Byggr and Ecos code of Sundsvall maps to the table's status")
    func sundsvallMapping() throws {
        let document = try tenantDocument("sundsvall")
        let snapshot = try RuleSnapshot.compile(document, version: 7)
        #expect(snapshot.version == 7)
        for (source, definition) in document.sources {
            for (code, status) in definition.codes {
                #expect(snapshot.map(source: source, code: code) == .mapped(snapshot.status(named: status)!, matched: true))
            }
        }
        #expect(snapshot.map(source: "BYGGR", code: "NYKOD") == .unmapped)
        #expect(snapshot.map(source: "SOLEN", code: "ANM") == .unknownSource)
        #expect(snapshot.map(source: "BYGGR", code: "KOMP").status?.category == "Kompletteringsbegäran")
    }

    @Test("a source's default status applies to unmapped codes, flagged as not matched")
    func defaultStatus() throws {
        var document = sampleDocument()
        document.sources["BYGGR"]!.unmapped = .defaultStatus("Under behandling")
        let snapshot = try RuleSnapshot.compile(document, version: 1)
        #expect(snapshot.map(source: "BYGGR", code: "NYKOD") == .mapped(snapshot.status(named: "Under behandling")!, matched: false))
    }

    @Test("transitions: default allow, explicit rules restrict their origin, final statuses stay")
    func transitions() throws {
        let snapshot = try RuleSnapshot.compile(try tenantDocument("sundsvall"), version: 1)
        func allowed(_ from: String?, _ to: String) -> Bool {
            snapshot.isTransitionAllowed(from: from.flatMap(snapshot.status(named:)), to: snapshot.status(named: to)!)
        }
        #expect(allowed(nil, "Klart"))  // a new case may start anywhere
        #expect(allowed("Inskickat", "Under behandling"))
        #expect(allowed("Klart", "Ärendet arkiveras"))
        #expect(!allowed("Klart", "Inskickat"))
        #expect(!allowed("Ärendet arkiveras", "Under behandling"))
        #expect(allowed("Ärendet arkiveras", "Ärendet arkiveras"))  // staying is not a move
    }

    @Test("default deny allows only the listed moves")
    func defaultDeny() throws {
        var document = sampleDocument()
        document.transitions = TransitionPolicy(
            default: .deny,
            rules: [
                TransitionRule(from: "Inskickat", to: ["Under behandling"]),
                TransitionRule(from: "Under behandling", to: ["Väntar på komplettering", "Klart"]),
                TransitionRule(from: "Väntar på komplettering", to: ["Under behandling"]),
            ]
        )
        let snapshot = try RuleSnapshot.compile(document, version: 1)
        let s = { snapshot.status(named: $0)! }
        #expect(snapshot.isTransitionAllowed(from: s("Inskickat"), to: s("Under behandling")))
        #expect(!snapshot.isTransitionAllowed(from: s("Inskickat"), to: s("Klart")))
        #expect(snapshot.isTransitionAllowed(from: s("Under behandling"), to: s("Klart")))
    }

    @Test("roles grant permissions; a scoped events:write covers only its source")
    func permissions() throws {
        let snapshot = try RuleSnapshot.compile(try tenantDocument("sundsvall"), version: 1)
        let byggr = snapshot.permissions(forRoles: ["byggr"])
        #expect(byggr.contains(.eventsWrite(source: "BYGGR")))
        #expect(!byggr.contains(.eventsWrite(source: "ECOS")))
        #expect(!byggr.contains(.statusRead))
        #expect(byggr.writesSomeEvents)
        let portal = snapshot.permissions(forRoles: ["oep-portal"])
        #expect(portal.contains(.statusRead) && portal.contains(.feedRead) && !portal.writesSomeEvents)
        #expect(snapshot.permissions(forRoles: ["no-such-role"]).granted.isEmpty)
        let unscoped = PermissionSet([.eventsWrite(source: nil)])
        #expect(unscoped.contains(.eventsWrite(source: "ECOS")))
    }

    @Test("the document's tests run and report expected and actual")
    func documentTests() throws {
        var document = sampleDocument()
        document.tests = [
            .mapping(
                name: "komp", source: "BYGGR", code: "KOMP", expect: .status("Väntar på komplettering", category: "Kompletteringsbegäran")),
            .mapping(name: nil, source: "BYGGR", code: "UAB", expect: .status("Under behandling", category: nil)),
            .transition(name: nil, from: "Klart", to: "Inskickat", expectAllowed: false),
        ]
        let results = RulesValidator.validate(document).tests
        #expect(results.map(\.passed) == [true, false, true])
        #expect(results[1].actual == "Klart (Beslut)")
        #expect(results[1].label == "BYGGR UAB")
    }

    @Test("simulation answers status, category, whether the move is allowed, and whether a table entry matched")
    func simulation() throws {
        let snapshot = try RuleSnapshot.compile(try tenantDocument("sundsvall"), version: 1)
        let fromKlart = snapshot.simulate(source: "BYGGR", code: "ANM", fromStatus: snapshot.status(named: "Klart"))
        #expect(
            fromKlart
                == RuleSimulation(
                    status: "Inskickat", category: "Mottagningskvittens", transitionAllowed: false, matched: true, outcome: "mapped"))
        let unmapped = snapshot.simulate(source: "BYGGR", code: "NY", fromStatus: nil)
        #expect(unmapped.outcome == "unmapped" && unmapped.status == nil && !unmapped.matched)
    }
}

@Suite("The code table behind RuleSnapshot.map")
struct CodeTableTests {
    @Test("every mapped pair of many sources is found, and look-alike pairs are not")
    func agreesWithTheDocument() throws {
        var sources: [String: SourceDefinition] = [:]
        let statuses = ["Inskickat", "Under behandling", "Klart"]
        for s in 0..<7 {
            var codes: [String: String] = [:]
            for c in 0..<300 { codes["K\(c)-\(s)"] = statuses[(c + s) % 3] }
            codes["å\(s)"] = "Klart"
            sources["SYS\(s)"] = SourceDefinition(codes: codes)
        }
        let document = RulesDocument(
            tenant: "t", displayName: "T", country: "SE", timeZone: "Europe/Stockholm", categories: ["A"],
            statuses: statuses.enumerated().map { StatusDefinition(name: $0.element, category: "A", initial: $0.offset == 0) },
            sources: sources)
        let snapshot = try RuleSnapshot.compile(document, version: 1)
        for (name, source) in sources {
            for (code, status) in source.codes {
                #expect(snapshot.map(source: name, code: code).status?.name == status)
                // Fresh strings, not the table's own.
                #expect(snapshot.map(source: String(decoding: Array(name.utf8), as: UTF8.self), code: code + "").status?.name == status)
            }
        }
        // The same bytes split differently, a code of another source, an unknown source.
        #expect(snapshot.map(source: "SYS1K", code: "0-1") == .unmapped || snapshot.map(source: "SYS1K", code: "0-1") == .unknownSource)
        #expect(snapshot.map(source: "SYS1", code: "K0-2") == .unmapped)
        #expect(snapshot.map(source: "SYS9", code: "K0-1") == .unknownSource)
        #expect(snapshot.map(source: "SYS1", code: "") == .unmapped)
    }
}
