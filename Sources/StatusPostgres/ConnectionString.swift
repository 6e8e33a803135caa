import CLibPQ
import Foundation
import NIOPosix

/// A libpq connection string (`postgresql://…` or `host=… dbname=…`), read and resolved by libpq
/// itself, so Statusbro connects exactly where `psql` with the same string would: the `PG*`
/// environment variables, `PGSERVICE` and the service files, `.pgpass` (or `passfile`/`PGPASSFILE`),
/// several hosts, `hostaddr`, `connect_timeout`.
///
/// How the password is found: libpq reads `.pgpass` only while it connects, so resolving means
/// connecting. Each resolution opens one libpq connection with `target_session_attrs=read-write`,
/// which makes libpq itself try the hosts in order and keep the first that accepts writes; the
/// connection is then asked where it is (host, port, database, user, the password libpq chose for
/// that host, TLS) and closed. The service's own connections are PostgresNIO's, to that place.
/// Reimplementing the `.pgpass` and service-file rules by hand was the alternative; it would
/// differ from psql in the corners (permissions, escapes, the system service file's location).
///
/// libpq reads the environment and files of the process: only the composition root resolves.
public struct ConnectionString: Sendable {
    /// The options the string gives explicitly, as libpq parsed them, in libpq's order.
    public let options: [(keyword: String, value: String)]

    /// What libpq's `target_session_attrs` may say: Statusbro writes, so only these are accepted.
    static let writableSessionAttributes: Set<String> = ["any", "read-write", "primary"]

    /// Parses `text` with `PQconninfoParse`. A bare word is a database name, as for psql; an empty
    /// string takes everything from the environment and libpq's defaults.
    public init(_ text: String) throws(DatabaseSettingsError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let isConnectionString = trimmed.hasPrefix("postgresql://") || trimmed.hasPrefix("postgres://") || trimmed.contains("=")
        guard isConnectionString else {
            options = trimmed.isEmpty ? [] : [("dbname", trimmed)]
            return
        }
        var message: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(trimmed, &message) else {
            let reason = message.map { String(cString: $0) } ?? "out of memory"
            if let message { PQfreemem(message) }
            throw .invalid(Self.redacting(secretsOf: trimmed, in: LibpqMessage.oneLine(reason)))
        }
        defer { PQconninfoFree(parsed) }
        options = Self.values(of: parsed)
        if let attributes = self["target_session_attrs"], !Self.writableSessionAttributes.contains(attributes) {
            throw .invalid("target_session_attrs=\(attributes): Statusbro writes, so it needs read-write (or any, or primary)")
        }
        if self["replication"] != nil {
            throw .invalid("replication connections cannot serve Statusbro; remove 'replication'")
        }
    }

    /// The value given for `keyword`, if any.
    public subscript(keyword: String) -> String? {
        options.last { $0.keyword == keyword }?.value
    }

    /// Finds the primary for the string's own login (the owner), the way psql would connect.
    /// When the database does not exist yet but the server answers, the location names it anyway,
    /// so the caller can create it.
    public func locateOwner(connectTimeout: Int = 5) throws(DatabaseSettingsError) -> PrimaryLocation {
        try locate(replacing: [:], connectTimeout: connectTimeout, creatingDatabase: true)
    }

    /// Finds the primary for `username`, with `password` when given, else the one libpq finds for
    /// that user (`PGPASSWORD`, a service file, `.pgpass`), as `psql -U username` would.
    public func locate(username: String, password: String?, connectTimeout: Int = 5) throws(DatabaseSettingsError) -> PrimaryLocation {
        try locate(replacing: ["user": username, "password": password], connectTimeout: connectTimeout, creatingDatabase: false)
    }

