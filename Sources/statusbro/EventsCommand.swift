import ArgumentParser
import Foundation
import StatusCore
import StatusPostgres
import StatusRules

/// `statusbro events import`: a backfill from an NDJSON file (one event per line, as
/// `POST /api/v1/events` takes them) through the same core as the API.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Events.", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import events from an NDJSON file, one event per line; running it again changes nothing.",
            discussion: """
                Every line gets its own result: accepted, replayed (its messageId was accepted before), or refused with \
                the problem code it would get from the API. Refused lines are kept as dead letters and reported on \
                standard error with their line number. Exit status: 0 when no line was refused, 1 when some were.
                """)

        @OptionGroup var common: CommonOptions

        @Argument(help: "The NDJSON file to import.") var file: String
        @Option(help: "The tenant id.") var tenant: String
        @Option(name: .customLong("results"), help: "Also write every line's result to this file, as NDJSON.") var resultsFile: String?

        func run() async throws {
            let runtime = try Runtime(common)
            let tenant = try tenantArgument(tenant)
            let input = try EventFile(path: file)
            let output = try resultsFile.map { path -> FileHandle in
                guard FileManager.default.createFile(atPath: path, contents: nil),
                    let handle = FileHandle(forWritingAtPath: path)
                else { throw CommandFailure("cannot write the results to \(path)") }
                return handle
            }
            let logger = runtime.logger
            let summary = try await runtime.withDatabase { settings in
                let backend = try PostgresBackend(settings: settings, logger: logger)
                return try await backend.withClientRunning {
                    try await backend.services.loader.reload(tenant)
                    guard let snapshot = backend.services.registry.snapshot(for: tenant) else {
                        throw CommandFailure("tenant '\(tenant)' has no published rules in this database")
                    }
                    var importer = EventImport(
                        events: backend.services.events, snapshot: snapshot, tenant: tenant, input: input, results: output)
                    return try await importer.run()
                }
            }
            try output?.close()
            print(summary.text)
            if summary.refused > 0 { throw ExitCode(1) }
        }
    }
}

/// An NDJSON file read in chunks of lines.
final class EventFile: @unchecked Sendable {
    // Only `EventImport` reads it, one chunk at a time, never concurrently: unchecked is safe.
    let handle: FileHandle
    let path: String
    let size: Int
    private var pending = Data()
    private var atEnd = false
    private(set) var bytesRead = 0
    private var lineNumber = 0

    init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CommandFailure("no such file: \(path)")
        }
        guard !isDirectory.boolValue, let handle = FileHandle(forReadingAtPath: path) else {
            throw CommandFailure("cannot read \(path): it is not a readable file")
        }
        self.handle = handle
        self.path = path
        self.size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    /// The next `count` non-blank lines with their line numbers, fewer at the end of the file.
    func nextLines(_ count: Int) throws -> [(line: Int, text: Data)] {
        var lines: [(Int, Data)] = []
        while lines.count < count {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                var line = pending[pending.startIndex..<newline]
                pending = pending[(newline + 1)...]
                lineNumber += 1
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                if !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { lines.append((lineNumber, Data(line))) }
                continue
            }
            if atEnd {
                if !pending.isEmpty {
                    lineNumber += 1
                    if !pending.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }) {
                        lines.append((lineNumber, pending))
                    }
                    pending = Data()
                }
                break
            }
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            bytesRead += chunk.count
            if chunk.isEmpty { atEnd = true } else { pending = pending.isEmpty ? chunk : pending + chunk }
        }
        return lines
    }
}

/// Reads, applies and reports a backfill, a chunk at a time: independent chunks are applied at
/// the same time, and the next is read and checked meanwhile.
struct EventImport {
    let events: EventRecorder
    let snapshot: RuleSnapshot
    let tenant: TenantID
    let input: EventFile
    let results: FileHandle?
    var summary = ImportSummary()
    let progress = ImportProgress()

    init(events: EventRecorder, snapshot: RuleSnapshot, tenant: TenantID, input: EventFile, results: FileHandle?) {
        self.events = events
        self.snapshot = snapshot
        self.tenant = tenant
        self.input = input
        self.results = results
    }

    typealias Chunk = [(line: Int, item: BatchItem<EventMessage>)]

    /// Chunks applied at once. Two keep PostgreSQL busy on one core while the next chunk is read
    /// and checked on the other (more only queue on two cores).
    static let parallelChunks = 2

    static func read(_ input: EventFile) throws -> Chunk {
        try input.nextLines(EventBatch.chunkSize).map { ($0.line, EventBatch.item(line: $0.text)) }
    }

    /// What a chunk touches: its cases and message ids. Chunks that share none are independent,
    /// so applying them at the same time gives what applying them in file order gives.
    static func footprint(_ chunk: Chunk) -> Set<String> {
        var keys = Set<String>()
        for (_, item) in chunk {
            switch item {
            case .message(let message):
                keys.insert("c:" + message.submission.externalCaseId)
                keys.insert("m:" + message.submission.messageId)
            case .malformed(let bad):
                keys.insert("m:" + bad.messageId)
            }
        }
        return keys
    }

