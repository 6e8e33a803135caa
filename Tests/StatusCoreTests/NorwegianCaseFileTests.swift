import Foundation
import StatusRules
import Testing

@testable import StatusCore

@Suite("Folding a Norwegian submission")
struct NorwegianCaseFileTests {
    let shown = DisplayedStatus(status: "Mottatt", category: "Mottak", ruleVersion: 1, portalStatus: nil)

    @Test("a receipt without registrertDato or mottattDato is dated when it was recorded, never 1970")
    func undatedReceipt() {
        let recorded = Date(timeIntervalSince1970: 1_714_000_000)
        let receipt: JSONValue = .object(["metadata": .object(["innsendingReferanse": .string("AR1")]), "milepæl": .string("MS")])
        let file = NorwegianCaseFile.fold(receipt: receipt, updates: [], references: [], shown: shown, recordedAt: recorded)
        #expect(file.sistOppdatert == recorded)
        #expect(file.hendelser.map(\.tidspunkt) == [recorded, recorded])
    }

    @Test("a dated receipt keeps its own date")
    func datedReceipt() {
        let receipt: JSONValue = .object([
            "metadata": .object(["innsendingReferanse": .string("AR1")]), "registrertDato": .string("2024-05-01T10:00:00Z"),
        ])
        let file = NorwegianCaseFile.fold(receipt: receipt, updates: [], references: [], shown: shown, recordedAt: Date())
        #expect(file.sistOppdatert == RFC3339.parse("2024-05-01T10:00:00Z"))
    }
}