    private func locate(replacing: [String: String?], connectTimeout: Int, creatingDatabase: Bool) throws(DatabaseSettingsError)
        -> PrimaryLocation
    {
        var given = options.filter { replacing[$0.keyword] == nil }
        for (keyword, value) in replacing.sorted(by: { $0.key < $1.key }) {
            if let value { given.append((keyword, value)) }
        }
        // A host that does not answer must not stall a start or a failover for minutes.
        if self["connect_timeout"] == nil { given.insert(("connect_timeout", "\(connectTimeout)"), at: 0) }
        if self["target_session_attrs"] != "primary" {
            given.removeAll { $0.keyword == "target_session_attrs" }
            given.append(("target_session_attrs", "read-write"))
        }
        let attempt = Libpq.connect(given)
        defer { PQfinish(attempt) }
        if PQstatus(attempt) == CONNECTION_OK { return try Self.location(of: attempt) }

        let failure = DatabaseSettingsError.unreachable(Self.redacting(secretsOf: given, in: Libpq.errorMessage(attempt)))
        guard creatingDatabase, let intended = PQdb(attempt).map({ String(cString: $0) }), intended != "postgres" else { throw failure }
        // Perhaps the database is yet to be created: ask the maintenance database whether it exists.
        var maintenance = given.filter { $0.keyword != "dbname" }
        maintenance.append(("dbname", "postgres"))
        let fallback = Libpq.connect(maintenance)
        defer { PQfinish(fallback) }
        guard PQstatus(fallback) == CONNECTION_OK, !Libpq.databaseExists(intended, on: fallback) else { throw failure }
        var location = try Self.location(of: fallback)
        location.database = intended
        return location
    }

    /// Where a live libpq connection is, and how it got there.
    private static func location(of connection: OpaquePointer?) throws(DatabaseSettingsError) -> PrimaryLocation {
        let host = PQhost(connection).map { String(cString: $0) } ?? ""
        let address = PQhostaddr(connection).map { String(cString: $0) } ?? ""
        let portText = PQport(connection).map { String(cString: $0) } ?? ""
        let port = Int(portText) ?? 5432
        let settings = Libpq.settings(of: connection)
        let endpoint: DatabaseSettings.Endpoint
        if host.hasPrefix("/") {
            endpoint = .socket(path: host + "/.s.PGSQL.\(port)")
        } else {
            // Connect to the address libpq found to accept writes; the name still checks the certificate.
            endpoint = .tcp(host: address.isEmpty ? host : address, port: port, serverName: address.isEmpty || address == host ? nil : host)
        }
        let password = PQpass(connection).map { String(cString: $0) }
        return PrimaryLocation(
            endpoint: endpoint,
            tls: try TLSPolicy(inUse: PQsslInUse(connection) == 1, settings: settings),
            database: PQdb(connection).map { String(cString: $0) } ?? "postgres",
            username: PQuser(connection).map { String(cString: $0) } ?? "postgres",
            password: password?.isEmpty == true ? nil : password)
    }

    private static func values(of array: UnsafeMutablePointer<PQconninfoOption>) -> [(keyword: String, value: String)] {
        var values: [(keyword: String, value: String)] = []
        var option = array
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values.append((String(cString: keyword), String(cString: value))) }
            option += 1
        }
        return values
    }

    /// `message` with any password of `options` hidden (libpq's messages quote what they could not read).
    static func redacting(secretsOf options: [(keyword: String, value: String)], in message: String) -> String {
        var message = message
        for (keyword, value) in options where ["password", "sslpassword"].contains(keyword) && !value.isEmpty {
            message = message.replacingOccurrences(of: value, with: "…")
        }
        return message
    }

    /// `message` without the password of a connection string that could not be parsed: the
    /// user-information part of a URI, or any `password=` value.
    static func redacting(secretsOf text: String, in message: String) -> String {
        var secrets: [String] = []
        if let scheme = text.range(of: "://") {
            let rest = text[scheme.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                secrets.append(String(authority[authority.index(after: colon)..<at]))
            }
            if let query = rest.firstIndex(of: "?") {
                for pair in rest[rest.index(after: query)...].split(separator: "&") where pair.hasPrefix("password=") {
                    secrets.append(String(pair.dropFirst("password=".count)))
                }
            }
        }
        var remaining = Substring(text)
        while let found = remaining.range(of: "password") {
            var value = remaining[found.upperBound...].drop { $0 == " " }
            guard value.first == "=" else {
                remaining = remaining[found.upperBound...]
                continue
            }
            value = value.dropFirst().drop { $0 == " " }
            let token = value.first == "'" ? value.dropFirst().prefix { $0 != "'" } : value.prefix { $0 != " " }
            secrets.append(String(token))
            remaining = value
        }
        var message = message
        for secret in secrets where !secret.isEmpty {
            message = message.replacingOccurrences(of: secret, with: "…")
            // libpq may quote only the part it choked on: hide any quoted fragment of the secret too.
            for quoted in LibpqMessage.quoted(in: message) where quoted.count >= 2 && secret.contains(quoted) {
                message = message.replacingOccurrences(of: "\"\(quoted)\"", with: "\"…\"")
            }
        }
        return message
    }
}

