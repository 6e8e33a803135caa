import Foundation
import StatusRules

/// A case as projected from its events.
public struct CaseRecord: Sendable, Equatable {
    public var caseId: UUID
    /// The case-management system's id, unique per tenant.
    public var externalCaseId: String
    /// The Open ePlatform flow instance, when the case started there.
    public var flowInstanceId: String?
    public var caseType: String
    public var organisationNumber: String?
    public var sourceSystem: String
    /// The last applied raw code; what the faces show is this mapped through the active rules.
    public var rawStatus: String
    /// The status recorded with the last applied event (shown when the active rules no longer map the code).
    public var status: String
    public var category: String
    /// The rules version that mapped the last applied event.
    public var ruleVersion: Int
    /// When the last applied event happened (its `occurredAt`).
    public var lastStatusChange: Date
    public var createdAt: Date
    /// Set when a `Delete` withdrew the case; it then answers 404 and keeps its history.
    public var withdrawnAt: Date?
    /// Whose case it is: the organisation number or the person's identity number (digits only),
    /// copied onto each feed entry so readers learn whose cases changed.
    public var party: String?
    /// Bumped by every write of the case: the ledger's decisions are written only on the revision they were made on.
    public var revision: Int64

    /// A record.
    public init(
        caseId: UUID, externalCaseId: String, flowInstanceId: String?, caseType: String, organisationNumber: String?,
        sourceSystem: String, rawStatus: String, status: String, category: String, ruleVersion: Int,
        lastStatusChange: Date, createdAt: Date, withdrawnAt: Date?, party: String? = nil, revision: Int64 = 0
    ) {
        self.caseId = caseId
        self.externalCaseId = externalCaseId
        self.flowInstanceId = flowInstanceId
        self.caseType = caseType
        self.organisationNumber = organisationNumber
        self.sourceSystem = sourceSystem
        self.rawStatus = rawStatus
        self.status = status
        self.category = category
        self.ruleVersion = ruleVersion
        self.lastStatusChange = lastStatusChange
        self.createdAt = createdAt
        self.withdrawnAt = withdrawnAt
        self.party = party
        self.revision = revision
    }

    /// What the case shows under `snapshot`: its raw code mapped by the active rules, so a
    /// corrected mapping shows on every existing case at once; the recorded status when the
    /// rules no longer map the code.
    public func displayed(by snapshot: RuleSnapshot) -> DisplayedStatus {
        if let status = snapshot.map(source: sourceSystem, code: rawStatus).status {
            return DisplayedStatus(status: status.name, category: status.category, ruleVersion: snapshot.version, portalStatus: status)
        }
        return DisplayedStatus(status: status, category: category, ruleVersion: ruleVersion, portalStatus: nil)
    }
}

/// A case's status as shown now.
public struct DisplayedStatus: Sendable, Equatable {
    public var status: String
    public var category: String
    /// The rules version the status comes from.
    public var ruleVersion: Int
    /// The compiled status, when the active rules map the code.
    public var portalStatus: PortalStatus?
}

/// One recorded event of a case, as it was when recorded.
public struct CaseEvent: Sendable, Equatable {
    public var eventId: UUID
    public var caseId: UUID
    public var messageId: String?
    public var changeType: ChangeType
    public var sourceSystem: String
    public var rawStatus: String
    /// The status, category and rule version in force when the event was recorded.
    public var status: String
    public var category: String
    public var ruleVersion: Int
    /// False for an event older than the case's last applied one: kept, not applied.
    public var applied: Bool
    public var occurredAt: Date
    public var recordedAt: Date
    public var correlationId: String
    /// The message as received.
    public var payload: JSONValue

    /// An event.
    public init(
        eventId: UUID, caseId: UUID, messageId: String?, changeType: ChangeType, sourceSystem: String, rawStatus: String,
        status: String, category: String, ruleVersion: Int, applied: Bool, occurredAt: Date, recordedAt: Date,
        correlationId: String, payload: JSONValue
    ) {
        self.eventId = eventId
        self.caseId = caseId
        self.messageId = messageId
        self.changeType = changeType
        self.sourceSystem = sourceSystem
        self.rawStatus = rawStatus
        self.status = status
        self.category = category
        self.ruleVersion = ruleVersion
        self.applied = applied
        self.occurredAt = occurredAt
        self.recordedAt = recordedAt
        self.correlationId = correlationId
        self.payload = payload
    }
}

/// The kind of change a message reports (the Danish envelope's Aendringstype).
public enum ChangeType: String, Sendable, Codable, CaseIterable {
    case create = "Create"
    case update = "Update"
    case delete = "Delete"
}
