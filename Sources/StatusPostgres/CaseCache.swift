import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import StatusCore
import Synchronization

/// This process's cache of case records for the hot read path (the Swedish face's status reads,
/// one case or an organisation's list), so reading a status touches no database.
///
/// Kept exact by invalidation after every committed write: a transaction of this process that
/// changed cases forgets what it changed right after its commit, and announces it to the other
/// processes (`NOTIFY statusbro_cases`, sent after the commit and batched, never inside the writing
/// transaction, where it would serialise all commits on PostgreSQL's notification lock).
///
/// An event's write forgets only the entries it may have changed (`CaseChanges`): every entry that
/// holds one of its cases (found through `keysByCase`, which is how a case's old flow id or old
/// organisation is found), and every entry asked for by one of the case's ids or organisation as
/// they are now (which is how a new case, or a case that now wins a lookup, is found). A rules
/// release or an erasure forgets its whole tenant, and so does, in the other processes, a write of
/// more cases than an announcement names (`CaseInvalidation.largestAnnounced`).
///
/// A read only caches what it read if no invalidation of its tenant happened meanwhile (a
/// generation check), so a read racing a write cannot leave the old record behind. Entries also
/// expire after about `timeToLive`, which bounds what a lost notification (a process killed between
/// its commit and its announcement) could leave stale.
public final class CaseCache: Sendable {
    struct Entry<Value: Sendable>: Sendable {
        var value: Value
        var expires: ContinuousClock.Instant
    }

    /// How a case was asked for.
    enum Lookup {
        case externalId
        case flowOrExternalId
    }

    /// Where an entry is kept.
    enum Key: Hashable, Sendable {
        case record(Lookup, ExactText)
        case organisation(String)
    }

    struct Bucket: Sendable {
        var generation: UInt64 = 0
        // One case is kept as a one-element array, the form a read answers with: handing it out is
        // one reference (not a copy of the record's strings), and a reader can tell it is the same
        // array as before without comparing the records (the hot reads' encoded bodies).
        var byExternalId: [ExactText: Entry<[CaseRecord]>] = [:]
        var byFlowOrExternalId: [ExactText: Entry<[CaseRecord]>] = [:]
        /// An organisation's live cases, as `statuses` lists them; one entry however many cases.
        var byOrganisation: [String: Entry<[CaseRecord]>] = [:]
        /// Where each case's records were cached. It may name entries since replaced by another
        /// case's (forgetting those too is harmless); it counts towards the capacity, so it is bounded too.
        var keysByCase: [UUID: [Key]] = [:]
        var indexed = 0

        var count: Int { byExternalId.count + byFlowOrExternalId.count + byOrganisation.count + indexed }

        /// Caches `records` under `key`; how many entries that added.
        mutating func store(_ records: [CaseRecord], expires: ContinuousClock.Instant, under key: Key) -> Int {
            let entry = Entry(value: records, expires: expires)
            let replaced: Entry<[CaseRecord]>? =
                switch key {
                case .record(.externalId, let id): byExternalId.updateValue(entry, forKey: id)
                case .record(.flowOrExternalId, let id): byFlowOrExternalId.updateValue(entry, forKey: id)
                case .organisation(let number): byOrganisation.updateValue(entry, forKey: number)
                }
            var added = replaced == nil ? 1 : 0
            for record in records {
                if keysByCase[record.caseId, default: []].contains(key) { continue }
                keysByCase[record.caseId, default: []].append(key)
                indexed += 1
                added += 1
            }
            return added
        }

        /// Forgets the entry under `key`; how many entries that removed.
        mutating func remove(_ key: Key) -> Int {
            let removed: Entry<[CaseRecord]>? =
                switch key {
                case .record(.externalId, let id): byExternalId.removeValue(forKey: id)
                case .record(.flowOrExternalId, let id): byFlowOrExternalId.removeValue(forKey: id)
                case .organisation(let number): byOrganisation.removeValue(forKey: number)
                }
            return removed == nil ? 0 : 1
        }

