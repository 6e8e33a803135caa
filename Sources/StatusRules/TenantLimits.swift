/// How much one tenant may ask of the service, so that its bursts do not starve the others: a
/// token bucket for the tenant as a whole and one for each of its credentials, for reads and for
/// writes. Part of the rules document (`limits:`), so a change is published and hot-reloaded like
/// every rule. A bucket left out does not limit.
public struct TenantLimits: Sendable, Equatable {
    /// For all of the tenant's credentials together.
    public var tenant: RequestLimits
    /// For each credential (API key, or token subject) on its own.
    public var perKey: RequestLimits

    /// Limits.
    public init(tenant: RequestLimits = RequestLimits(), perKey: RequestLimits = RequestLimits()) {
        self.tenant = tenant
        self.perKey = perKey
    }
}

/// The buckets of one scope: reads (GET, HEAD) and writes (every other method).
public struct RequestLimits: Sendable, Equatable {
    /// Requests that only read.
    public var reads: RateLimit?
    /// Requests that change something (a batch of events is one request).
    public var writes: RateLimit?

    /// Limits for reads and writes.
    public init(reads: RateLimit? = nil, writes: RateLimit? = nil) {
        self.reads = reads
        self.writes = writes
    }
}

/// A token bucket: `perSecond` tokens flow in, at most `burst` are kept; each request takes one.
public struct RateLimit: Sendable, Equatable, Hashable {
    /// The sustained rate, in requests per second.
    public var perSecond: Double
    /// How many requests may come at once after a quiet spell.
    public var burst: Int

    /// A bucket.
    public init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// The largest rate and burst a document may give (a bucket larger than this limits nothing).
    public static let maximumPerSecond = 1_000_000.0
    /// The largest burst.
    public static let maximumBurst = 10_000_000
}

extension TenantLimits: Codable {
    /// Decodes `{tenant?, perKey?}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknownKeys(["tenant", "perKey"])
        self.init(
            tenant: try c.optional(RequestLimits.self, "tenant") ?? RequestLimits(),
            perKey: try c.optional(RequestLimits.self, "perKey") ?? RequestLimits())
    }

    /// Encodes the scopes that limit something.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        if tenant != RequestLimits() { try c.put(tenant, "tenant") }
        if perKey != RequestLimits() { try c.put(perKey, "perKey") }
    }
}

extension RequestLimits: Codable {
    /// Decodes `{reads?, writes?}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknownKeys(["reads", "writes"])
        self.init(reads: try c.optional(RateLimit.self, "reads"), writes: try c.optional(RateLimit.self, "writes"))
    }

    /// Encodes the buckets given.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        if let reads { try c.put(reads, "reads") }
        if let writes { try c.put(writes, "writes") }
    }
}

extension RateLimit: Codable {
    /// Decodes `{perSecond, burst?}`; the burst defaults to one second's worth (at least 1).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknownKeys(["perSecond", "burst"])
        let perSecond = try c.required(Double.self, "perSecond")
        let burst = try c.optional(Int.self, "burst") ?? max(1, Int(perSecond.isFinite ? min(perSecond, 1e9).rounded(.up) : 1))
        self.init(perSecond: perSecond, burst: burst)
    }

    /// Encodes both fields.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        try c.put(perSecond, "perSecond")
        try c.put(burst, "burst")
    }
}
