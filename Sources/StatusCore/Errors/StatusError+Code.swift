import StatusRules

extension StatusError {
    /// The stable code clients and operators see for this error (API.md's table). Every face,
    /// the dead letters and the command line take it from here; the two codes only HTTP knows
    /// (`PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE`) are `RequestBodyError`'s.
    public var code: String {
        switch self {
        case .unauthenticated: "UNAUTHENTICATED"
        case .forbidden: "FORBIDDEN"
        case .notFound: "NOT_FOUND"
        case .validationFailed(let errors): !errors.isEmpty && errors.allSatisfy(\.isIdentityNumber) ? "INVALID_IDENT" : "VALIDATION_FAILED"
        case .rejected(let rejection, _): rejection.code.rawValue
        case .duplicateMessageConflict: "DUPLICATE_MESSAGE_CONFLICT"
        case .alreadyExists: "ALREADY_EXISTS"
        case .versionConflict: "VERSION_CONFLICT"
        case .rulesInvalid: "RULES_INVALID"
        case .unavailable: "SERVICE_UNAVAILABLE"
        case .rateLimited: "RATE_LIMITED"
        }
    }

    /// What happened, for a person, in one line.
    public var detail: String {
        switch self {
        case .unauthenticated(let detail), .forbidden(let detail), .notFound(let detail), .alreadyExists(let detail),
            .unavailable(let detail), .rateLimited(let detail, _):
            detail
        case .validationFailed(let errors): errors.map { "\($0.pointer): \($0.message)" }.joined(separator: "; ")
        case .rejected(let rejection, _): rejection.detail
        case .duplicateMessageConflict(let messageId): "message \(messageId) was already accepted with a different body"
        case .versionConflict(let active): "baseVersion is not the active version; the active version is \(active)"
        case .rulesInvalid(let findings): "\(findings.errors.count) error(s) in the rules document"
        }
    }
}
