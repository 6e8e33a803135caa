import Foundation

/// The change feed inside a tenant's transaction.
public protocol FeedStore: Sendable {
    /// Appends one `rules` entry per live case whose shown status the remaps change; returns how many.
    func appendRulesRemap(_ remaps: [CodeRemap], version: Int) async throws -> Int
    /// A position below which every writer has finished: reading up to it never skips a change.
    func feedHorizon() async throws -> Int64
    /// Entries after `after` and at most `upTo`, changed since `since`, in feed order.
    func feedEntries(after: Int64, upTo: Int64, since: Date, limit: Int) async throws -> [FeedEntry]
}
