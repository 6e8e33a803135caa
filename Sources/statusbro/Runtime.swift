import ArgumentParser
import Configuration
import Foundation
import Logging
import OTel
import PostgresNIO
import ServiceLifecycle
import StatusCore
import StatusPostgres
import StatusRules

/// Options every command takes.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The embedded database's folder (default: .statusbro in the current directory).")
    var dataDirectory: String?

    @Option(name: .customLong("home"), help: "The folder holding sql/, tenants/ and admin/ (default: found from here or the executable).")
    var home: String?

    @Option(
        name: .customLong("database-url"),
        help: "A libpq connection string, URI or key=value (env DATABASE_URL); PG* variables, .pgpass and service files apply.")
    var databaseURL: String?
}

/// The composition root's view of configuration: environment variables (through
/// swift-configuration), overridden by command-line flags. Only this file reads the environment.
struct Runtime {
    let home: URL
    let dataDirectory: URL
    let databaseURL: String?
    let servicePassword: String?
    let logger: Logger
    let config: ConfigReader
    /// The environment with the flags applied, for swift-otel, which reads the OpenTelemetry variables itself.
    let environment: [String: String]

    /// Reads configuration for a command with `options` and `overrides` (flag name → value, in environment-variable form).
    init(_ options: CommonOptions, overrides: [String: String] = [:], label: String = "statusbro") throws {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(overrides) { _, flag in flag }
        let config = ConfigReader(
            provider: EnvironmentVariablesProvider(
                environmentVariables: environment, secretsSpecifier: .specific(["DATABASE_URL", "DATABASE_SERVICE_PASSWORD"])))
        self.config = config
        self.environment = environment
        Runtime.bootstrapLogging(config)
        self.logger = Logger(label: label)

        let homePath = options.home ?? config.string(forKey: "statusbro.home")
        self.home = try homePath.map { URL(fileURLWithPath: $0) } ?? Runtime.findHome()
        let dataPath = options.dataDirectory ?? config.string(forKey: "statusbro.data.dir") ?? ".statusbro"
        self.dataDirectory =
            URL(fileURLWithPath: dataPath, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL
        self.databaseURL = options.databaseURL ?? config.string(forKey: "database.url", isSecret: true)
        self.servicePassword = config.string(forKey: "database.service.password", isSecret: true)
    }

    // Only touched by the command itself, before it starts anything concurrent.
    nonisolated(unsafe) private static var loggingBootstrapped = false

    /// Logs through the redacting handler: text by default, JSON with `LOG_FORMAT=json`.
    static func bootstrapLogging(_ config: ConfigReader) {
        guard !loggingBootstrapped else { return }
        loggingBootstrapped = true
        let level = config.string(forKey: "log.level").flatMap(Logger.Level.init(rawValue:)) ?? .info
        let format = config.string(forKey: "log.format").flatMap(RedactingLogHandler.Format.init(rawValue:)) ?? .text
        LoggingSystem.bootstrap { label in RedactingLogHandler(label: label, level: level, format: format) }
    }

    /// Bootstraps tracing when an exporter is configured (OpenTelemetry's own variables:
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_TRACES_EXPORTER=otlp`;
    /// `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true` wins) and returns the exporter's service, to run
    /// before the others and stop after them. `nil`: tracing stays off (the no-op tracer, no spans).
    ///
    /// swift-otel reads the rest of the OpenTelemetry variables itself (protocol, headers, timeout,
    /// sampler, service name); only traces are exported — metrics stay Prometheus's, logs stay ours.
    func bootstrapTracing() throws -> (any Service)? {
        let exporter = config.string(forKey: "otel.traces.exporter")?.lowercased()
        let endpoint = config.string(forKey: "otel.exporter.otlp.traces.endpoint") ?? config.string(forKey: "otel.exporter.otlp.endpoint")
        let disabled = config.string(forKey: "otel.sdk.disabled")?.lowercased() == "true"
        guard !disabled, exporter != "none", exporter != nil || endpoint != nil else { return nil }
        // swift-otel throws for the other exporters and stops the process for a protocol whose trait
        // is not built (only OTLP/HTTP is): refuse both here, with the reason.
        guard exporter == nil || exporter == "otlp" else {
            throw ValidationError("OTEL_TRACES_EXPORTER: only otlp (or none) is supported")
        }
        let transport = config.string(forKey: "otel.exporter.otlp.traces.protocol") ?? config.string(forKey: "otel.exporter.otlp.protocol")
        guard transport?.lowercased() != "grpc" else {
            throw ValidationError(
                "OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not built in; use http/protobuf (the default, port 4318) or http/json")
        }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "statusbro"
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.diagnosticLogger = .custom(logger)
        // swift-otel reports every variable it reads at info; its warnings and errors are what matter (OTEL_LOG_LEVEL overrides).
        configuration.diagnosticLogLevel = .warning
        let service = try OTel.bootstrap(configuration: configuration, environment: environment)
        logger.info("tracing on", metadata: ["exporter": "\(exporter ?? "otlp")"])
        return service
    }

    /// The project folder: the nearest folder with `sql/` above the current directory, else above the executable.
    static func findHome() throws -> URL {
        let fileManager = FileManager.default
        var starts = [URL(fileURLWithPath: fileManager.currentDirectoryPath)]
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() { starts.append(executable.deletingLastPathComponent()) }
        for start in starts {
            var folder = start.standardizedFileURL
            while true {
                var isDirectory: ObjCBool = false
                if fileManager.fileExists(atPath: folder.appendingPathComponent("sql").path, isDirectory: &isDirectory),
                    isDirectory.boolValue,
                    fileManager.fileExists(atPath: folder.appendingPathComponent("sql/001_foundation.sql").path)
                {
                    return folder
                }
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        throw ValidationError("cannot find Statusbro's sql/ folder; run from the project folder or pass --home / set STATUSBRO_HOME")
    }

    var sqlDirectory: URL { home.appendingPathComponent("sql") }
    var tenantsDirectory: URL { home.appendingPathComponent("tenants") }
    var adminDirectory: URL { home.appendingPathComponent("admin") }

    var embedded: EmbeddedPostgres { EmbeddedPostgres(folder: dataDirectory, logger: logger) }

    /// Runs `body` against the configured database: `DATABASE_URL`, else the embedded cluster,
    /// started if needed (and stopped again afterwards if this command started it and no
    /// `serve` is using it). Migrations are applied first.
    func withDatabase<T: Sendable>(_ body: @Sendable (DatabaseSettings) async throws -> T) async throws -> T {
        if let settings = try await externalDatabase() {
            try await prepare(settings)
            return try await body(try await settings.resolvingServiceLogin())
        }
        let cluster = embedded
        let started = try cluster.start()
        do {
            let settings = cluster.settings
            try await prepare(settings)
            let result = try await body(settings)
            if started && !cluster.isServed() { try cluster.stop() }
            return result
        } catch {
            if started && !cluster.isServed() { try? cluster.stop() }
            throw error
        }
    }

    /// The server `DATABASE_URL` names, read by libpq as psql would, at the host that accepts
    /// writes; `nil` when none is configured (the embedded cluster).
    func externalDatabase() async throws -> DatabaseSettings? {
        guard let databaseURL else { return nil }
        return try await DatabaseSettings.locate(try ConnectionString(databaseURL), servicePassword: servicePassword)
    }

    /// Creates the database if the server has none by that name (the embedded cluster's first
    /// start), and applies the migrations.
    func prepare(_ settings: DatabaseSettings) async throws {
        let logger = self.logger
        try await withPostgresClient(settings.with(database: "postgres").clientConfiguration(settings.owner), logger: logger) { client in
            var exists = false
            for try await _ in try await client.query("SELECT 1 FROM pg_database WHERE datname = \(settings.database)", logger: logger) {
                exists = true
            }
            if !exists {
                try await client.query(
                    PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(settings.database.replacingOccurrences(of: "\"", with: ""))\""),
                    logger: logger)
            }
        }
        let runner = MigrationRunner(directory: sqlDirectory, logger: logger)
        try await withPostgresClient(settings.clientConfiguration(settings.owner), logger: logger) { client in
            _ = try await runner.migrate(client)
        }
    }

    /// Runs `body` with the service-role store.
    func withStore<T: Sendable>(_ settings: DatabaseSettings, _ body: @Sendable (PostgresStatusStore) async throws -> T) async throws -> T {
        let logger = self.logger
        return try await withPostgresClient(settings.clientConfiguration(settings.service), logger: logger) { client in
            try await body(PostgresStatusStore(client: client, logger: logger))
        }
    }

    /// Registers and publishes tenant documents (the owner registers, the service publishes).
    func importTenants(_ files: [URL], settings: DatabaseSettings) async throws -> [String] {
        var documents: [(URL, RulesDocument)] = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            do {
                documents.append((file, try RulesDocument.decode(yaml: text)))
            } catch {
                throw ValidationError("\(file.lastPathComponent): \(error)")
            }
        }
        let logger = self.logger
        let loaded = documents
        try await withPostgresClient(settings.clientConfiguration(settings.owner), logger: logger) { owner in
            let catalog = TenantCatalog(owner: owner, logger: logger)
            for (file, document) in loaded {
                guard let tenant = TenantID(document.tenant) else { throw ValidationError("\(file.lastPathComponent): invalid tenant id") }
                try await catalog.register(tenant)
            }
        }
        return try await withStore(settings) { store in
            let rules = RulesAdministration(store: store, registry: RulesRegistry(), logger: logger)
            var lines: [String] = []
            for (file, document) in loaded {
                do {
                    if let version = try await rules.importDocument(
                        document, by: "tenants import", comment: "imported from \(file.lastPathComponent)")
                    {
                        lines.append("\(document.tenant): published version \(version) from \(file.lastPathComponent)")
                    } else {
                        lines.append("\(document.tenant): unchanged")
                    }
                } catch StatusError.rulesInvalid(let findings) {
                    let text = findings.errors.map { "  \($0.path): \($0.message)" }.joined(separator: "\n")
                    throw ValidationError("\(file.lastPathComponent) is not valid:\n\(text)")
                }
            }
            return lines
        }
    }

    /// The `.yaml` files of `tenants/`.
    func defaultTenantFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: tenantsDirectory, includingPropertiesForKeys: nil)
            .filter { ["yaml", "yml"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}

/// Parses a tenant argument.
func tenantArgument(_ text: String) throws -> TenantID {
    guard let tenant = TenantID(text) else { throw ValidationError("'\(text)' is not a tenant id ([a-z0-9-]+)") }
    return tenant
}
