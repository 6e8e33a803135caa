import Crypto
import Foundation
import StatusRules

/// An erasure of one case's content: every stored version of its messages (the events' payloads,
/// the requests kept for retries, its dead letters) is overwritten with a tombstone, and the
/// erasure itself is kept for audit. What each status was, and which code and rule version made
/// it, stays, so every status ever shown can still be explained.
public struct CaseErasure: Sendable, Equatable {
    public var erasureId: UUID
    public var caseId: UUID
    /// The scope of the messages whose stored requests and dead letters are erased with the case.
    public var scope: String
    /// Who erased it (NAV: the `navIdent` of the kassering).
    public var erasedBy: String
    /// Why, as given by the one who erased it (NAV: `begrunnelse`, shown to the person).
    public var reason: String?
    /// The source system that asked for it.
    public var sourceSystem: String
    public var messageId: String?
    /// When the sender says it asked (NAV: `sendt`).
    public var requestedAt: Date?
    public var correlationId: String
    public var ruleVersion: Int
    /// The erasing message's own event, which keeps its payload (it holds only what the audit keeps anyway).
    public var keptEventId: UUID

    /// An erasure.
    public init(
        erasureId: UUID = UUID(), caseId: UUID, scope: String, erasedBy: String, reason: String?, sourceSystem: String,
        messageId: String?, requestedAt: Date?, correlationId: String, ruleVersion: Int, keptEventId: UUID
    ) {
        self.erasureId = erasureId
        self.caseId = caseId
        self.scope = scope
        self.erasedBy = erasedBy
        self.reason = reason
        self.sourceSystem = sourceSystem
        self.messageId = messageId
        self.requestedAt = requestedAt
        self.correlationId = correlationId
        self.ruleVersion = ruleVersion
        self.keptEventId = keptEventId
    }

    /// The member that marks an erased payload or request.
    public static let marker = "statusbro:erased"

    /// Whether `payload` is a tombstone left by an erasure.
    public static func isErased(_ payload: JSONValue) -> Bool { payload[marker] != nil }

    /// The SHA-256 (hex) of a request's canonical JSON: what an erased request keeps, so a retry
    /// of the same request is still told apart from another body under the same id.
    public static func digest(_ payload: JSONValue) -> String {
        SHA256.hash(data: Data(payload.canonicalString.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

extension StoredResponse {
    /// Whether `payload` is the request stored: the same JSON, or, after an erasure, the same digest.
    public func matches(_ payload: JSONValue) -> Bool {
        if request == payload { return true }
        guard CaseErasure.isErased(request), let digest = request["sha256"]?.stringValue else { return false }
        return digest == CaseErasure.digest(payload)
    }
}
