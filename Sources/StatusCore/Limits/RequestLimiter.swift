import StatusRules
import Synchronization

/// Keeps each tenant within the request rates its rules allow (`limits:`): a token bucket for the
/// tenant as a whole and one per credential, for reads and for writes. A request takes a token
/// from both; when either is empty it is refused before it costs the database anything, and told
/// when to come back. The buckets live in this process: with several processes behind a load
/// balancer, each allows the whole rate (give each 1/N of it).
public final class RequestLimiter: Sendable {
    /// What a request does, for the bucket it draws on.
    public enum Kind: Sendable, Hashable {
        case read
        case write
    }

    private struct Key: Hashable {
        var tenant: TenantID
        /// `nil`: the tenant's own bucket.
        var credential: String?
        var kind: Kind
    }

    private struct Bucket {
        var limit: RateLimit
        var tokens: Double
        var refilledAt: ContinuousClock.Instant

        /// Tops the bucket up for the time since it was last touched, following a changed limit.
        mutating func refill(_ now: ContinuousClock.Instant, limit: RateLimit) {
            if limit != self.limit {
                self.limit = limit
                tokens = min(tokens, Double(limit.burst))
            }
            tokens = level(at: now)
            refilledAt = now
        }

        /// The tokens there would be at `now`.
        func level(at now: ContinuousClock.Instant) -> Double {
            let elapsed = now - refilledAt
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            return min(Double(limit.burst), tokens + seconds * limit.perSecond)
        }

        /// How long until a token is there (zero when one is).
        var wait: Duration {
            tokens >= 1 ? .zero : .seconds((1 - tokens) / limit.perSecond)
        }
    }

    private let buckets = Mutex<[Key: Bucket]>([:])
    private let clock = ContinuousClock()
    /// Past this many buckets, full ones (idle credentials) are dropped: a full bucket is what a new one would be.
    private let sweepAbove: Int

    /// A limiter with no buckets yet.
    public init(sweepAbove: Int = 10_000) {
        self.sweepAbove = sweepAbove
    }

    /// How many buckets are kept now.
    var bucketCount: Int { buckets.withLock { $0.count } }

    /// Takes a token for a request of `kind` by `credential` of `tenant`, under `limits`. Returns
    /// `nil` when the request may go ahead, else how long to wait before trying again.
    public func admit(tenant: TenantID, credential: String, kind: Kind, limits: TenantLimits?) -> Duration? {
        guard let limits else { return nil }
        let tenantLimit = kind == .read ? limits.tenant.reads : limits.tenant.writes
        let keyLimit = kind == .read ? limits.perKey.reads : limits.perKey.writes
        if tenantLimit == nil && keyLimit == nil { return nil }
        let now = clock.now
        return buckets.withLock { buckets in
            var drawn: [(Key, Bucket)] = []
            var wait = Duration.zero
            for (credential, limit) in [(nil, tenantLimit), (credential, keyLimit)] as [(String?, RateLimit?)] {
                // A bucket validation refuses (no rate, no burst) never reaches a published release;
                // should one anyway, it limits nothing rather than divide by zero.
                guard let limit, limit.perSecond > 0, limit.perSecond.isFinite, limit.burst >= 1 else { continue }
                let key = Key(tenant: tenant, credential: credential, kind: kind)
                var bucket = buckets[key] ?? Bucket(limit: limit, tokens: Double(limit.burst), refilledAt: now)
                bucket.refill(now, limit: limit)
                wait = max(wait, bucket.wait)
                drawn.append((key, bucket))
            }
            // Both buckets must have a token; neither is charged for a request that is refused.
            let admitted = wait == .zero
            for (key, var bucket) in drawn {
                if admitted { bucket.tokens -= 1 }
                buckets[key] = bucket
            }
            if buckets.count > sweepAbove {
                buckets = buckets.filter { $0.value.level(at: now) < Double($0.value.limit.burst) }
            }
            return admitted ? nil : wait
        }
    }
}
