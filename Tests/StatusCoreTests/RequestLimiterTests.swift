import Foundation
import StatusRules
import Testing

@testable import StatusCore

@Suite("Token buckets per tenant and per credential")
struct RequestLimiterTests {
    let a = TenantID("tenant-a")!
    let b = TenantID("tenant-b")!

    func limits(tenantWrites: RateLimit? = nil, keyWrites: RateLimit? = nil) -> TenantLimits {
        TenantLimits(tenant: RequestLimits(writes: tenantWrites), perKey: RequestLimits(writes: keyWrites))
    }

    @Test("a burst goes through, the next request waits; reads, other tenants and tenants without limits are untouched")
    func burstThenWait() {
        let limiter = RequestLimiter()
        let rules = limits(tenantWrites: RateLimit(perSecond: 0.5, burst: 3))
        for _ in 0..<3 { #expect(limiter.admit(tenant: a, credential: "k1", kind: .write, limits: rules) == nil) }
        let wait = limiter.admit(tenant: a, credential: "k2", kind: .write, limits: rules)
        #expect(wait != nil && wait! > .seconds(1) && wait! <= .seconds(2))
        #expect(limiter.admit(tenant: a, credential: "k1", kind: .read, limits: rules) == nil)
        #expect(limiter.admit(tenant: b, credential: "k1", kind: .write, limits: rules) == nil)
        for _ in 0..<100 { #expect(limiter.admit(tenant: b, credential: "k1", kind: .write, limits: nil) == nil) }
    }

    @Test("each credential has its own bucket inside the tenant's, and a refused request costs neither")
    func perKey() {
        let limiter = RequestLimiter()
        let rules = limits(tenantWrites: RateLimit(perSecond: 0.01, burst: 4), keyWrites: RateLimit(perSecond: 0.01, burst: 2))
        #expect(limiter.admit(tenant: a, credential: "k1", kind: .write, limits: rules) == nil)
        #expect(limiter.admit(tenant: a, credential: "k1", kind: .write, limits: rules) == nil)
        for _ in 0..<5 { #expect(limiter.admit(tenant: a, credential: "k1", kind: .write, limits: rules) != nil) }
        // k1's refusals did not use the tenant's tokens: k2 still gets the two that are left.
        #expect(limiter.admit(tenant: a, credential: "k2", kind: .write, limits: rules) == nil)
        #expect(limiter.admit(tenant: a, credential: "k2", kind: .write, limits: rules) == nil)
        #expect(limiter.admit(tenant: a, credential: "k3", kind: .write, limits: rules) != nil)
    }

    @Test("tokens flow back at the configured rate, and a published change of limit applies to the next request")
    func refillAndChange() async throws {
        let limiter = RequestLimiter()
        let slow = limits(tenantWrites: RateLimit(perSecond: 20, burst: 1))
        #expect(limiter.admit(tenant: a, credential: "k", kind: .write, limits: slow) == nil)
        #expect(limiter.admit(tenant: a, credential: "k", kind: .write, limits: slow) != nil)
        try await Task.sleep(for: .milliseconds(60))  // more than one token's worth at 20 per second
        #expect(limiter.admit(tenant: a, credential: "k", kind: .write, limits: slow) == nil)
        // Removing the limit lifts it; a bigger burst fills up as time passes, not at once.
        #expect(limiter.admit(tenant: a, credential: "k", kind: .write, limits: nil) == nil)
        let wider = limits(tenantWrites: RateLimit(perSecond: 20, burst: 50))
        #expect(limiter.admit(tenant: a, credential: "k", kind: .write, limits: wider) != nil)
    }

    @Test("a bucket validation would refuse (no rate, no burst) limits nothing instead of trapping")
    func unusableBucket() {
        let limiter = RequestLimiter()
        for broken in [RateLimit(perSecond: 0, burst: 5), RateLimit(perSecond: -1, burst: 5), RateLimit(perSecond: 1, burst: 0)] {
            for _ in 0..<10 {
                #expect(limiter.admit(tenant: a, credential: "k", kind: .write, limits: limits(tenantWrites: broken)) == nil)
            }
        }
    }

    @Test("idle credentials' full buckets are swept, so keys that come and go do not grow memory")
    func sweep() async throws {
        let limiter = RequestLimiter(sweepAbove: 10)
        let rules = limits(keyWrites: RateLimit(perSecond: 1000, burst: 1))
        for n in 0..<10 { #expect(limiter.admit(tenant: a, credential: "k\(n)", kind: .write, limits: rules) == nil) }
        #expect(limiter.bucketCount == 10)
        try await Task.sleep(for: .milliseconds(20))  // every bucket is full again
        #expect(limiter.admit(tenant: a, credential: "new", kind: .write, limits: rules) == nil)
        #expect(limiter.bucketCount == 1)  // only the bucket just drawn on is kept
    }
}
