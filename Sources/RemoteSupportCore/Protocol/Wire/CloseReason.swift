/// Why a connection or a session ended: a 16-bit code on the wire (PROTOCOL.md, "Close reasons").
/// An open set: a code this version does not know is kept as it is and shown by number.
public struct CloseReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Orderly close with nothing more to say.
    public static let normal = CloseReason(rawValue: 0)
    /// The end user ended the session (or left the waiting list).
    public static let endedByEndUser = CloseReason(rawValue: 1)
    /// The agent ended the session.
    public static let endedByAgent = CloseReason(rawValue: 2)
    /// The peer broke the protocol: a malformed frame, a message illegal in the state, an unknown
    /// required message.
    public static let protocolError = CloseReason(rawValue: 3)
    /// No protocol version both sides speak.
    public static let unsupportedVersion = CloseReason(rawValue: 4)
    /// A frame or a message larger than the receiver's limit.
    public static let tooLarge = CloseReason(rawValue: 5)
    /// Nothing received before the keepalive or handshake deadline.
    public static let timeout = CloseReason(rawValue: 6)
    /// A session record failed authentication, was replayed or reordered, or the keys did not match.
    public static let cryptoFailure = CloseReason(rawValue: 7)
    /// The agent's token was refused.
    public static let authenticationFailed = CloseReason(rawValue: 8)
    /// The link or connection ID was refused (unknown, expired, revoked or used).
    public static let joinRefused = CloseReason(rawValue: 9)
    /// The end user declined the connection.
    public static let consentDeclined = CloseReason(rawValue: 10)
    /// The waiting session expired, or its resume grace period passed.
    public static let expired = CloseReason(rawValue: 11)
    /// The resume token was unknown or already used.
    public static let resumeRefused = CloseReason(rawValue: 12)
    /// Too many attempts: try again later.
    public static let rateLimited = CloseReason(rawValue: 13)
    /// The broker is shutting down.
    public static let shuttingDown = CloseReason(rawValue: 14)
    /// The other side vanished and did not come back within the grace period.
    public static let peerLost = CloseReason(rawValue: 15)
    /// The session is already taken by another agent, or the agent may not connect to it.
    public static let notAllowed = CloseReason(rawValue: 16)
    /// The sender ran out of room for what it must keep (a peer that never acknowledges).
    public static let overloaded = CloseReason(rawValue: 17)
    /// An unexpected failure on the sender's side.
    public static let internalError = CloseReason(rawValue: 18)

    public var description: String {
        switch self {
        case .normal: "normal"
        case .endedByEndUser: "ended by the end user"
        case .endedByAgent: "ended by the agent"
        case .protocolError: "protocol error"
        case .unsupportedVersion: "unsupported version"
        case .tooLarge: "too large"
        case .timeout: "timeout"
        case .cryptoFailure: "crypto failure"
        case .authenticationFailed: "authentication failed"
        case .joinRefused: "join refused"
        case .consentDeclined: "consent declined"
        case .expired: "expired"
        case .resumeRefused: "resume refused"
        case .rateLimited: "rate limited"
        case .shuttingDown: "shutting down"
        case .peerLost: "peer lost"
        case .notAllowed: "not allowed"
        case .overloaded: "overloaded"
        case .internalError: "internal error"
        default: "close reason \(rawValue)"
        }
    }
}