        /// Forgets every entry `changes` may have changed; how many entries that removed.
        mutating func forget(_ changes: CaseChanges) -> Int {
            var removed = 0
            for caseId in changes.caseIds {
                guard let keys = keysByCase.removeValue(forKey: caseId) else { continue }
                indexed -= keys.count
                removed += keys.count
                for key in keys { removed += remove(key) }
            }
            for id in changes.ids {
                removed += remove(.record(.externalId, id)) + remove(.record(.flowOrExternalId, id))
            }
            for number in changes.organisations { removed += remove(.organisation(number)) }
            return removed
        }
    }

    /// The tenants' buckets, and an epoch that `invalidateAll` moves on (so that a read of a
    /// tenant that had no bucket yet cannot cache what it read before either).
    private struct State {
        var epoch: UInt64 = 0
        var buckets: [TenantID: Bucket] = [:]
    }

    /// What a read takes before it reads the database, and hands to `store`.
    struct Generation: Equatable {
        var epoch: UInt64
        var tenant: UInt64
    }

    private let state = Mutex(State())
    private let entries = Atomic<Int>(0)
    let timeToLive: Duration
    let capacity: Int
    /// Names this cache in its process's announcements, so that it can tell its own when they come
    /// back (it forgot what they name already, at the commit).
    public let origin = UUID()

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
        let key = ExactText(id)
        return state.withLock { state in
            let entry: Entry<[CaseRecord]>? =
                switch lookup {
                case .externalId: state.buckets[tenant]?.byExternalId[key]
                case .flowOrExternalId: state.buckets[tenant]?.byFlowOrExternalId[key]
                }
            guard let entry, entry.expires > now else { return nil }
            return entry.value
        }
    }

    /// An organisation's live cases, as cached.
    func cases(_ tenant: TenantID, organisationNumber: String) -> [CaseRecord]? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let entry = state.buckets[tenant]?.byOrganisation[organisationNumber], entry.expires > now else { return nil }
            return entry.value
        }
    }

    /// The tenant's generation: take it before reading the database, and pass it to `store`.
    func generation(_ tenant: TenantID) -> Generation {
        state.withLock { Generation(epoch: $0.epoch, tenant: $0.buckets[tenant]?.generation ?? 0) }
    }

    /// Caches what a read found, unless the tenant was invalidated since `generation` was taken.
    func store(_ record: CaseRecord, _ tenant: TenantID, _ id: String, _ lookup: Lookup, generation: Generation) {
        store([record], tenant, under: .record(lookup, ExactText(id)), generation: generation)
    }

    /// Caches an organisation's live cases, unless the tenant was invalidated since `generation`
    /// was taken.
    func store(_ records: [CaseRecord], _ tenant: TenantID, organisationNumber: String, generation: Generation) {
        store(records, tenant, under: .organisation(organisationNumber), generation: generation)
    }

    private func store(_ records: [CaseRecord], _ tenant: TenantID, under key: Key, generation: Generation) {
        if entries.load(ordering: .relaxed) >= capacity { invalidateAll() }
        let expires = ContinuousClock.now.advanced(by: expiry())
        let added = state.withLock { state -> Int in
            guard state.epoch == generation.epoch, (state.buckets[tenant]?.generation ?? 0) == generation.tenant else { return 0 }
            // Mutate in place: copying the bucket out and back would copy its dictionaries on every store.
            return state.buckets[tenant, default: Bucket()].store(records, expires: expires, under: key)
        }
        if added > 0 { Gauge(label: "statusbro_case_cache_entries").record(entries.add(added, ordering: .relaxed).newValue) }
    }

    /// How long an entry stored now lives: `timeToLive`, less up to a tenth at random, so that
    /// entries cached together (a warm-up, a burst of polling) do not all expire in the same moment
    /// and send their reads to the database at once.
    func expiry() -> Duration {
        timeToLive - timeToLive * Double.random(in: 0..<0.1)
    }

    /// Forgets what `changes` may have changed among `tenant`'s cases.
    func invalidate(_ tenant: TenantID, _ changes: CaseChanges) {
        let removed = state.withLock { state -> Int in
            // A read of the tenant in flight now may have read a case before this write: it must not cache it.
            state.buckets[tenant, default: Bucket()].generation &+= 1
            return state.buckets[tenant, default: Bucket()].forget(changes)
        }
        forgotten("cases", entries.subtract(removed, ordering: .relaxed).newValue)
    }

    /// Forgets every case of `tenant`.
    public func invalidate(_ tenant: TenantID) {
        let removed = state.withLock { state -> Int in
            let old = state.buckets.removeValue(forKey: tenant) ?? Bucket()
            state.buckets[tenant] = Bucket(generation: old.generation &+ 1)
            return old.count
        }
        forgotten("tenant", entries.subtract(removed, ordering: .relaxed).newValue)
    }

    /// Forgets everything (the notification connection was lost: announcements may have been missed).
    public func invalidateAll() {
        state.withLock { state in
            state.epoch &+= 1
            state.buckets.removeAll()
        }
        entries.store(0, ordering: .relaxed)
        forgotten("all", 0)
    }

    /// Counts an invalidation of `scope` and records how many entries are left (both off the read path).
    private func forgotten(_ scope: String, _ left: Int) {
        // Made each time, not kept: a handle made before the metrics system is bootstrapped would count nowhere.
        Counter(label: "statusbro_case_cache_invalidations_total", dimensions: [("scope", scope)]).increment()
        // The count is kept beside the lock, so a store racing an invalidateAll can leave it off by a few.
        Gauge(label: "statusbro_case_cache_entries").record(max(0, left))
    }
}

