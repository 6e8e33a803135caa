import Foundation
import Logging
import PostgresNIO
import StatusTestSupport
import Testing

@testable import StatusPostgres

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Connection settings as libpq reads them")
struct ConnectionStringTests {
    /// The test server's URL, and its port.
    func server() throws -> (url: String, port: Int) {
        let url = try #require(ProcessInfo.processInfo.environment["STATUSBRO_TEST_DATABASE_URL"])
        let port = try #require(URLComponents(string: url)?.port)
        return (url, port)
    }

    /// A port nothing listens on.
    func closedPort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test("a URI and the same settings as key=value read the same")
    func bothForms() throws {
        let uri = try ConnectionString("postgresql://owner:secret@db.example:6432/statusbro?sslmode=require&application_name=sb")
        let pairs = try ConnectionString(
            "host=db.example port=6432 user=owner password='secret' dbname=statusbro sslmode=require application_name=sb")
        for keyword in ["host", "port", "user", "password", "dbname", "sslmode", "application_name"] {
            #expect(uri[keyword] == pairs[keyword], "\(keyword)")
        }
        #expect(uri["host"] == "db.example" && uri["port"] == "6432" && uri["dbname"] == "statusbro")
        let several = try ConnectionString("postgresql://owner@one:5432,two:5433/statusbro?target_session_attrs=read-write")
        #expect(several["host"] == "one,two" && several["port"] == "5432,5433")
        #expect(try ConnectionString("statusbro")["dbname"] == "statusbro")
        #expect(try ConnectionString("").options.isEmpty)
    }

    @Test("a string libpq cannot read is refused with its reason, never with the password")
    func badStrings() {
        let cases: [(String, String)] = [
            ("postgresql://owner:s3cr%zzet@db/statusbro", "percent-encoded"),
            ("postgresql://owner:s3cret@db/statusbro?colour=blue", "colour"),
            ("host=db password=s3cret dbname", "dbname"),
            ("host=db password='s3cret", "quoted"),
            ("postgresql://owner:s3cret@db/statusbro?target_session_attrs=standby", "read-write"),
        ]
        for (text, expected) in cases {
            do {
                _ = try ConnectionString(text)
                Issue.record("accepted \(text)")
            } catch {
                let message = "\(error)"
                #expect(message.contains(expected), "\(message)")
                #expect(!message.contains("s3cr"), "the password leaked: \(message)")
                #expect(!message.contains("\n"))
            }
        }
    }

    @Test("locating connects where psql would: the server of a URI or of key=value settings")
    func locatesTheServer() throws {
        let (url, port) = try server()
        let byURI = try ConnectionString(url).locateOwner()
        #expect(byURI.endpoint == .tcp(host: "127.0.0.1", port: port) && byURI.username == "postgres" && byURI.database == "postgres")
        let byPairs = try ConnectionString("host=127.0.0.1 port=\(port) user=postgres dbname=postgres").locateOwner()
        #expect(byPairs == byURI)
        #expect(byURI.tls == .disable)
    }

    @Test("with several hosts, a host that does not answer is skipped; with none answering, each host's reason is one line")
    func severalHosts() throws {
        let (_, port) = try server()
        let dead = try closedPort()
        let located = try ConnectionString("postgresql://postgres@127.0.0.1:\(dead),127.0.0.1:\(port)/postgres").locateOwner()
        #expect(located.endpoint == .tcp(host: "127.0.0.1", port: port))
        do {
            _ = try ConnectionString("host=127.0.0.1 port=\(dead) user=postgres password=hidden-one dbname=postgres").locateOwner()
            Issue.record("a closed port was located")
        } catch {
            let message = "\(error)"
            #expect(message.contains("\(dead)") && message.contains("refused"), "\(message)")
            #expect(!message.contains("hidden-one") && !message.contains("\n"))
        }
    }

    @Test("a database that does not exist yet is named anyway, so it can be created")
    func databaseToCreate() throws {
        let (_, port) = try server()
        let name = "created_later_\(UInt32.random(in: 0...UInt32.max))"
        let located = try ConnectionString("host=127.0.0.1 port=\(port) user=postgres dbname=\(name)").locateOwner()
        #expect(located.database == name)
    }

    @Test("the pool moves to where the locator finds the primary, and work waiting for a connection goes with it")
    func poolFollowsThePrimary() async throws {
        let (url, port) = try server()
        let real = try ConnectionString(url).locateOwner()
        var settings = DatabaseSettings(
            location: real, service: .init(username: "postgres", password: nil), locator: FixedLocator(location: real))
        settings.endpoint = .tcp(host: "127.0.0.1", port: try closedPort())  // where the primary was
        let pool = PrimaryPool(settings: settings, logger: TestDatabase.logger)
        try await withPostgresClientRunning(pool) {
            try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    try await pool.rows("SELECT 42", logger: TestDatabase.logger).first?.decode(Int.self) ?? 0
                }
                try await Task.sleep(for: .milliseconds(200))
                pool.suspectPrimaryLost()  // as the rules listener does when its connection drops
                #expect(try await group.next() == 42)
            }
            #expect(pool.endpoint == .tcp(host: "127.0.0.1", port: port))
        }
    }
}

/// A locator that always answers the same place.
struct FixedLocator: PrimaryLocator {
    let location: PrimaryLocation

    func locate(username: String, password: String?) async throws -> PrimaryLocation { location }
}
