import Foundation
import StatusRules

/// How many live cases show each portal status and each national category now.
public struct CaseCounts: Sendable, Equatable {
    /// The cases showing one portal status.
    public struct StatusCount: Sendable, Equatable {
        public var status: String
        public var category: String
        public var cases: Int
    }

    /// The cases showing a status of one national category.
    public struct CategoryCount: Sendable, Equatable {
        public var category: String
        public var cases: Int
    }

    /// The rules version the counts were mapped with.
    public var rulesVersion: Int
    /// Every live (not withdrawn) case.
    public var total: Int
    /// Every status of the rules in their order (zero included), then any status shown only
    /// because the rules no longer map a case's code (the recorded one is shown then).
    public var byStatus: [StatusCount]
    /// Every category of the rules in their order (zero included), then any other shown.
    public var byCategory: [CategoryCount]
}

/// Events accepted and messages dead-lettered in one hour.
public struct IngestHour: Sendable, Equatable {
    /// The start of the hour (UTC).
    public var hour: Date
    /// Events recorded in the hour: new, retried-away ones excluded, older ones kept in history included, replays included.
    public var accepted: Int
    /// Messages parked as dead letters in the hour (replayed since or not).
    public var deadLettered: Int

    /// A count.
    public init(hour: Date, accepted: Int, deadLettered: Int) {
        self.hour = hour
        self.accepted = accepted
        self.deadLettered = deadLettered
    }
}

/// Every hour of a window, oldest first, with the hours where nothing happened as zeros.
public struct IngestHistory: Sendable, Equatable {
    /// The start of the first hour.
    public var from: Date
    /// The end of the last hour (the next hour's start).
    public var to: Date
    public var hours: [IngestHour]
}

/// Pending dead letters that share a problem code, and the codes the messages carried.
public struct DeadLetterTally: Sendable, Equatable {
    /// The messages of one source system and raw code.
    public struct Subject: Sendable, Equatable {
        /// `nil` when the message names none (it was malformed).
        public var sourceSystem: String?
        public var rawStatus: String?
        public var count: Int
    }

    /// The problem code of the last attempt (`UNMAPPED_STATUS`, …).
    public var code: String
    public var count: Int
    public var oldest: Date
    public var newest: Date
    /// Largest first.
    public var subjects: [Subject]
}

/// Pending dead letters grouped by problem code and by what the message carried, as the store counts them.
public struct PendingDeadLetterGroup: Sendable, Equatable {
    public var code: String
    public var sourceSystem: String?
    public var rawStatus: String?
    public var count: Int
    public var oldest: Date
    public var newest: Date

    /// A group.
    public init(code: String, sourceSystem: String?, rawStatus: String?, count: Int, oldest: Date, newest: Date) {
        self.code = code
        self.sourceSystem = sourceSystem
        self.rawStatus = rawStatus
        self.count = count
        self.oldest = oldest
        self.newest = newest
    }
}

/// What the console's overview shows: counts, never messages, case ids or identity numbers.
public struct TenantStatistics: Sendable {
    let store: any StatusStore

    /// The widest ingest window served: thirty days of hours.
    public static let maxHours = 720
    /// The window when none is asked for: three days.
    public static let defaultHours = 72

    /// Statistics over `store`.
    public init(store: any StatusStore) {
        self.store = store
    }

