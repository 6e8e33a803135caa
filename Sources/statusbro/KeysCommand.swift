import ArgumentParser
import Foundation
import StatusCore
import StatusPostgres
import StatusRules

/// `statusbro keys create|list|revoke`.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys.", subcommands: [Create.self, List.self, Revoke.self])

    /// Creates a key; the key alone is the last line of standard output.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key for a role of a tenant.")

        @OptionGroup var common: CommonOptions

        @Option(help: "The tenant id.") var tenant: String
        @Option(help: "A role of the tenant's active rules.") var role: String
        @Option(help: "A name to recognise the key by.") var name: String = ""

        func run() async throws {
            let runtime = try Runtime(common)
            let tenant = try tenantArgument(tenant)
            let role = self.role
            let name = self.name
            let issued = try await runtime.withDatabase { settings in
                try await runtime.withStore(settings) { store in
                    try await APIKeyIssuer(store: store, keys: store).issue(tenant: tenant, role: role, name: name)
                }
            }
            print("created key \(issued.keyId) for tenant \(tenant), role \(role); it is shown once, store it now:")
            print(issued.key)
        }
    }

    /// Lists a tenant's keys (never the keys themselves).
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's API keys.")

        @OptionGroup var common: CommonOptions

        @Option(help: "The tenant id.") var tenant: String

        func run() async throws {
            let runtime = try Runtime(common)
            let tenant = try tenantArgument(tenant)
            let keys = try await runtime.withDatabase { settings in
                try await runtime.withStore(settings) { store in try await APIKeyIssuer(store: store, keys: store).list(tenant: tenant) }
            }
            print("key id\tname\troles\tcreated\trevoked")
            for key in keys {
                print(
                    "\(key.keyId)\t\(key.name)\t\(key.roles.joined(separator: ","))\t\(RFC3339.format(key.createdAt))\t\(key.revokedAt.map(RFC3339.format) ?? "-")"
                )
            }
        }
    }

    /// Revokes a key; running servers stop accepting it at once.
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key.")

        @OptionGroup var common: CommonOptions

        @Argument(help: "The key id, as 'keys list' shows it.") var keyId: String

        func run() async throws {
            let runtime = try Runtime(common)
            let keyId = self.keyId
            try await runtime.withDatabase { settings in
                try await runtime.withStore(settings) { store in try await APIKeyIssuer(store: store, keys: store).revoke(keyId: keyId) }
            }
            print("revoked \(keyId)")
        }
    }
}