/// Text compared byte for byte, as PostgreSQL compares ids, where Swift's `String` compares
/// canonically equivalent texts as equal ("K" and the Kelvin sign "K"): a case cached under one id
/// must never answer for another.
struct ExactText: Hashable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (left: ExactText, right: ExactText) -> Bool { left.text.utf8.elementsEqual(right.text.utf8) }

    // Texts equal byte for byte are the same `String`, so its hash agrees with `==`.
    func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

/// What committed writes changed among one tenant's cases, as the caches need to know it: the
/// cases, and their ids and organisations as written.
struct CaseChanges: Sendable, Equatable {
    var caseIds: Set<UUID> = []
    /// External case ids and flow instance ids.
    var ids: Set<ExactText> = []
    var organisations: Set<String> = []

    var isEmpty: Bool { caseIds.isEmpty && ids.isEmpty && organisations.isEmpty }

    /// Adds a written case as it is now.
    mutating func insert(_ record: CaseRecord) {
        caseIds.insert(record.caseId)
        ids.insert(ExactText(record.externalCaseId))
        if let flow = record.flowInstanceId { ids.insert(ExactText(flow)) }
        if let organisation = record.organisationNumber { organisations.insert(organisation) }
    }
}

/// What a committed transaction makes the case caches forget.
enum CaseInvalidation: Sendable, Equatable {
    /// What these writes may have changed.
    case cases(CaseChanges)
    /// Every case of the tenant.
    case tenant

    /// Changes of more cases than this are announced as the whole tenant: the announcement stays
    /// inside PostgreSQL's 8,000-byte `NOTIFY` payload, and the announcer does not gather a
    /// backfill's ids. (This process forgets just the cases, however many.)
    static let largestAnnounced = 40

    /// Both this and `other`.
    func merged(with other: CaseInvalidation) -> CaseInvalidation {
        guard case .cases(var changes) = self, case .cases(let more) = other else { return .tenant }
        changes.caseIds.formUnion(more.caseIds)
        changes.ids.formUnion(more.ids)
        changes.organisations.formUnion(more.organisations)
        return .cases(changes)
    }

    /// Whether it names more cases than an announcement does.
    var isLarge: Bool {
        guard case .cases(let changes) = self else { return false }
        return changes.caseIds.count > Self.largestAnnounced
    }

