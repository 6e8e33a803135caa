import ArgumentParser
import Foundation
import StatusCore
import StatusPostgres

/// `statusbro audit export`: the auditor's exports on the command line, the same bytes as the API.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Audit exports.", subcommands: [Export.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export the rules history or the decisions of a tenant.")

        @OptionGroup var common: CommonOptions

        @Option(help: "The tenant id.") var tenant: String
        @Option(help: "rules-history or decisions.") var kind: String = "rules-history"
        @Option(help: "csv or json.") var format: String = "csv"

        func run() async throws {
            let runtime = try Runtime(common)
            let tenant = try tenantArgument(tenant)
            guard let format = AuditExport.Format(rawValue: format) else { throw ValidationError("--format must be csv or json") }
            guard ["rules-history", "decisions"].contains(kind) else { throw ValidationError("--kind must be rules-history or decisions") }
            let kind = self.kind
            let logger = runtime.logger
            let text = try await runtime.withDatabase { settings in
                try await runtime.withStore(settings) { store in
                    let rules = RulesAdministration(store: store, registry: RulesRegistry(), logger: logger)
                    if kind == "decisions" {
                        return AuditExport.decisions(
                            try await rules.decisions(tenant: tenant, externalCaseId: nil, from: nil, to: nil), format: format)
                    }
                    return AuditExport.rulesHistory(try await rules.history(tenant: tenant, from: nil, to: nil), format: format)
                }
            }
            print(text, terminator: "")
        }
    }
}

/// `statusbro deadletters replay`: replays a tenant's pending dead letters through its active rules.
struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deadletters", abstract: "Dead letters.", subcommands: [Replay.self])

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replay pending dead letters (or one) through the active rules.")

        @OptionGroup var common: CommonOptions

        @Option(help: "The tenant id.") var tenant: String
        @Option(help: "Replay only this dead letter.") var id: String?

        func run() async throws {
            let runtime = try Runtime(common)
            let tenant = try tenantArgument(tenant)
            let id = try self.id.map { text -> UUID in
                guard let id = UUID(uuidString: text) else { throw ValidationError("--id must be a UUID") }
                return id
            }
            let logger = runtime.logger
            let results = try await runtime.withDatabase { settings in
                let backend = try PostgresBackend(settings: settings, logger: logger)
                return try await backend.withClientRunning {
                    try await backend.services.loader.reload(tenant)
                    let snapshot = try backend.services.registry.serving(tenant)
                    if let id { return [try await backend.services.deadLetters.replay(id: id, tenant: tenant, snapshot: snapshot)] }
                    return try await backend.services.deadLetters.replayAll(tenant: tenant, snapshot: snapshot)
                }
            }
            for result in results {
                print("\(result.deadLetterId)\t\(result.outcome.rawValue)\t\(result.code ?? "")\t\(result.detail ?? "")")
            }
            print("\(results.filter { $0.outcome == .accepted }.count) of \(results.count) accepted")
        }
    }
}
