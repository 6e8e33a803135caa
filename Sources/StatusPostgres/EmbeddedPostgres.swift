import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A private PostgreSQL cluster in a data folder of its own, for `statusbro serve` without a
/// `DATABASE_URL`. It uses the system's `initdb` and `pg_ctl`, listens only on a Unix socket in a
/// directory only its user can open (no TCP port, nothing to collide with), and, when Statusbro
/// runs as root, runs as the unprivileged `postgres` user (PostgreSQL refuses to run as root).
///
/// Durability settings are PostgreSQL's defaults (fsync on): this is where a newcomer's data lives.
public struct EmbeddedPostgres: Sendable {
    /// The data folder (`.statusbro/` by default).
    public let folder: URL
    let logger: Logger

    /// The database Statusbro uses inside the cluster.
    public static let database = "statusbro"
    /// The cluster's superuser, who owns the schema.
    public static let superuser = "postgres"
    /// The non-root system user the cluster runs as when Statusbro is root.
    public static let systemUser = "postgres"

    /// A cluster in `folder`.
    public init(folder: URL, logger: Logger) {
        self.folder = folder.standardizedFileURL
        self.logger = logger
    }

    var dataDirectory: URL { folder.appendingPathComponent("pgdata") }
    var logDirectory: URL { folder.appendingPathComponent("log") }
    var logFile: URL { logDirectory.appendingPathComponent("postgresql.log") }

    /// Where the socket lives: inside the folder when the path is short enough for a Unix socket
    /// (about 100 bytes), else in a private directory under /tmp named after the folder.
    var socketDirectory: URL {
        let inside = folder.appendingPathComponent("run")
        if inside.path.utf8.count + ".s.PGSQL.5432".utf8.count + 1 < 100 { return inside }
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in folder.path.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        return URL(fileURLWithPath: "/tmp/statusbro-\(String(hash, radix: 16))")
    }

    /// Connection settings for this cluster.
    public var settings: DatabaseSettings {
        DatabaseSettings(
            socketPath: socketDirectory.appendingPathComponent(".s.PGSQL.5432").path, database: Self.database, owner: Self.superuser)
    }

