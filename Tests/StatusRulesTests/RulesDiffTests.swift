import Foundation
import Testing

@testable import StatusRules

@Suite("Diffs between releases, one row per changed entry")
struct RulesDiffTests {
    @Test("a changed mapping, an added code and a removed role are three rows")
    func rows() throws {
        let old = try tenantDocument("sundsvall")
        var new = old
        new.sources["BYGGR"]!.codes["KOMPREV"] = "Under behandling"
        new.sources["BYGGR"]!.codes["NYKOD"] = "Inskickat"
        new.roles["auditor"] = nil
        let changes = RulesDiff.changes(from: old, to: new)
        #expect(changes.count == 3)
        #expect(
            changes.contains(
                RulesChange(
                    path: "sources.BYGGR.codes.KOMPREV", change: .changed, old: .string("Kompletterad"), new: .string("Under behandling"))))
        #expect(changes.contains(RulesChange(path: "sources.BYGGR.codes.NYKOD", change: .added, old: nil, new: .string("Inskickat"))))
        #expect(changes.contains { $0.path == "roles.auditor" && $0.change == .removed })
    }

    @Test("identical documents have no diff; the first release adds everything")
    func edges() throws {
        let document = try tenantDocument("sundsvall")
        #expect(RulesDiff.changes(from: document, to: document).isEmpty)
        let initial = RulesDiff.changes(from: nil, to: document)
        #expect(initial.allSatisfy { $0.change == .added })
        #expect(initial.count == document.auditEntries().count)
    }
}
