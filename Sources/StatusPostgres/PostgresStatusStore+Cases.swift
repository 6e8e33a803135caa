import Foundation
import Metrics
import PostgresNIO
import StatusCore

extension PostgresStatusStore {
    public func record(_ writes: [LedgerWrite], tenant: TenantID) async throws -> LedgerWriteReport {
        try gate.enter()
        defer { gate.leave() }
        let report: LedgerWriteReport
        do {
            let rows = try await client.rows(
                RecordChangesStatement(tenant: tenant.rawValue, changes: LedgerWrites.json(writes)), tenant: tenant, logger: logger)
            report = try LedgerWrites.report(rows)
        } catch {
            // The call may have committed before it failed (the connection lost while answering):
            // forgetting what it would have changed costs a database read, keeping it a stale one.
            if let changes = LedgerWrites.caseChanges(writes) { casesChanged(tenant, .cases(changes)) }
            throw Self.translate(error)
        }
        if report.written {
            LedgerWrites.countFeedEntries(writes)
            if let changes = LedgerWrites.caseChanges(writes) { casesChanged(tenant, .cases(changes)) }
        }
        return report
    }

    public func caseRecord(tenant: TenantID, externalCaseId: String) async throws -> CaseRecord? {
        try await cachedCase(tenant, externalCaseId, .externalId) {
            "SELECT \(unescaped: CaseColumns.list) FROM statusbro_case(\(tenant.rawValue), \(externalCaseId))"
        }
    }

    public func caseRecord(tenant: TenantID, flowInstanceOrExternalId id: String) async throws -> CaseRecord? {
        try await cachedCase(tenant, id, .flowOrExternalId) {
            "SELECT \(unescaped: CaseColumns.list) FROM statusbro_case_by_flow_or_external(\(tenant.rawValue), \(id))"
        }
    }

    public func cases(tenant: TenantID, organisationNumber: String) async throws -> [CaseRecord] {
        if let cached = cache?.cases(tenant, organisationNumber: organisationNumber) { return cached }
        if cache != nil { Self.countMiss("organisation") }
        let generation = cache?.generation(tenant)
        try gate.enter()
        defer { gate.leave() }
        var records: [CaseRecord] = []
        do {
            let rows = try await client.rows(
                "SELECT \(unescaped: CaseColumns.list) FROM statusbro_cases_of_organisation(\(tenant.rawValue), \(organisationNumber))",
                tenant: tenant, logger: logger)
            for row in rows { records.append(CaseColumns.record(try row.decode(CaseColumns.Row.self))) }
        } catch {
            throw Self.translate(error)
        }
        if let cache, let generation { cache.store(records, tenant, organisationNumber: organisationNumber, generation: generation) }
        return records
    }

    public func cachedCases(tenant: TenantID, _ lookup: CaseLookup) -> [CaseRecord]? {
        guard let cache else { return nil }
        switch lookup {
        case .externalId(let id): return cache.records(tenant, id, .externalId)
        case .flowInstanceOrExternalId(let id): return cache.records(tenant, id, .flowOrExternalId)
        case .organisation(let number): return cache.cases(tenant, organisationNumber: number)
        }
    }

    private func cachedCase(_ tenant: TenantID, _ id: String, _ lookup: CaseCache.Lookup, _ query: () -> PostgresQuery) async throws
        -> CaseRecord?
    {
        guard let cache else { return try await firstCase(query(), tenant: tenant) }
        if let record = cache.record(tenant, id, lookup) { return record }
        Self.countMiss("case")
        let generation = cache.generation(tenant)
        let record = try await firstCase(query(), tenant: tenant)
        if let record { cache.store(record, tenant, id, lookup, generation: generation) }
        return record
    }

    /// Counts a read the case cache could not answer, which goes to the database.
    private static func countMiss(_ read: String) {
        Counter(label: "statusbro_case_cache_misses_total", dimensions: [("read", read)]).increment()
    }

    private func firstCase(_ query: PostgresQuery, tenant: TenantID) async throws -> CaseRecord? {
        try gate.enter()
        defer { gate.leave() }
        do {
            return try await client.rows(query, tenant: tenant, logger: logger).first.map {
                CaseColumns.record(try $0.decode(CaseColumns.Row.self))
            }
        } catch {
            throw Self.translate(error)
        }
    }
}

/// The columns of `cases`, in the order every case query selects them.
enum CaseColumns {
    static let list =
        "case_id, external_case_id, flow_instance_id, case_type, organisation_number, source_system, raw_status, status, category, rule_version, last_status_change, created_at, withdrawn_at, revision, party"

    typealias Row = (UUID, String, String?, String, String?, String, String, String, String, Int, Date, Date, Date?, Int64, String?)

    static func record(_ r: Row) -> CaseRecord {
        CaseRecord(
            caseId: r.0, externalCaseId: r.1, flowInstanceId: r.2, caseType: r.3, organisationNumber: r.4, sourceSystem: r.5,
            rawStatus: r.6, status: r.7, category: r.8, ruleVersion: r.9, lastStatusChange: r.10, createdAt: r.11, withdrawnAt: r.12,
            party: r.14, revision: r.13)
    }
}
