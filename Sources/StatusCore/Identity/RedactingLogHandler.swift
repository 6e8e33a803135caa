import Foundation
import Logging
import StatusRules

/// A log handler that writes one line per entry (plain text, or JSON for log collectors) and
/// masks personal identity numbers in the message and every metadata value before writing.
public struct RedactingLogHandler: LogHandler {
    /// How lines are written.
    public enum Format: String, Sendable {
        case text
        case json
    }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: Format
    let write: @Sendable (String) -> Void

    /// A handler for `label` writing to standard error.
    public init(label: String, level: Logger.Level, format: Format) {
        self.init(label: label, level: level, format: format) { line in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// A handler writing each line with `write` (tests capture lines this way).
    public init(label: String, level: Logger.Level, format: Format, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let message = IdentityRedaction.redact(event.message.description)
        let fields = merged.mapValues { IdentityRedaction.redact("\($0)") }
        let timestamp = RFC3339.format(Date())
        switch format {
        case .text:
            let rendered = fields.keys.sorted().map { "\($0)=\(fields[$0]!)" }.joined(separator: " ")
            write("\(timestamp) \(event.level) \(label): \(message)\(rendered.isEmpty ? "" : " " + rendered)\n")
        case .json:
            var line = "{\"ts\":\"\(timestamp)\",\"level\":\"\(event.level)\",\"logger\":"
            JSONValue.writeString(label, to: &line)
            line += ",\"msg\":"
            JSONValue.writeString(message, to: &line)
            for key in fields.keys.sorted() {
                line += ","
                JSONValue.writeString(key, to: &line)
                line += ":"
                JSONValue.writeString(fields[key]!, to: &line)
            }
            write(line + "}\n")
        }
    }
}
