import Foundation

/// What the statistics read inside a tenant's transaction.
public protocol StatisticsStore: Sendable {
    /// Events recorded and messages dead-lettered since `since`, per UTC hour; hours with neither are left out.
    func ingestCounts(since: Date) async throws -> [IngestHour]
    /// Pending dead letters grouped by problem code and by the source system and raw code their message carries.
    func pendingDeadLetterGroups() async throws -> [PendingDeadLetterGroup]
}
