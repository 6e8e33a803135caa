import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import StatusCore
import Synchronization

/// This process's cache of case records for the hot read path (the Swedish face's status reads,
/// one case or an organisation's list), so reading a status touches no database.
///
/// Kept exact by invalidation per tenant: a transaction of this process that changed cases
/// invalidates its tenant right after its commit, and announces the tenant to the other processes
/// (`NOTIFY statusbro_cases`, sent after the commit and batched, never inside the writing
/// transaction, where it would serialise all commits on PostgreSQL's notification lock). A read
/// only caches what it read if no invalidation of its tenant happened meanwhile (a generation
/// check), so a read racing a write cannot leave the old record behind. Entries also expire after
/// `timeToLive`, which bounds what a lost notification (a process killed between its commit and its
/// announcement) could leave stale.
public final class CaseCache: Sendable {
    struct Entry<Value: Sendable>: Sendable {
        var value: Value
        var expires: ContinuousClock.Instant
    }

    struct Bucket: Sendable {
        var generation: UInt64 = 0
        // One case is kept as a one-element array, the form a read answers with: handing it out is
        // one reference (not a copy of the record's strings), and a reader can tell it is the same
        // array as before without comparing the records (the hot reads' encoded bodies).
        var byExternalId: [String: Entry<[CaseRecord]>] = [:]
        var byFlowOrExternalId: [String: Entry<[CaseRecord]>] = [:]
        /// An organisation's live cases, as `statuses` lists them; one entry however many cases.
        var byOrganisation: [String: Entry<[CaseRecord]>] = [:]

        var count: Int { byExternalId.count + byFlowOrExternalId.count + byOrganisation.count }
    }

    /// How a case was asked for.
    enum Lookup {
        case externalId
        case flowOrExternalId
    }

    private let buckets = Mutex<[TenantID: Bucket]>([:])
    private let entries = Atomic<Int>(0)
    let timeToLive: Duration
    let capacity: Int

    /// A cache keeping entries for `timeToLive` at most, and at most `capacity` of them.
    public init(timeToLive: Duration = .seconds(60), capacity: Int = 200_000) {
        self.timeToLive = timeToLive
        self.capacity = capacity
    }

    func record(_ tenant: TenantID, _ id: String, _ lookup: Lookup) -> CaseRecord? {
        records(tenant, id, lookup)?.first
    }

    /// The case as cached, as a one-element array.
    func records(_ tenant: TenantID, _ id: String, _ lookup: Lookup) -> [CaseRecord]? {
        let now = ContinuousClock.now
        return buckets.withLock { buckets in
            let entry: Entry<[CaseRecord]>? =
                switch lookup {
                case .externalId: buckets[tenant]?.byExternalId[id]
                case .flowOrExternalId: buckets[tenant]?.byFlowOrExternalId[id]
                }
            guard let entry, entry.expires > now else { return nil }
            return entry.value
        }
    }

    /// An organisation's live cases, as cached.
    func cases(_ tenant: TenantID, organisationNumber: String) -> [CaseRecord]? {
        let now = ContinuousClock.now
        return buckets.withLock { buckets in
            guard let entry = buckets[tenant]?.byOrganisation[organisationNumber], entry.expires > now else { return nil }
            return entry.value
        }
    }

    /// The tenant's generation: take it before reading the database, and pass it to `store`.
    func generation(_ tenant: TenantID) -> UInt64 {
        buckets.withLock { $0[tenant]?.generation ?? 0 }
    }

    /// Caches what a read found, unless the tenant was invalidated since `generation` was taken.
    func store(_ record: CaseRecord, _ tenant: TenantID, _ id: String, _ lookup: Lookup, generation: UInt64) {
        if entries.load(ordering: .relaxed) >= capacity { invalidateAll() }
        let entry = Entry(value: [record], expires: ContinuousClock.now.advanced(by: timeToLive))
        let added = buckets.withLock { buckets -> Bool in
            guard (buckets[tenant]?.generation ?? 0) == generation else { return false }
            // Mutate in place: copying the bucket out and back would copy its dictionaries on every store.
            switch lookup {
            case .externalId: return buckets[tenant, default: Bucket()].byExternalId.updateValue(entry, forKey: id) == nil
            case .flowOrExternalId: return buckets[tenant, default: Bucket()].byFlowOrExternalId.updateValue(entry, forKey: id) == nil
            }
        }
        if added { entries.add(1, ordering: .relaxed) }
    }

    /// Caches an organisation's live cases, unless the tenant was invalidated since `generation`
    /// was taken (any write to the tenant's cases may change the list).
    func store(_ records: [CaseRecord], _ tenant: TenantID, organisationNumber: String, generation: UInt64) {
        if entries.load(ordering: .relaxed) >= capacity { invalidateAll() }
        let entry = Entry(value: records, expires: ContinuousClock.now.advanced(by: timeToLive))
        let added = buckets.withLock { buckets -> Bool in
            guard (buckets[tenant]?.generation ?? 0) == generation else { return false }
            return buckets[tenant, default: Bucket()].byOrganisation.updateValue(entry, forKey: organisationNumber) == nil
        }
        if added { entries.add(1, ordering: .relaxed) }
    }

    /// Forgets every case of `tenant`.
    public func invalidate(_ tenant: TenantID) {
        let removed = buckets.withLock { buckets -> Int in
            let old = buckets.removeValue(forKey: tenant) ?? Bucket()
            buckets[tenant] = Bucket(generation: old.generation &+ 1)
            return old.count
        }
        entries.subtract(removed, ordering: .relaxed)
    }

    /// Forgets everything (the notification connection was lost: announcements may have been missed).
    public func invalidateAll() {
        buckets.withLock { buckets in
            for tenant in Array(buckets.keys) { buckets[tenant] = Bucket(generation: buckets[tenant]!.generation &+ 1) }
        }
        entries.store(0, ordering: .relaxed)
    }
}

/// Tells the other processes which tenants' cases changed: batches the tenants this process wrote
/// and sends one `NOTIFY statusbro_cases` per tenant, outside the writing transactions.
public final class CaseChangeAnnouncer: Service {
    private let pending = Mutex<Set<TenantID>>([])
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>
    let client: PrimaryPool
    let logger: Logger

    /// An announcer sending through `client`.
    public init(client: PrimaryPool, logger: Logger) {
        self.client = client
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Notes that cases of `tenant` changed (a committed write).
    func announce(_ tenant: TenantID) {
        pending.withLock { _ = $0.insert(tenant) }
        wake.yield()
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in self.wakes {
                // Gather what a burst of writes announces into one statement.
                try? await Task.sleep(for: .milliseconds(2))
                let tenants = self.pending.withLock { pending in
                    defer { pending.removeAll() }
                    return pending.map(\.rawValue)
                }
                guard !tenants.isEmpty else { continue }
                do {
                    _ = try await self.client.rows(
                        "SELECT pg_notify('statusbro_cases', t) FROM unnest(\(tenants)::text[]) AS t", logger: self.logger)
                } catch {
                    // The other processes' caches expire anyway; say so and go on.
                    self.logger.warning("could not announce changed cases", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
