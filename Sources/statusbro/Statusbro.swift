import ArgumentParser
import Foundation
import NIOPosix
import PostgresNIO
import StatusCore
import StatusPostgres

/// `statusbro`: the one executable. `serve` runs the service; the other commands administer it
/// and work next to a running `serve` with no extra setup.
@main
struct Statusbro: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Statusbro: rules-as-data case statuses for Nordic municipalities.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, TenantsCommand.self, KeysCommand.self, AuditCommand.self,
            DeadLettersCommand.self, EventsCommand.self,
        ]
    )

    /// Runs the command; a database error is shown with the server's message (this is an
    /// operator's terminal, not an API client).
    static func main() async {
        let environment = ProcessInfo.processInfo.environment
        if let loops = environment["STATUSBRO_EVENT_LOOPS"].flatMap(Int.init), loops > 0 {
            NIOSingletons.groupLoopCountSuggestion = loops
        }
        if CommandLine.arguments.dropFirst().first == "serve", environment["STATUSBRO_NIO_EXECUTOR"] != "0" {
            // Run Swift concurrency on NIO's event loops: a database round trip or a response no
            // longer hops between the concurrency pool and the event loop that owns the socket.
            // Must happen first, on the main thread, once.
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CommandFailure {
            FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
            exit(withError: ExitCode(2))
        } catch let error as DatabaseSettingsError {
            // One line naming what is wrong; libpq's messages carry no password, and ours hide any.
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            exit(withError: ExitCode(2))
        } catch let error as StatusError {
            // What the core refuses is explained in its own words, as the API would.
            FileHandle.standardError.write(Data("Error: \(error.detail)\n".utf8))
            exit(withError: ExitCode(2))
        } catch let error as PSQLError {
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
            FileHandle.standardError.write(Data("Error: database: \(message)\(detail)\n".utf8))
            exit(withError: ExitCode.failure)
        } catch {
            exit(withError: error)
        }
    }
}

/// A command that cannot do what it was asked, for a reason the operator can fix: printed as one
/// line, exit status 2, no usage text and no stack trace.
struct CommandFailure: Error {
    let message: String

    init(_ message: String) {
        self.message = message
    }
}
