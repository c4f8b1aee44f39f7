import Foundation

/// An error of the product's rules (accounts, links, connection IDs, sessions): an extensible code, a
/// human-readable reason, and where it was thrown. Equality compares the code only, so tests can
/// `#expect(throws: DomainError(.invalidField))`. Codes 64-127 (the codec's are 1-63).
///
/// Reasons are written for the operator and the agent; none carries a password, token or secret.
public struct DomainError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// A field is empty, too long, has control characters or the wrong syntax.
        public static let invalidField = Code(rawValue: 64)
        /// Wrong e-mail or password (one answer for both, so accounts cannot be discovered).
        public static let invalidCredentials = Code(rawValue: 65)
        /// The account must change its default password before anything else.
        public static let passwordChangeRequired = Code(rawValue: 66)
        /// A new password that breaks the policy (too short, too long, the current one again).
        public static let weakPassword = Code(rawValue: 67)
        /// Too many attempts: try again after `retryAfter` seconds.
        public static let rateLimited = Code(rawValue: 68)
        /// A link, code or token that is not (or no longer) valid: unknown, expired, revoked or used.
        public static let notFound = Code(rawValue: 69)
        /// A link whose signature does not match: forged or altered.
        public static let badSignature = Code(rawValue: 70)
        /// A link that is not one of ours (wrong base URL, path or query).
        public static let malformedLink = Code(rawValue: 71)
        /// The caller may not do this (not an admin, not their session, account disabled).
        public static let forbidden = Code(rawValue: 72)
        /// A session transition that its state does not allow (connecting an ended session).
        public static let invalidTransition = Code(rawValue: 73)
        /// The name is already taken (e-mail address of another agent).
        public static let conflict = Code(rawValue: 74)
        /// A login session (token) that expired, idle or absolute, or was revoked.
        public static let sessionExpired = Code(rawValue: 75)
        /// Every code is live or recently used (issuing a connection ID cannot draw one).
        public static let exhausted = Code(rawValue: 76)
        /// A stored value that cannot be read back (unknown hash scheme, corrupt row).
        public static let corruptRecord = Code(rawValue: 77)
        /// A link or code that was valid but is past its expiry.
        public static let expired = Code(rawValue: 78)
        /// Something the call needs is not set up on this installation (no mail relay for e-mail).
        public static let notConfigured = Code(rawValue: 79)

        public var description: String {
            switch self {
            case .invalidField: "invalid field"
            case .invalidCredentials: "invalid credentials"
            case .passwordChangeRequired: "password change required"
            case .weakPassword: "weak password"
            case .rateLimited: "rate limited"
            case .notFound: "not found"
            case .badSignature: "bad signature"
            case .malformedLink: "malformed link"
            case .forbidden: "forbidden"
            case .invalidTransition: "invalid transition"
            case .conflict: "conflict"
            case .sessionExpired: "session expired"
            case .exhausted: "exhausted"
            case .corruptRecord: "corrupt record"
            case .expired: "expired"
            case .notConfigured: "not configured"
            default: "error \(rawValue)"
            }
        }
    }

    public var code: Code
    public var reason: String
    /// For `.rateLimited`: seconds until a retry can succeed.
    public var retryAfter: TimeInterval?
    public var file: String
    public var line: Int

    public init(_ code: Code, _ reason: String = "", retryAfter: TimeInterval? = nil,
                file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.retryAfter = retryAfter
        self.file = file
        self.line = line
    }

    public var description: String { reason.isEmpty ? "\(code)" : "\(code): \(reason)" }

    public static func == (lhs: DomainError, rhs: DomainError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
