import Foundation

// Hand-written coding: unknown keys are errors (a typo such as `transition:` must not be silently
// ignored in rules that decide what citizens see), defaults are filled in, and keys are written in a
// fixed, readable order with dictionaries sorted, so an export is stable.

extension KeyedDecodingContainer where K == AnyCodingKey {
    /// Throws when the container has a key outside `known`.
    func rejectUnknownKeys(_ known: Set<String>) throws {
        for key in allKeys where !known.contains(key.stringValue) {
            let allowed = known.sorted().joined(separator: ", ")
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath + [key], debugDescription: "unknown key '\(key.stringValue)'; allowed: \(allowed)")
            )
        }
    }

    func required<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
        try decode(type, forKey: AnyCodingKey(key))
    }

    func optional<T: Decodable>(_ type: T.Type, _ key: String) throws -> T? {
        try decodeIfPresent(type, forKey: AnyCodingKey(key))
    }
}

extension KeyedEncodingContainer where K == AnyCodingKey {
    mutating func put<T: Encodable>(_ value: T, _ key: String) throws {
        try encode(value, forKey: AnyCodingKey(key))
    }

    mutating func put<T: Encodable>(sorted dictionary: [String: T], _ key: String) throws {
        var nested = nestedContainer(keyedBy: AnyCodingKey.self, forKey: AnyCodingKey(key))
        for name in dictionary.keys.sorted() {
            try nested.encode(dictionary[name]!, forKey: AnyCodingKey(name))
        }
    }
}

extension RulesDocument: Codable {
    static let keys: Set<String> = [
        "tenant", "displayName", "country", "municipalityCode", "timeZone", "feedRetentionDays", "categories",
        "statuses", "sources", "transitions", "roles", "jwtIssuers", "limits", "tests",
    ]

    /// Decodes a document, refusing unknown keys.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknownKeys(Self.keys)
        self.init(
            tenant: try c.required(String.self, "tenant"),
            displayName: try c.required(String.self, "displayName"),
            country: try c.required(String.self, "country"),
            municipalityCode: try c.optional(String.self, "municipalityCode"),
            timeZone: try c.required(String.self, "timeZone"),
            feedRetentionDays: try c.optional(Int.self, "feedRetentionDays") ?? Self.defaultFeedRetentionDays,
            categories: try c.optional([String].self, "categories") ?? [],
            statuses: try c.required([StatusDefinition].self, "statuses"),
            sources: try c.optional([String: SourceDefinition].self, "sources") ?? [:],
            transitions: try c.optional(TransitionPolicy.self, "transitions") ?? TransitionPolicy(),
            roles: try c.optional([String: [String]].self, "roles") ?? [:],
            jwtIssuers: try c.optional([JWTIssuerDefinition].self, "jwtIssuers") ?? [],
            limits: try c.optional(TenantLimits.self, "limits"),
            tests: try c.optional([RuleTest].self, "tests") ?? []
        )
    }

    /// Encodes in the document's reading order.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        try c.put(tenant, "tenant")
        try c.put(displayName, "displayName")
        try c.put(country, "country")
        if let municipalityCode { try c.put(municipalityCode, "municipalityCode") }
        try c.put(timeZone, "timeZone")
        try c.put(feedRetentionDays, "feedRetentionDays")
        try c.put(categories, "categories")
        try c.put(statuses, "statuses")
        try c.put(sorted: sources, "sources")
        try c.put(transitions, "transitions")
        try c.put(sorted: roles, "roles")
        try c.put(jwtIssuers, "jwtIssuers")
        // Only when given: documents without limits keep the bytes (and digests) they always had.
        if let limits { try c.put(limits, "limits") }
        try c.put(tests, "tests")
    }
}

extension StatusDefinition: Codable {
    /// Decodes `{name, category, initial?, final?}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknownKeys(["name", "category", "initial", "final"])
        self.init(
            name: try c.required(String.self, "name"),
            category: try c.required(String.self, "category"),
            initial: try c.optional(Bool.self, "initial") ?? false,
            final: try c.optional(Bool.self, "final") ?? false
        )
    }

    /// Encodes the flags only when set.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        try c.put(name, "name")
        try c.put(category, "category")
        if initial { try c.put(true, "initial") }
        if final { try c.put(true, "final") }
    }
}

extension SourceDefinition: Codable {
    /// Decodes `{unmapped?, codes}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknownKeys(["codes", "unmapped"])
        self.init(
            codes: try c.optional([String: String].self, "codes") ?? [:],
            unmapped: try c.optional(UnmappedPolicy.self, "unmapped") ?? .reject
        )
    }

    /// Encodes the policy first, then the sorted table.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        try c.put(unmapped, "unmapped")
        try c.put(sorted: codes, "codes")
    }
}

