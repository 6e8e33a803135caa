import Foundation
import StatusRules

/// Reads cases as the faces show them.
public struct CaseDirectory: Sendable {
    let store: any StatusStore

    /// A directory.
    public init(store: any StatusStore) {
        self.store = store
    }

    /// What `activeCase`, `activeCase(flowInstanceOrExternalId:)` or `cases(organisationNumber:)`
    /// answers for `lookup`, when this process has it in memory and the answer is not a refusal;
    /// `nil` otherwise (ask those, which may wait for the database). For the hot read path.
    public func cachedAnswer(tenant: TenantID, _ lookup: CaseLookup) -> [CaseRecord]? {
        guard let records = store.cachedCases(tenant: tenant, lookup) else { return nil }
        if case .organisation = lookup { return records }
        // One case: only a live one is an answer (a withdrawn one is a 404, left to the slow path).
        guard records.count == 1, records[0].withdrawnAt == nil else { return nil }
        return records
    }

    /// A case that is not withdrawn, by external id; `notFound` otherwise.
    public func activeCase(tenant: TenantID, externalCaseId: String) async throws -> CaseRecord {
        guard let record = try await store.caseRecord(tenant: tenant, externalCaseId: externalCaseId), record.withdrawnAt == nil else {
            throw StatusError.notFound("no case '\(externalCaseId)'")
        }
        return record
    }

    /// A case that is not withdrawn, by OeP flow instance id or else external id.
    public func activeCase(tenant: TenantID, flowInstanceOrExternalId id: String) async throws -> CaseRecord {
        guard let record = try await store.caseRecord(tenant: tenant, flowInstanceOrExternalId: id), record.withdrawnAt == nil else {
            throw StatusError.notFound("no case '\(id)'")
        }
        return record
    }

    /// The organisation's cases, newest status change first.
    public func cases(tenant: TenantID, organisationNumber: OrganisationNumber) async throws -> [CaseRecord] {
        try await store.cases(tenant: tenant, organisationNumber: organisationNumber.digits)
    }

    /// A case's events, oldest first.
    public func history(tenant: TenantID, externalCaseId: String) async throws -> [CaseEvent] {
        let record = try await activeCase(tenant: tenant, externalCaseId: externalCaseId)
        return try await store.withTransaction(tenant: tenant) { tx in try await tx.events(caseId: record.caseId) }
    }
}

/// Reads a tenant's change feed.
public struct ChangeFeedReader: Sendable {
    let store: any StatusStore

    /// The default page size.
    public static let defaultLimit = 500
    /// The largest page served.
    public static let maxLimit = 5000

    /// A reader.
    public init(store: any StatusStore) {
        self.store = store
    }

    /// The changes after `offset`, inside the tenant's retention window (`retentionDays`, from the
    /// rules the request is served with), and the offset to pass back.
    public func page(
        tenant: TenantID, after offset: FeedOffset, limit: Int, retentionDays: Int = RulesDocument.defaultFeedRetentionDays,
        now: Date = Date()
    ) async throws -> ChangeFeedPage {
        let since = now.addingTimeInterval(-Double(retentionDays) * 86_400)
        // The horizon is learnt in a transaction of its own, so the exclusive lock that waits for
        // writers in flight is held for an instant, not for the whole read.
        let horizon = try await store.withTransaction(tenant: tenant) { tx in try await tx.feedHorizon() }
        let entries = try await store.withTransaction(tenant: tenant) { tx in
            try await tx.feedEntries(after: offset.position, upTo: horizon, since: since, limit: limit)
        }
        let next: Int64
        if entries.count == limit, let last = entries.last {
            next = last.position
        } else {
            // Everything up to the horizon has been seen (or lies outside the window).
            next = max(offset.position, horizon)
        }
        return ChangeFeedPage(changes: entries, next: FeedOffset(position: next))
    }
}