    /// The announcement's `NOTIFY` payload: the tenant's id alone for the whole tenant (as every
    /// version sends it), else a JSON object naming the changes.
    func payload(_ tenant: TenantID, origin: UUID) -> String {
        guard case .cases(let changes) = self, !isLarge else { return tenant.rawValue }
        let payload = Payload(
            version: Payload.currentVersion, origin: origin, tenant: tenant.rawValue,
            cases: changes.caseIds.sorted { $0.uuidString < $1.uuidString },
            ids: changes.ids.map(\.text).sorted(), organisations: changes.organisations.sorted())
        // Ids may be up to 200 bytes each, so 40 cases do not always fit: a payload that would not
        // forgets the whole tenant instead.
        guard let data = try? JSONEncoder().encode(payload), data.count < 7_900, let text = String(data: data, encoding: .utf8) else {
            return tenant.rawValue
        }
        return text
    }

    /// The tenant and what it should forget, from an announcement's payload (`nil`: not understood),
    /// and the cache whose process sent it (`nil`: not said).
    static func parse(_ payload: String) -> (TenantID, CaseInvalidation, origin: UUID?)? {
        if let tenant = TenantID(payload) { return (tenant, .tenant, nil) }
        let data = Data(payload.utf8)
        guard let header = try? JSONDecoder().decode(Header.self, from: data), let tenant = TenantID(header.tenant) else { return nil }
        // A later version's announcement may mean more than this one reads into it: forget the tenant.
        guard header.version == Payload.currentVersion, let decoded = try? JSONDecoder().decode(Payload.self, from: data) else {
            return (tenant, .tenant, nil)
        }
        var changes = CaseChanges()
        changes.caseIds = Set(decoded.cases)
        changes.ids = Set(decoded.ids.map(ExactText.init))
        changes.organisations = Set(decoded.organisations)
        return (tenant, .cases(changes), decoded.origin)
    }

    /// What every version's announcement begins with.
    private struct Header: Codable {
        var version: Int
        var tenant: String
    }

    private struct Payload: Codable {
        static let currentVersion = 1
        var version: Int
        var origin: UUID
        var tenant: String
        var cases: [UUID]
        var ids: [String]
        var organisations: [String]
    }
}

/// Tells the other processes which cases changed: batches what this process wrote, per tenant, and
/// sends one `NOTIFY statusbro_cases` per tenant, outside the writing transactions.
public final class CaseChangeAnnouncer: Service {
    private let pending = Mutex<[TenantID: CaseInvalidation]>([:])
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>
    let client: PrimaryPool
    let logger: Logger
    /// The cache of this process whose writes it announces (`CaseCache.origin`).
    let origin: UUID

    /// An announcer sending through `client` for the cache named `origin`.
    public init(client: PrimaryPool, origin: UUID, logger: Logger) {
        self.client = client
        self.origin = origin
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Notes that cases of `tenant` changed (a committed write).
    func announce(_ tenant: TenantID, _ change: CaseInvalidation) {
        pending.withLock { pending in
            let merged = pending[tenant]?.merged(with: change) ?? change
            pending[tenant] = merged.isLarge ? .tenant : merged
        }
        wake.yield()
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in self.wakes {
                // Gather what a burst of writes announces into one statement.
                try? await Task.sleep(for: .milliseconds(2))
                await self.flush()
            }
        }
        // Shutting down (the pool stops after this service): what the last writes changed still goes out.
        await flush()
    }

    /// Sends what is pending now. A command that writes without running the announcer calls it
    /// before it ends (`PostgresBackend.withClientRunning`).
    public func flush() async {
        let payloads = pending.withLock { pending in
            defer { pending.removeAll() }
            return pending.map { tenant, change in change.payload(tenant, origin: origin) }
        }
        guard !payloads.isEmpty else { return }
        do {
            _ = try await client.rows("SELECT pg_notify('statusbro_cases', p) FROM unnest(\(payloads)::text[]) AS p", logger: logger)
        } catch {
            // The other processes' caches expire anyway; say so and go on.
            logger.warning("could not announce changed cases", metadata: ["error": "\(error)"])
        }
    }
}
