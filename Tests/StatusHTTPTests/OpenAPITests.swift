import Foundation
import Hummingbird
import StatusHTTP
import StatusPostgres
import StatusRules
import StatusTestSupport
import Testing

@Suite("The OpenAPI document")
struct OpenAPITests {
    @Test("it describes exactly the routes the router serves, and is served at /openapi.json")
    func matchesRouter() async throws {
        let text = try String(contentsOf: TestDatabase.repositoryRoot.appendingPathComponent("openapi.json"), encoding: .utf8)
        let document = try JSONValue.parse(Data(text.utf8))
        #expect(document["openapi"]?.stringValue?.hasPrefix("3.1") == true)
        var documented = Set<String>()
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for method in ["get", "put", "post", "delete", "patch"] where item[method] != nil {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let settings = try await TestDatabase.fresh()
        let backend = try PostgresBackend(settings: settings, logger: TestDatabase.logger)
        let router = buildRouter(configuration: ServerConfiguration(openAPIDocument: text), services: backend.services)
        try router.validate()
        let routed = Set(router.routes.map { "\($0.method) \($0.path)" })
        #expect(routed.subtracting(documented).sorted() == [], "routes missing from the document")
        #expect(documented.subtracting(routed).sorted() == [], "documented paths no route serves")

        try await Harness.run { h in
            let served = try await h.get("/openapi.json", key: nil)
            #expect(served.status == .ok && served.json == document)
        }
    }
}
