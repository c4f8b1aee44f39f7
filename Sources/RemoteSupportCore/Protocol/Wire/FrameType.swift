/// The type byte of a frame (PROTOCOL.md, "Frames"). An open set: a type this version does not know
/// is parsed as a frame and then skipped if its sender marked it optional, or refused otherwise.
public struct FrameType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    // Every connection, both directions.
    public static let hello = FrameType(rawValue: 0x01)
    public static let ping = FrameType(rawValue: 0x02)
    public static let pong = FrameType(rawValue: 0x03)
    public static let close = FrameType(rawValue: 0x04)

    // End user <-> broker.
    public static let join = FrameType(rawValue: 0x10)
    public static let joined = FrameType(rawValue: 0x11)
    public static let connectRequest = FrameType(rawValue: 0x12)
    public static let consent = FrameType(rawValue: 0x13)

    // Agent <-> broker.
    public static let authenticate = FrameType(rawValue: 0x20)
    public static let authenticated = FrameType(rawValue: 0x21)
    public static let lobbySession = FrameType(rawValue: 0x22)
    public static let lobbySessionGone = FrameType(rawValue: 0x23)
    public static let connect = FrameType(rawValue: 0x24)
    public static let connected = FrameType(rawValue: 0x25)
    public static let connectRefused = FrameType(rawValue: 0x26)

    // A connected session, both roles.
    public static let record = FrameType(rawValue: 0x30)
    public static let resume = FrameType(rawValue: 0x31)
    public static let resumed = FrameType(rawValue: 0x32)
    public static let peerAway = FrameType(rawValue: 0x33)
    public static let peerResumed = FrameType(rawValue: 0x34)
    public static let sessionEnded = FrameType(rawValue: 0x35)

    public var description: String {
        switch self {
        case .hello: "hello"
        case .ping: "ping"
        case .pong: "pong"
        case .close: "close"
        case .join: "join"
        case .joined: "joined"
        case .connectRequest: "connect-request"
        case .consent: "consent"
        case .authenticate: "authenticate"
        case .authenticated: "authenticated"
        case .lobbySession: "lobby-session"
        case .lobbySessionGone: "lobby-session-gone"
        case .connect: "connect"
        case .connected: "connected"
        case .connectRefused: "connect-refused"
        case .record: "record"
        case .resume: "resume"
        case .resumed: "resumed"
        case .peerAway: "peer-away"
        case .peerResumed: "peer-resumed"
        case .sessionEnded: "session-ended"
        default: "frame type 0x\(String(rawValue, radix: 16))"
        }
    }
}
