import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import StatusCore
import StatusHTTP
import StatusPostgres
import StatusRules
import StatusTestSupport

/// A response, read.
struct Reply {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var text: String
    /// The body parsed as JSON.
    var json: JSONValue { (try? JSONValue.parse(Data(text.utf8))) ?? .null }
    /// The problem code, for a problem answer.
    var code: String? { json["code"]?.stringValue }
}

/// A client for one test: the real router, the real database, a credential per call.
struct Harness {
    let client: any TestClientProtocol
    let app: TestBackend

    /// Runs `body` against the application built exactly as `statusbro serve` builds it, on a fresh database.
    static func run(_ body: @Sendable (Harness) async throws -> Void) async throws {
        let settings = try await TestDatabase.fresh()
        let backend = try PostgresBackend(settings: settings, logger: TestDatabase.logger)
        let application = buildApplication(
            configuration: ServerConfiguration(
                adminDirectory: TestDatabase.repositoryRoot.appendingPathComponent("admin").path,
                openAPIDocument: try String(contentsOf: TestDatabase.repositoryRoot.appendingPathComponent("openapi.json"), encoding: .utf8)
            ),
            services: backend.services, backgroundServices: backend.backgroundServices, logger: TestDatabase.logger)
        try await application.test(.router) { client in
            try await body(Harness(client: client, app: TestBackend(settings: settings, backend: backend)))
        }
    }

    func key(_ tenant: String, _ role: String) async throws -> String { try await app.key(tenant, role) }

    @discardableResult
    func request(
        _ method: HTTPRequest.Method, _ path: String, key: String? = nil, json: String? = nil, headers extra: HTTPFields = [:],
        contentType: String? = "application/json", bytes: [UInt8]? = nil
    ) async throws -> Reply {
        var headers = extra
        if let key { headers[HTTPField.Name("apikey")!] = key }
        var body: ByteBuffer?
        if let json { body = ByteBuffer(string: json) }
        if let bytes { body = ByteBuffer(bytes: bytes) }
        if body != nil, let contentType { headers[.contentType] = contentType }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: body)
        return Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
    }

    func get(_ path: String, key: String?) async throws -> Reply { try await request(.get, path, key: key) }

    func post(_ path: String, key: String?, _ json: String) async throws -> Reply { try await request(.post, path, key: key, json: json) }

    /// An event body with the given fields over sensible defaults.
    static func event(
        messageId: String = UUID().uuidString.lowercased(), source: String = "BYGGR", externalCaseId: String, status: String,
        occurredAt: String = "2024-04-23T12:47:17+02:00", flowInstanceId: String? = nil, organisationNumber: String? = nil,
        changeType: String? = nil, caseType: String = "Nybyggnadskarta"
    ) -> String {
        var members: [(String, JSONValue)] = [
            ("messageId", .string(messageId)), ("sourceSystem", .string(source)), ("externalCaseId", .string(externalCaseId)),
            ("caseType", .string(caseType)), ("status", .string(status)), ("occurredAt", .string(occurredAt)),
        ]
        if let flowInstanceId { members.append(("flowInstanceId", .string(flowInstanceId))) }
        if let organisationNumber { members.append(("organisationNumber", .string(organisationNumber))) }
        if let changeType { members.append(("changeType", .string(changeType))) }
        return JSONValue.object(Dictionary(uniqueKeysWithValues: members)).canonicalString
    }

    /// Publishes the sundsvall document changed by `change` through the admin API.
    func publishSundsvall(adminKey: String, baseVersion: Int, _ change: (inout RulesDocument) -> Void) async throws -> Reply {
        var document = try TestDatabase.document("sundsvall")
        change(&document)
        return try await post(
            "/admin/v1/rules/publish", key: adminKey,
            "{\"baseVersion\":\(baseVersion),\"comment\":\"test\",\"document\":\(document.jsonValue().canonicalString)}")
    }
}

/// Percent-encodes a path segment.
func segment(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))!
}
