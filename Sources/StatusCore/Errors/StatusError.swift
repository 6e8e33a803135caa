import StatusRules

/// One bad field of a request: where (a JSON Pointer) and what is wrong.
public struct FieldError: Sendable, Equatable, Codable {
    /// RFC 6901 pointer into the request body (or `/query/<name>` for a query parameter).
    public var pointer: String
    /// What is wrong, for a person.
    public var message: String
    /// Whether the field is an identity number that failed its format or check digit.
    public var isIdentityNumber: Bool

    /// A field error.
    public init(pointer: String, message: String, isIdentityNumber: Bool = false) {
        self.pointer = pointer
        self.message = message
        self.isIdentityNumber = isIdentityNumber
    }

    private enum CodingKeys: String, CodingKey {
        case pointer, message
    }

    /// Decodes `{pointer, message}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(pointer: try c.decode(String.self, forKey: .pointer), message: try c.decode(String.self, forKey: .message))
    }

    /// Encodes `{pointer, message}`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pointer, forKey: .pointer)
        try c.encode(message, forKey: .message)
    }
}

/// Why a message was parked as a dead letter instead of being applied.
public enum RejectionCode: String, Sendable, Codable, Equatable {
    case unknownSourceSystem = "UNKNOWN_SOURCE_SYSTEM"
    case unmappedStatus = "UNMAPPED_STATUS"
    case illegalTransition = "ILLEGAL_TRANSITION"
    /// The message's case does not exist (or is not the sender's to change); parked only where the
    /// sending document expects such a message to be retried later (a NAV kassering before its card).
    case caseNotFound = "NOT_FOUND"
}

/// A rules violation: the message is valid but the tenant's rules do not accept it now.
public struct Rejection: Sendable, Equatable, Codable {
    /// Which rule refused it.
    public var code: RejectionCode
    /// What happened, for a person.
    public var detail: String

    /// A rejection.
    public init(code: RejectionCode, detail: String) {
        self.code = code
        self.detail = detail
    }
}

/// Everything the core can refuse, each with its stable code. The HTTP layer turns these into
/// `application/problem+json` in one place.
public enum StatusError: Error, Sendable, Equatable {
    case unauthenticated(String)
    case forbidden(String)
    case notFound(String)
    case validationFailed([FieldError])
    /// A rules violation; the message was kept as dead letter `deadLetterId`.
    case rejected(Rejection, deadLetterId: String)
    case duplicateMessageConflict(messageId: String)
    case alreadyExists(String)
    case versionConflict(active: Int)
    case rulesInvalid([RuleFinding])
    /// A dependency (the database, a pool) cannot take the request now.
    case unavailable(String)
    /// The tenant or the credential has used its request rate (its rules' `limits`); retry after
    /// `retryAfterSeconds`.
    case rateLimited(String, retryAfterSeconds: Int)

    /// A validation failure at one field.
    public static func invalid(_ pointer: String, _ message: String) -> StatusError {
        .validationFailed([FieldError(pointer: pointer, message: message)])
    }
}

/// A storage failure the core knows how to react to; anything else is internal.
public enum StoreError: Error, Sendable, Equatable {
    /// A concurrent writer got there first (unique key); the operation may be retried.
    case conflict(String)
    /// The database cannot be reached or refused the connection.
    case unavailable(String)
    /// Anything else the database said, described without the statement's values (safe to log).
    case failed(String)
}
