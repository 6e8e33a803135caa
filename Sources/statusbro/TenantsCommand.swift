import ArgumentParser
import Foundation
import StatusCore
import StatusPostgres
import StatusRules

/// `statusbro tenants import|export|validate`.
struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants", abstract: "Import, export and validate tenant rules documents.",
        subcommands: [Import.self, Export.self, Validate.self])

    /// Publishes each document as a new release when it differs from the active one.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Publish tenant documents (default: every file in tenants/).")

        @OptionGroup var common: CommonOptions

        @Argument(help: "YAML files to import.")
        var paths: [String] = []

        func run() async throws {
            let runtime = try Runtime(common)
            let files = paths.isEmpty ? try runtime.defaultTenantFiles() : paths.map { URL(fileURLWithPath: $0) }
            let lines = try await runtime.withDatabase { settings in try await runtime.importTenants(files, settings: settings) }
            lines.forEach { print($0) }
        }
    }

    /// Prints the active document as YAML.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a tenant's active rules as YAML.")

        @OptionGroup var common: CommonOptions

        @Argument(help: "The tenant id.")
        var tenant: String

        func run() async throws {
            let runtime = try Runtime(common)
            let tenant = try tenantArgument(tenant)
            let logger = runtime.logger
            let release = try await runtime.withDatabase { settings in
                try await runtime.withStore(settings) { store in
                    try await RulesAdministration(store: store, registry: RulesRegistry(), logger: logger).active(tenant: tenant)
                }
            }
            print(release.document.yaml(), terminator: "")
        }
    }

    /// Prints every finding with its path; exits non-zero when any is an error.
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate tenant documents without a database.")

        @OptionGroup var common: CommonOptions

        @Argument(help: "YAML files to validate (default: every file in tenants/).")
        var paths: [String] = []

        func run() async throws {
            let files: [URL]
            if paths.isEmpty {
                files = try Runtime(common).defaultTenantFiles()
            } else {
                files = paths.map { URL(fileURLWithPath: $0) }
            }
            var failed = false
            for file in files {
                let name = file.lastPathComponent
                let text: String
                do {
                    text = try String(contentsOf: file, encoding: .utf8)
                } catch {
                    print("\(name): error: cannot read the file")
                    failed = true
                    continue
                }
                let findings: [RuleFinding]
                var tests: [RuleTestResult] = []
                do {
                    let validation = RulesValidator.validate(try RulesDocument.decode(yaml: text))
                    findings = validation.findings
                    tests = validation.tests
                } catch {
                    findings = [error.finding]
                }
                for finding in findings {
                    print(
                        "\(name): \(finding.severity.rawValue): \(finding.path.isEmpty ? "(document)" : finding.path): \(finding.message) [\(finding.code)]"
                    )
                }
                let errors = findings.errors.count
                failed = failed || errors > 0
                print(
                    "\(name): \(errors == 0 ? "valid" : "INVALID") — \(errors) error(s), \(findings.warnings.count) warning(s), \(tests.filter(\.passed).count)/\(tests.count) tests passed"
                )
            }
            if failed { throw ExitCode(1) }
        }
    }
}
