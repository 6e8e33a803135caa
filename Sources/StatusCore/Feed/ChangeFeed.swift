import Foundation
import StatusRules

/// Why a case appears in the change feed.
public enum ChangeReason: String, Sendable, Codable {
    /// An applied event.
    case event
    /// A rules publish changed the status the case shows.
    case rules
    /// The case was withdrawn.
    case delete
}

/// A change to be written to the feed, in the same transaction as the change itself.
public struct FeedChange: Sendable, Equatable {
    public var caseId: UUID
    public var externalCaseId: String
    /// The status shown after the change (`nil` for a withdrawn case).
    public var status: String?
    public var category: String?
    public var reason: ChangeReason
    public var ruleVersion: Int

    /// A change.
    public init(caseId: UUID, externalCaseId: String, status: String?, category: String?, reason: ChangeReason, ruleVersion: Int) {
        self.caseId = caseId
        self.externalCaseId = externalCaseId
        self.status = status
        self.category = category
        self.reason = reason
        self.ruleVersion = ruleVersion
    }
}

/// A change as read from the feed.
public struct FeedEntry: Sendable, Equatable {
    public var position: Int64
    public var caseId: UUID
    public var externalCaseId: String
    public var status: String?
    public var category: String?
    public var reason: ChangeReason
    public var changedAt: Date
    /// Whose case it was when the entry was written.
    public var party: String?

    /// An entry.
    public init(
        position: Int64, caseId: UUID, externalCaseId: String, status: String?, category: String?, reason: ChangeReason, changedAt: Date,
        party: String? = nil
    ) {
        self.position = position
        self.caseId = caseId
        self.externalCaseId = externalCaseId
        self.status = status
        self.category = category
        self.reason = reason
        self.changedAt = changedAt
        self.party = party
    }
}

/// A server-issued position in a tenant's feed. Opaque to clients: `f1.<position>` in base64url,
/// so its form can change without breaking anyone who only passes it back.
public struct FeedOffset: Sendable, Equatable {
    /// Entries after this position are next.
    public var position: Int64

    /// The start of the feed (the retention window's start).
    public static let start = FeedOffset(position: 0)

    /// An offset after `position`.
    public init(position: Int64) {
        self.position = position
    }

    /// Parses a token; `nil` for anything the server did not issue.
    public init?(token: String) {
        guard token.utf8.count <= 64, let data = Data(base64URLEncoded: token),
            let text = String(data: data, encoding: .utf8), text.hasPrefix("f1."),
            let position = Int64(text.dropFirst(3)), position >= 0
        else { return nil }
        self.position = position
    }

    /// The token handed to clients.
    public var token: String {
        Data("f1.\(position)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// A page of the feed and the offset to pass back for the next one.
public struct ChangeFeedPage: Sendable {
    public var changes: [FeedEntry]
    public var next: FeedOffset

    /// The parties whose cases the page's entries changed, each once, in order of first appearance
    /// (Helsenorge's "who changed since": a portal caching per applicant refreshes only these).
    public var parties: [String] {
        var seen = Set<String>()
        return changes.compactMap { entry in
            guard let party = entry.party, seen.insert(party).inserted else { return nil }
            return party
        }
    }
}
