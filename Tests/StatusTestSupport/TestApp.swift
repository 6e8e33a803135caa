import Foundation
import Logging
import PostgresNIO
import StatusCore
import StatusPostgres

/// A running backend on a fresh test database, for tests that drive the core or the store directly.
public struct TestBackend: Sendable {
    public let settings: DatabaseSettings
    public let backend: PostgresBackend

    /// A backend on `settings`; its pool must be run by the caller.
    public init(settings: DatabaseSettings, backend: PostgresBackend) {
        self.settings = settings
        self.backend = backend
    }

    /// The core operations.
    public var services: StatusServices { backend.services }
    /// The store.
    public var store: PostgresStatusStore { backend.store }

    /// Runs `body` with the backend's pool running and the tenants' rules loaded.
    public static func withBackend<T: Sendable>(
        settings given: DatabaseSettings? = nil, _ body: @Sendable (TestBackend) async throws -> T
    ) async throws -> T {
        let settings: DatabaseSettings
        if let given { settings = given } else { settings = try await TestDatabase.fresh() }
        let backend = try PostgresBackend(settings: settings, logger: TestDatabase.logger)
        return try await withPostgresClientRunning(backend.client) {
            try await backend.services.loader.resync()
            return try await body(TestBackend(settings: settings, backend: backend))
        }
    }

    /// Creates an API key for `role` of `tenant` and returns it.
    public func key(_ tenant: String, _ role: String) async throws -> String {
        let tenant = TenantID(tenant)!
        let (keyId, key) = APIKeyFormat.generate(for: tenant)
        try await store.createKey(tenant: tenant, keyId: keyId, key: key, name: "test", roles: [role])
        return key
    }
}
