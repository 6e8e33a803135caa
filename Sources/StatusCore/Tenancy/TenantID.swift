import StatusRules

/// A tenant (one municipality's rules and data), named `[a-z0-9-]+`.
public struct TenantID: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// The id as written in documents, keys and the database.
    public let rawValue: String

    /// A tenant id, or `nil` when `rawValue` is not a valid one.
    public init?(_ rawValue: String) {
        guard RulesValidator.isValidTenantID(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// The id.
    public var description: String { rawValue }

    /// Orders by id.
    public static func < (lhs: TenantID, rhs: TenantID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Decodes and checks an id.
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let id = TenantID(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid tenant id"))
        }
        self = id
    }

    /// Encodes the id.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Who is calling: a tenant and the roles its credential carries. Permissions are not stored
/// here; they come from the tenant's current rules each time, so a role changed by a publish
/// takes effect at once.
public struct Principal: Sendable, Equatable {
    /// The tenant the credential belongs to.
    public var tenant: TenantID
    /// The roles named by the credential.
    public var roles: [String]
    /// The API key id or the token's subject, for audit.
    public var subject: String

    /// A principal.
    public init(tenant: TenantID, roles: [String], subject: String) {
        self.tenant = tenant
        self.roles = roles
        self.subject = subject
    }
}
