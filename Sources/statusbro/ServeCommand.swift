import ArgumentParser
import Configuration
import Foundation
import Hummingbird
import Logging
import StatusCore
import StatusHTTP
import StatusPostgres

/// `statusbro serve`: runs the service. Without `DATABASE_URL` it starts (creating if needed) its
/// own PostgreSQL in the data folder, applies migrations, imports `tenants/` on first start, and
/// stops the cluster again on SIGINT/SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP service.")

    @OptionGroup var common: CommonOptions

    @Option(help: "The address to listen on (env HTTP_HOST).")
    var host: String?

    @Option(help: "The port to listen on (env HTTP_PORT).")
    var port: Int?

    func run() async throws {
        var overrides: [String: String] = [:]
        if let host { overrides["HTTP_HOST"] = host }
        if let port { overrides["HTTP_PORT"] = String(port) }
        let runtime = try Runtime(common, overrides: overrides)
        let logger = runtime.logger
        // Before anything starts: a tracing setting that cannot work fails the command at once.
        let tracing = try runtime.bootstrapTracing()

        var lock: Int32?
        if runtime.databaseURL == nil {
            lock = try runtime.embedded.lockForServing()
            try runtime.embedded.start()
        }
        defer {
            if lock != nil {
                do { try runtime.embedded.stop() } catch {
                    logger.error("embedded PostgreSQL did not stop cleanly", metadata: ["error": "\(error)"])
                }
            }
        }

        let owner = try await runtime.externalDatabase() ?? runtime.embedded.settings
        try await runtime.prepare(owner)
        let settings = try await owner.resolvingServiceLogin()
        let isEmpty = try await withPostgresClient(settings.clientConfiguration(settings.owner), logger: logger) { owner in
            try await TenantCatalog(owner: owner, logger: logger).isEmpty()
        }
        if isEmpty {
            for line in try await runtime.importTenants(try runtime.defaultTenantFiles(), settings: settings) {
                logger.info("first start: \(line)")
            }
        }

        let backend = try PostgresBackend(settings: settings, logger: logger)
        let configuration = ServerConfiguration(
            host: runtime.config.string(forKey: "http.host", default: "127.0.0.1"),
            port: runtime.config.int(forKey: "http.port", default: 8080),
            adminDirectory: runtime.adminDirectory.path,
            openAPIDocument: try? String(contentsOf: runtime.home.appendingPathComponent("openapi.json"), encoding: .utf8),
            publicBaseURL: runtime.config.string(forKey: "public.base.url"),
            // Exported traces and debug access lines come from the router's middleware.
            hotReads: tracing == nil && logger.logLevel > .debug
        )
        // The exporter first: it starts before the others and stops after them, sending the last spans.
        let app = buildApplication(
            configuration: configuration, services: backend.services,
            backgroundServices: (tracing.map { [$0] } ?? []) + backend.backgroundServices, logger: logger)
        logger.info("serving", metadata: ["address": "http://\(configuration.host):\(configuration.port)"])
        try await app.runService()
    }
}

/// `statusbro migrate`: applies the migrations in `sql/`.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply database migrations.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let runtime = try Runtime(common)
        try await runtime.withDatabase { _ in }
        print("migrations applied")
    }
}