extension UnmappedPolicy: Codable {
    /// Decodes `reject` or `{default: "<status>"}`.
    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let word = try? single.decode(String.self) {
            guard word == "reject" else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "expected 'reject' or {default: <status>}, got '\(word)'")
                )
            }
            self = .reject
            return
        }
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknownKeys(["default"])
        self = .defaultStatus(try c.required(String.self, "default"))
    }

    /// Encodes the same two forms.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .reject:
            var c = encoder.singleValueContainer()
            try c.encode("reject")
        case .defaultStatus(let status):
            var c = encoder.container(keyedBy: AnyCodingKey.self)
            try c.put(status, "default")
        }
    }
}

extension TransitionPolicy: Codable {
    /// Decodes `{default?, rules?}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknownKeys(["default", "rules"])
        self.init(
            default: try c.optional(Default.self, "default") ?? .allow,
            rules: try c.optional([TransitionRule].self, "rules") ?? []
        )
    }

    /// Encodes both fields.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        try c.put(self.default, "default")
        try c.put(rules, "rules")
    }
}

extension TransitionRule: Codable {
    /// Decodes `{from, to}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknownKeys(["from", "to"])
        self.init(from: try c.required(String.self, "from"), to: try c.required([String].self, "to"))
    }

    /// Encodes both fields.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        try c.put(from, "from")
        try c.put(to, "to")
    }
}

extension JWTIssuerDefinition: Codable {
    /// Decodes `{issuer, audience, rolesClaim?, jwks}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknownKeys(["issuer", "audience", "rolesClaim", "jwks"])
        self.init(
            issuer: try c.required(String.self, "issuer"),
            audience: try c.required(String.self, "audience"),
            rolesClaim: try c.optional(String.self, "rolesClaim") ?? "roles",
            jwks: try c.required(JWKSValue.self, "jwks").value
        )
    }

    /// Encodes all four fields.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        try c.put(issuer, "issuer")
        try c.put(audience, "audience")
        try c.put(rolesClaim, "rolesClaim")
        try c.put(jwks, "jwks")
    }
}

/// A JWKS given either as a JSON object or, as YAML files often do, as a string holding JSON.
private struct JWKSValue: Decodable {
    var value: JSONValue

    init(from decoder: any Decoder) throws {
        let decoded = try JSONValue(from: decoder)
        if case .string(let text) = decoded, let parsed = try? JSONValue.parse(Data(text.utf8)) {
            value = parsed
        } else {
            value = decoded
        }
    }
}

extension RuleTest: Codable {
    /// Decodes `{name?, source, code, expect: {status, category?} | unmapped}` or
    /// `{name?, transition: {from, to}, expect: allow | deny}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        let name = try c.optional(String.self, "name")
        if c.contains(AnyCodingKey("transition")) {
            try c.rejectUnknownKeys(["name", "transition", "expect"])
            let move = try c.nestedContainer(keyedBy: AnyCodingKey.self, forKey: AnyCodingKey("transition"))
            try move.rejectUnknownKeys(["from", "to"])
            let expect = try c.required(String.self, "expect")
            guard expect == "allow" || expect == "deny" else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: c.codingPath + [AnyCodingKey("expect")], debugDescription: "expected 'allow' or 'deny', got '\(expect)'"
                    )
                )
            }
            self = .transition(
                name: name, from: try move.required(String.self, "from"), to: try move.required(String.self, "to"),
                expectAllowed: expect == "allow"
            )
            return
        }
        try c.rejectUnknownKeys(["name", "source", "code", "expect"])
        let source = try c.required(String.self, "source")
        let code = try c.required(String.self, "code")
        if let word = try? c.decode(String.self, forKey: AnyCodingKey("expect")) {
            guard word == "unmapped" else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: c.codingPath + [AnyCodingKey("expect")],
                        debugDescription: "expected {status, category} or 'unmapped', got '\(word)'")
                )
            }
            self = .mapping(name: name, source: source, code: code, expect: .unmapped)
            return
        }
        let expect = try c.nestedContainer(keyedBy: AnyCodingKey.self, forKey: AnyCodingKey("expect"))
        try expect.rejectUnknownKeys(["status", "category"])
        self = .mapping(
            name: name, source: source, code: code,
            expect: .status(try expect.required(String.self, "status"), category: try expect.optional(String.self, "category"))
        )
    }

    /// Encodes the same shapes.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        switch self {
        case .mapping(let name, let source, let code, let expect):
            if let name { try c.put(name, "name") }
            try c.put(source, "source")
            try c.put(code, "code")
            switch expect {
            case .unmapped:
                try c.put("unmapped", "expect")
            case .status(let status, let category):
                var e = c.nestedContainer(keyedBy: AnyCodingKey.self, forKey: AnyCodingKey("expect"))
                try e.put(status, "status")
                if let category { try e.put(category, "category") }
            }
        case .transition(let name, let from, let to, let expectAllowed):
            if let name { try c.put(name, "name") }
            var t = c.nestedContainer(keyedBy: AnyCodingKey.self, forKey: AnyCodingKey("transition"))
            try t.put(from, "from")
            try t.put(to, "to")
            try c.put(expectAllowed ? "allow" : "deny", "expect")
        }
    }
}
