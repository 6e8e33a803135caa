/// What a role may do. Roles and their permissions are rules as data, per tenant.
public enum Permission: Sendable, Hashable, CustomStringConvertible {
    case statusRead
    /// Submit events; `source == nil` means for every source system.
    case eventsWrite(source: String?)
    case dibkWrite
    case dibkRead
    case feedRead
    case rulesRead
    case rulesWrite
    case rulesPublish
    case auditExport
    case deadLettersManage

    /// Every permission that takes no argument, by its wire name.
    static let simple: [String: Permission] = [
        "status:read": .statusRead,
        "events:write": .eventsWrite(source: nil),
        "dibk:write": .dibkWrite,
        "dibk:read": .dibkRead,
        "feed:read": .feedRead,
        "rules:read": .rulesRead,
        "rules:write": .rulesWrite,
        "rules:publish": .rulesPublish,
        "audit:export": .auditExport,
        "deadletters:manage": .deadLettersManage,
    ]

    /// Parses a wire name such as `rules:read` or `events:write:BYGGR`.
    public init?(_ string: String) {
        if let permission = Permission.simple[string] {
            self = permission
            return
        }
        let prefix = "events:write:"
        guard string.hasPrefix(prefix), string.count > prefix.count else { return nil }
        self = .eventsWrite(source: String(string.dropFirst(prefix.count)))
    }

    /// The wire name.
    public var description: String {
        switch self {
        case .statusRead: "status:read"
        case .eventsWrite(let source?): "events:write:\(source)"
        case .eventsWrite(nil): "events:write"
        case .dibkWrite: "dibk:write"
        case .dibkRead: "dibk:read"
        case .feedRead: "feed:read"
        case .rulesRead: "rules:read"
        case .rulesWrite: "rules:write"
        case .rulesPublish: "rules:publish"
        case .auditExport: "audit:export"
        case .deadLettersManage: "deadletters:manage"
        }
    }
}

/// The permissions a set of roles grants.
public struct PermissionSet: Sendable, Hashable {
    /// The granted permissions, with scoped `events:write:<SOURCE>` kept as given.
    public private(set) var granted: Set<Permission>

    /// A set granting `permissions`.
    public init(_ permissions: some Sequence<Permission> = []) {
        self.granted = Set(permissions)
    }

    /// Adds what `other` grants.
    public mutating func formUnion(_ other: PermissionSet) {
        granted.formUnion(other.granted)
    }

    /// Whether `permission` is granted. An unscoped `events:write` grant covers every source system.
    public func contains(_ permission: Permission) -> Bool {
        if granted.contains(permission) { return true }
        if case .eventsWrite(.some) = permission {
            return granted.contains(.eventsWrite(source: nil))
        }
        return false
    }

    /// Whether events of at least one source system may be written; the source itself is checked per message.
    public var writesSomeEvents: Bool {
        granted.contains { if case .eventsWrite = $0 { true } else { false } }
    }

    /// The wire names, sorted.
    public var names: [String] { granted.map(\.description).sorted() }
}