    /// Live cases per status and category as the faces show them under `snapshot`: each case's
    /// raw code mapped by the rules, or its recorded status when they no longer map it.
    public func caseCounts(tenant: TenantID, snapshot: RuleSnapshot) async throws -> CaseCounts {
        let usage = try await store.withTransaction(tenant: tenant) { tx in try await tx.codeUsage() }
        var perStatus: [String: (category: String, cases: Int)] = [:]
        var perCategory: [String: Int] = [:]
        var total = 0
        for row in usage {
            let shown = row.displayed(by: snapshot)
            perStatus[shown.status, default: (shown.category, 0)].cases += row.cases
            perCategory[shown.category, default: 0] += row.cases
            total += row.cases
        }
        let document = snapshot.document
        var byStatus: [CaseCounts.StatusCount] = []
        var listed = Set<String>()
        for status in document.statuses where listed.insert(status.name).inserted {
            byStatus.append(.init(status: status.name, category: status.category, cases: perStatus[status.name]?.cases ?? 0))
        }
        for (name, entry) in perStatus.sorted(by: { $0.key < $1.key }) where !listed.contains(name) {
            byStatus.append(.init(status: name, category: entry.category, cases: entry.cases))
        }
        var byCategory: [CaseCounts.CategoryCount] = []
        var seen = Set<String>()
        for category in document.categories where seen.insert(category).inserted {
            byCategory.append(.init(category: category, cases: perCategory[category] ?? 0))
        }
        for (category, cases) in perCategory.sorted(by: { $0.key < $1.key }) where !seen.contains(category) {
            byCategory.append(.init(category: category, cases: cases))
        }
        return CaseCounts(rulesVersion: snapshot.version, total: total, byStatus: byStatus, byCategory: byCategory)
    }

    /// The last `hours` hours up to and including the current one (UTC hours), each with its counts.
    public func ingestHistory(tenant: TenantID, hours: Int, now: Date = Date()) async throws -> IngestHistory {
        precondition((1...Self.maxHours).contains(hours), "the face checks the window")
        let current = (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600
        let from = Date(timeIntervalSince1970: current - Double(hours - 1) * 3600)
        let counted = try await store.withTransaction(tenant: tenant) { tx in try await tx.ingestCounts(since: from) }
        let byHour = Dictionary(counted.map { (Int($0.hour.timeIntervalSince1970), $0) }, uniquingKeysWith: { first, _ in first })
        let series = (0..<hours).map { index -> IngestHour in
            let start = from.addingTimeInterval(Double(index) * 3600)
            let found = byHour[Int(start.timeIntervalSince1970)]
            return IngestHour(hour: start, accepted: found?.accepted ?? 0, deadLettered: found?.deadLettered ?? 0)
        }
        return IngestHistory(from: from, to: Date(timeIntervalSince1970: current + 3600), hours: series)
    }

    /// Pending dead letters per problem code, largest first, each with the source codes it holds.
    public func pendingDeadLetters(tenant: TenantID) async throws -> [DeadLetterTally] {
        let groups = try await store.withTransaction(tenant: tenant) { tx in try await tx.pendingDeadLetterGroups() }
        var tallies: [String: DeadLetterTally] = [:]
        for group in groups {
            let subject = DeadLetterTally.Subject(sourceSystem: group.sourceSystem, rawStatus: group.rawStatus, count: group.count)
            if var tally = tallies[group.code] {
                tally.count += group.count
                tally.oldest = min(tally.oldest, group.oldest)
                tally.newest = max(tally.newest, group.newest)
                tally.subjects.append(subject)
                tallies[group.code] = tally
            } else {
                tallies[group.code] = DeadLetterTally(
                    code: group.code, count: group.count, oldest: group.oldest, newest: group.newest, subjects: [subject])
            }
        }
        return tallies.values.map { tally in
            var sorted = tally
            sorted.subjects.sort {
                ($1.count, $0.sourceSystem ?? "", $0.rawStatus ?? "") < ($0.count, $1.sourceSystem ?? "", $1.rawStatus ?? "")
            }
            return sorted
        }
        .sorted { ($1.count, $0.code) < ($0.count, $1.code) }
    }
}

extension CodeUsage {
    /// What these cases show under `snapshot`, as `CaseRecord.displayed(by:)` decides it for one case.
    func displayed(by snapshot: RuleSnapshot?) -> (status: String, category: String) {
        if let status = snapshot?.map(source: sourceSystem, code: rawStatus).status {
            return (status.name, status.category)
        }
        return (recordedStatus, recordedCategory)
    }
}