/// Where the server that accepts writes is, for one login, as libpq found it.
public struct PrimaryLocation: Sendable, Equatable {
    /// Where to connect.
    public var endpoint: DatabaseSettings.Endpoint
    /// How to secure the connection (what libpq negotiated, and what the string asked to verify).
    public var tls: TLSPolicy
    /// The database.
    public var database: String
    /// The login.
    public var username: String
    /// The password libpq used for this host, if any.
    public var password: String?
}

/// Finds the server that accepts writes, again, after the one in use was lost.
public protocol PrimaryLocator: Sendable {
    /// Where `username` reaches the primary now, with `password` or else the one libpq finds.
    func locate(username: String, password: String?) async throws -> PrimaryLocation
}

/// Locates through libpq, on NIO's blocking-work thread pool (libpq connects synchronously).
public struct LibpqLocator: PrimaryLocator {
    /// The connection string every location starts from.
    public let connection: ConnectionString

    /// A locator for `connection`.
    public init(_ connection: ConnectionString) {
        self.connection = connection
    }

    public func locate(username: String, password: String?) async throws -> PrimaryLocation {
        let connection = self.connection
        return try await NIOThreadPool.singleton.runIfActive { try connection.locate(username: username, password: password) }
    }

    /// Where the owner (the string's own login) reaches the primary.
    public func locateOwner() async throws -> PrimaryLocation {
        let connection = self.connection
        return try await NIOThreadPool.singleton.runIfActive { try connection.locateOwner() }
    }
}

/// Calls into libpq; every `PGconn` is used by one thread only, as libpq requires.
enum Libpq {
    /// Connects with `options` (keywords as libpq knows them), blocking until it has or has given up.
    static func connect(_ options: [(keyword: String, value: String)]) -> OpaquePointer? {
        let keywords = options.map { strdup($0.keyword) }
        let values = options.map { strdup($0.value) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        var keywordPointers: [UnsafePointer<CChar>?] = keywords.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        return keywordPointers.withUnsafeMutableBufferPointer { k in
            valuePointers.withUnsafeMutableBufferPointer { v in
                PQconnectdbParams(k.baseAddress, v.baseAddress, 0)
            }
        }
    }

    /// Why a connection failed, on one line.
    static func errorMessage(_ connection: OpaquePointer?) -> String {
        LibpqMessage.oneLine(PQerrorMessage(connection).map { String(cString: $0) } ?? "out of memory")
    }

    /// The options a live connection used, keyword → value.
    static func settings(of connection: OpaquePointer?) -> [String: String] {
        guard let array = PQconninfo(connection) else { return [:] }
        defer { PQconninfoFree(array) }
        var settings: [String: String] = [:]
        var option = array
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { settings[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return settings
    }

    /// Whether the server `connection` is on has a database called `name`.
    static func databaseExists(_ name: String, on connection: OpaquePointer?) -> Bool {
        let result = name.withCString { value -> OpaquePointer? in
            var parameters: [UnsafePointer<CChar>?] = [value]
            return parameters.withUnsafeMutableBufferPointer {
                PQexecParams(connection, "SELECT 1 FROM pg_database WHERE datname = $1", 1, nil, $0.baseAddress, nil, nil, 0)
            }
        }
        defer { PQclear(result) }
        // When the question cannot be answered, assume the database exists: the first error stands.
        return PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) > 0
    }
}

/// libpq's messages, reshaped for one line of a terminal or a log.
enum LibpqMessage {
    /// Every line of `message`, trimmed and joined with "; ".
    static func oneLine(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .joined(separator: "; ")
    }

    /// The "double-quoted" fragments of `message`.
    static func quoted(in message: String) -> [String] {
        let parts = message.split(separator: "\"", omittingEmptySubsequences: false)
        return stride(from: 1, to: parts.count - 1, by: 2).map { String(parts[$0]) }
    }
}