    mutating func run() async throws -> ImportSummary {
        let started = ContinuousClock.now
        let correlationId = "import-" + UUID().uuidString.lowercased()
        let (events, snapshot, tenant) = (self.events, self.snapshot, self.tenant)
        try await withThrowingTaskGroup(of: (Int, [BatchResult<EventReceipt>]).self) { group in
            var next = try Self.read(input)
            var number = 0
            var inFlight: [Int: Set<String>] = [:]
            var chunks: [Int: Chunk] = [:]
            var finished: [Int: [BatchResult<EventReceipt>]] = [:]
            var reported = 0
            while !next.isEmpty || !inFlight.isEmpty {
                let footprint = next.isEmpty ? [] : Self.footprint(next)
                if !next.isEmpty, inFlight.count < Self.parallelChunks, inFlight.values.allSatisfy({ $0.isDisjoint(with: footprint) }) {
                    let chunk = next
                    let index = number
                    number += 1
                    inFlight[index] = footprint
                    chunks[index] = chunk
                    group.addTask {
                        let outcomes = try await events.recordBatch(
                            chunk.map(\.item), snapshot: snapshot, tenant: tenant, correlationId: correlationId, chunkSize: chunk.count)
                        return (index, outcomes)
                    }
                    next = try Self.read(input)
                    continue
                }
                guard let (index, outcomes) = try await group.next() else { break }
                inFlight[index] = nil
                finished[index] = outcomes
                // Reported in file order, whichever chunk finished first.
                while let outcomes = finished.removeValue(forKey: reported), let chunk = chunks.removeValue(forKey: reported) {
                    report(zip(chunk.map(\.line), outcomes))
                    reported += 1
                }
                progress.show(lines: summary.lines, bytes: input.bytesRead, of: input.size, since: started)
            }
        }
        progress.finish()
        summary.elapsed = ContinuousClock.now - started
        return summary
    }

    private mutating func report(_ outcomes: some Sequence<(Int, BatchResult<EventReceipt>)>) {
        var lines = ""
        for (line, outcome) in outcomes {
            summary.lines += 1
            switch outcome {
            case .accepted(let submitted):
                if submitted.replayed { summary.replayed += 1 } else { summary.accepted += 1 }
                guard results != nil else { continue }
                lines += "{\"line\":\(line),\"outcome\":" + (submitted.replayed ? "\"replayed\"" : "\"accepted\"")
                lines += ",\"receipt\":" + submitted.answer.jsonText + "}\n"
            case .refused(let error, let deadLetterId):
                summary.refused += 1
                if deadLetterId != nil { summary.parked += 1 }
                let kept = deadLetterId.map { " (kept as dead letter \($0))" } ?? ""
                progress.note("line \(line): \(error.code): \(error.detail)\(kept)")
                guard results != nil else { continue }
                lines += "{\"line\":\(line),\"outcome\":\"refused\",\"code\":"
                JSONValue.writeString(error.code, to: &lines)
                lines += ",\"detail\":"
                JSONValue.writeString(error.detail, to: &lines)
                if let deadLetterId { lines += ",\"deadLetterId\":\"\(deadLetterId)\"" }
                lines += "}\n"
            }
        }
        if let results, !lines.isEmpty { results.write(Data(lines.utf8)) }
    }
}

/// What an import did.
struct ImportSummary: Sendable {
    var lines = 0
    var accepted = 0
    var replayed = 0
    var refused = 0
    var parked = 0
    var elapsed: Duration = .zero

    var text: String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Int(Double(lines) / seconds) : lines
        return "\(lines) events: \(accepted) accepted, \(replayed) replayed, \(refused) refused (\(parked) kept as dead letters) "
            + "in \(String(format: "%.1f", seconds)) s (\(rate) events/s)"
    }
}

/// A progress bar on a terminal (count, rate, ETA), a plain line every few seconds otherwise.
final class ImportProgress: @unchecked Sendable {
    // Used by one import on one task at a time: unchecked is safe.
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastPlain = ContinuousClock.now
    private var drawn = false

    func show(lines: Int, bytes: Int, of total: Int, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let seconds = max(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, 0.001)
        let rate = Double(lines) / seconds
        let fraction = total > 0 ? min(Double(bytes) / Double(total), 1) : 0
        let eta = fraction > 0 ? seconds * (1 - fraction) / fraction : 0
        let status =
            "\(lines) events, \(Int(rate))/s" + (total > 0 ? ", \(Int(fraction * 100))%, ETA \(Self.clock(eta))" : "")
        if isTerminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar =
                String(repeating: "=", count: filled) + (filled < width ? ">" : "")
                + String(repeating: " ", count: max(0, width - filled - 1))
            write("\r\u{1B}[2K[\(bar)] \(status)")
            drawn = true
        } else if ContinuousClock.now - lastPlain >= .seconds(5) {
            lastPlain = ContinuousClock.now
            write("imported \(status)\n")
        }
    }

    /// A line of its own (a refused event), above the bar.
    func note(_ line: String) {
        write((drawn ? "\r\u{1B}[2K" : "") + IdentityRedaction.redact(line) + "\n")
    }

    func finish() {
        if drawn { write("\r\u{1B}[2K") }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600
            ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60) : String(format: "%d:%02d", total / 60, total % 60)
    }
}