    /// Why the cluster could not be used.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong and what to do.
        public var description: String
    }

    // MARK: Starting and stopping

    /// Starts the cluster, creating it first if the folder has none. Returns false when it was
    /// already running (then the caller did not start it and must not stop it).
    @discardableResult
    public func start() throws -> Bool {
        let binaries = try Self.binaries()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let runAsOther = geteuid() == 0
        if runAsOther { try checkSystemUserCanReach() }
        try prepareDirectory(socketDirectory, private: true)
        try prepareDirectory(logDirectory, private: false)

        if isRunning(binaries) { return false }
        if !FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) {
            try initialise(binaries)
        }
        try writeSettings()
        logger.info("starting embedded PostgreSQL", metadata: ["folder": "\(folder.path)"])
        let result = try run(
            binaries.appendingPathComponent("pg_ctl"),
            ["-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "60", "start"])
        guard result.status == 0 else {
            throw Failure(description: "PostgreSQL did not start (see \(logFile.path)): \(result.output)")
        }
        return true
    }

    /// Stops the cluster (fast shutdown: sessions end, committed data is safe).
    public func stop() throws {
        let binaries = try Self.binaries()
        guard isRunning(binaries) else { return }
        logger.info("stopping embedded PostgreSQL", metadata: ["folder": "\(folder.path)"])
        let result = try run(binaries.appendingPathComponent("pg_ctl"), ["-D", dataDirectory.path, "-m", "fast", "-w", "-t", "60", "stop"])
        guard result.status == 0 else { throw Failure(description: "PostgreSQL did not stop: \(result.output)") }
    }

    /// Whether the cluster is running.
    public func isRunning() -> Bool {
        guard let binaries = try? Self.binaries() else { return false }
        return isRunning(binaries)
    }

    private func isRunning(_ binaries: URL) -> Bool {
        guard FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) else { return false }
        return (try? run(binaries.appendingPathComponent("pg_ctl"), ["-D", dataDirectory.path, "status"]).status) == 0
    }

    private func initialise(_ binaries: URL) throws {
        logger.info("creating embedded PostgreSQL cluster", metadata: ["folder": "\(folder.path)"])
        try prepareDirectory(dataDirectory, private: true)
        // Trust is safe here: the cluster listens on no TCP port, and its socket directory is
        // private to the user it runs as.
        let result = try run(
            binaries.appendingPathComponent("initdb"),
            ["-D", dataDirectory.path, "-U", Self.superuser, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"])
        guard result.status == 0 else { throw Failure(description: "initdb failed: \(result.output)") }
        let conf = dataDirectory.appendingPathComponent("postgresql.conf")
        let handle = try FileHandle(forWritingTo: conf)
        handle.seekToEndOfFile()
        handle.write(
            Data("\n# Statusbro: socket location and listening, rewritten at every start\ninclude_if_exists = 'statusbro.conf'\n".utf8))
        try handle.close()
    }

    /// Rewrites the settings that depend on where the folder is now.
    private func writeSettings() throws {
        let text = """
            listen_addresses = ''
            unix_socket_directories = '\(socketDirectory.path.replacingOccurrences(of: "'", with: "''"))'
            unix_socket_permissions = 0700

            """
        let file = dataDirectory.appendingPathComponent("statusbro.conf")
        try Data(text.utf8).write(to: file)
        if geteuid() == 0 { try chown(file) }
    }

    // MARK: One serve per folder

    /// Takes the folder's serve lock for the life of the process, or fails when another
    /// `statusbro serve` holds it (two servers managing one cluster's lifecycle would stop it
    /// under each other). Commands such as `keys create` do not take it: they share the cluster.
    public func lockForServing() throws -> Int32 {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("serve.lock").path
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot open \(path)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw Failure(
                description:
                    "another statusbro serve is using \(folder.path); stop it, use --data-dir for a separate one, or set DATABASE_URL to run several servers on one database"
            )
        }
        return fd
    }

    /// Whether a `statusbro serve` holds the folder.
    public func isServed() -> Bool {
        let path = folder.appendingPathComponent("serve.lock").path
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }

    // MARK: Helpers

    /// The directory holding `initdb` and `pg_ctl`: `STATUSBRO_PG_BIN`, else the newest
    /// `/usr/lib/postgresql/*/bin` (Debian), else `pg_config --bindir`.
    static func binaries() throws -> URL {
        if let explicit = ProcessInfo.processInfo.environment["STATUSBRO_PG_BIN"] { return URL(fileURLWithPath: explicit) }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() {
            let bin = URL(fileURLWithPath: "\(root)/\(version)/bin")
            if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path) { return bin }
        }
        for directory in ["/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin", "/usr/bin"] {
            if FileManager.default.isExecutableFile(atPath: directory + "/initdb")
                && FileManager.default.isExecutableFile(atPath: directory + "/pg_ctl")
            {
                return URL(fileURLWithPath: directory)
            }
        }
        throw Failure(
            description:
                "PostgreSQL server binaries (initdb, pg_ctl) not found; install them (Debian: apt-get install postgresql) or set DATABASE_URL"
        )
    }

    private func prepareDirectory(_ url: URL, private: Bool) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        if `private` { try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: url.path) }
        if geteuid() == 0 { try chown(url) }
    }

    private func chown(_ url: URL) throws {
        guard let user = getpwnam(Self.systemUser) else {
            throw Failure(
                description: "running as root needs the system user '\(Self.systemUser)' (Debian's postgresql package creates it)")
        }
        guard Glibc.chown(url.path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
            throw Failure(description: "cannot hand \(url.path) to user \(Self.systemUser)")
        }
    }

    private func checkSystemUserCanReach() throws {
        guard getpwnam(Self.systemUser) != nil else {
            throw Failure(
                description: "running as root needs the system user '\(Self.systemUser)' (Debian's postgresql package creates it)")
        }
        let probe = try run(URL(fileURLWithPath: "/usr/bin/test"), ["-x", folder.path])
        guard probe.status == 0 else {
            throw Failure(
                description:
                    "user '\(Self.systemUser)' cannot reach \(folder.path) (a parent directory is private); choose another folder with --data-dir"
            )
        }
    }

    /// Runs a program (as the `postgres` user when we are root) and returns its status and output.
    ///
    /// Spawned with `posix_spawn` and reaped with `waitpid`: Foundation's `Process` never reaps a
    /// child whose own child (the server `pg_ctl start` leaves running) outlives it. Output goes to
    /// a file, not a pipe, for the same reason: the server would hold a pipe open forever.
    private func run(_ program: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        var argv = [program.path] + arguments
        var executable = program.path
        if geteuid() == 0 {
            executable = "/usr/sbin/runuser"
            argv = [executable, "-u", Self.systemUser, "--", program.path] + arguments
        }
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("statusbro-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: capture) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, capture.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, cArguments, environ)
        guard spawned == 0 else { throw Failure(description: "cannot run \(executable): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? Data(contentsOf: capture)) ?? Data()
        // WIFEXITED/WEXITSTATUS are macros; decode the wait status by hand.
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
