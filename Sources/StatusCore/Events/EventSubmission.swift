import Foundation
import StatusRules

/// A case-management system's event, validated (`POST /api/v1/events`).
public struct EventSubmission: Sendable, Equatable {
    public var messageId: String
    public var sourceSystem: String
    public var externalCaseId: String
    public var flowInstanceId: String?
    public var caseType: String
    public var organisationNumber: OrganisationNumber?
    /// The raw status code of the source system.
    public var status: String
    public var occurredAt: Date
    /// `nil` when the message did not say (treated as `Update`; a first event creates the case anyway).
    public var changeType: ChangeType?
    /// The body as received: what idempotency compares and what a dead letter keeps.
    public var payload: JSONValue

    static let fields: Set<String> = [
        "messageId", "sourceSystem", "externalCaseId", "flowInstanceId", "caseType", "organisationNumber", "status",
        "occurredAt", "changeType",
    ]

    /// Validates a body, reporting every bad field at once.
    public init(json body: JSONValue) throws(StatusError) {
        let reader = FieldReader(body)
        let messageId = reader.uuid("messageId")
        let sourceSystem = reader.string("sourceSystem", maxLength: 64)
        let externalCaseId = reader.string("externalCaseId")
        let flowInstanceId = reader.optionalString("flowInstanceId")
        let caseType = reader.string("caseType")
        let status = reader.string("status")
        let occurredAt = reader.instant("occurredAt")
        let changeType = reader.optionalEnum("changeType", ChangeType.self, allowed: ChangeType.allCases)
        var organisationNumber: OrganisationNumber?
        if let text = reader.optionalString("organisationNumber", maxLength: 20) {
            organisationNumber = OrganisationNumber(text)
            if organisationNumber == nil {
                reader.fail(
                    "organisationNumber",
                    "must be a Swedish organisation number: 10 digits (NNNNNN-NNNN), or 12 with the century, with a valid check digit",
                    identityNumber: true)
            }
        }
        reader.rejectUnknown(Self.fields)
        try reader.finish()
        self.messageId = messageId!
        self.sourceSystem = sourceSystem!
        self.externalCaseId = externalCaseId!
        self.flowInstanceId = flowInstanceId
        self.caseType = caseType!
        self.organisationNumber = organisationNumber
        self.status = status!
        self.occurredAt = occurredAt!
        self.changeType = changeType
        self.payload = body
    }
}

/// The answer to an accepted event; stored, and replayed unchanged on a retry.
public struct EventReceipt: LedgerAnswer, Equatable, Codable {
    public var messageId: String
    public var caseId: String
    public var externalCaseId: String
    public var rawStatus: String
    public var status: String
    public var category: String
    public var ruleVersion: Int
    public var applied: Bool
    /// RFC 3339.
    public var recordedAt: String

    /// A receipt.
    public init(
        messageId: String, caseId: String, externalCaseId: String, rawStatus: String, status: String, category: String,
        ruleVersion: Int, applied: Bool, recordedAt: String
    ) {
        self.messageId = messageId
        self.caseId = caseId
        self.externalCaseId = externalCaseId
        self.rawStatus = rawStatus
        self.status = status
        self.category = category
        self.ruleVersion = ruleVersion
        self.applied = applied
        self.recordedAt = recordedAt
    }

    /// The receipt as a JSON value, for storage.
    public var jsonValue: JSONValue {
        .object([
            "messageId": .string(messageId), "caseId": .string(caseId), "externalCaseId": .string(externalCaseId),
            "rawStatus": .string(rawStatus), "status": .string(status), "category": .string(category),
            "ruleVersion": .number(Double(ruleVersion)), "applied": .bool(applied), "recordedAt": .string(recordedAt),
        ])
    }

    /// The receipt as stored, written directly (it is written for every event).
    public var jsonText: String {
        var out = "{\"applied\":" + (applied ? "true" : "false") + ",\"caseId\":"
        JSONValue.writeString(caseId, to: &out)
        out += ",\"category\":"
        JSONValue.writeString(category, to: &out)
        out += ",\"externalCaseId\":"
        JSONValue.writeString(externalCaseId, to: &out)
        out += ",\"messageId\":"
        JSONValue.writeString(messageId, to: &out)
        out += ",\"rawStatus\":"
        JSONValue.writeString(rawStatus, to: &out)
        out += ",\"recordedAt\":"
        JSONValue.writeString(recordedAt, to: &out)
        out += ",\"ruleVersion\":" + String(ruleVersion) + ",\"status\":"
        JSONValue.writeString(status, to: &out)
        return out + "}"
    }

    /// A receipt read back from storage.
    public init?(json: JSONValue) {
        guard case .string(let messageId)? = json["messageId"], case .string(let caseId)? = json["caseId"],
            case .string(let externalCaseId)? = json["externalCaseId"], case .string(let rawStatus)? = json["rawStatus"],
            case .string(let status)? = json["status"], case .string(let category)? = json["category"],
            case .number(let ruleVersion)? = json["ruleVersion"], case .bool(let applied)? = json["applied"],
            case .string(let recordedAt)? = json["recordedAt"]
        else { return nil }
        self.init(
            messageId: messageId, caseId: caseId, externalCaseId: externalCaseId, rawStatus: rawStatus, status: status,
            category: category, ruleVersion: Int(ruleVersion), applied: applied, recordedAt: recordedAt
        )
    }
}
