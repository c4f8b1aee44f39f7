/// The type byte of a session message, inside records (PROTOCOL.md, "Session messages"). An open set,
/// skipped when unknown and marked optional, an error otherwise.
public struct SessionMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let start = SessionMessageType(rawValue: 0x01)
    public static let screenInfo = SessionMessageType(rawValue: 0x02)
    public static let screenUpdate = SessionMessageType(rawValue: 0x03)
    public static let updateAck = SessionMessageType(rawValue: 0x04)
    public static let refresh = SessionMessageType(rawValue: 0x05)
    public static let cursorShape = SessionMessageType(rawValue: 0x06)
    public static let cursorPosition = SessionMessageType(rawValue: 0x07)
    public static let pointer = SessionMessageType(rawValue: 0x08)
    public static let key = SessionMessageType(rawValue: 0x09)
    public static let clipboard = SessionMessageType(rawValue: 0x0A)
    public static let chat = SessionMessageType(rawValue: 0x0B)
    public static let ack = SessionMessageType(rawValue: 0x0C)
    public static let access = SessionMessageType(rawValue: 0x0D)
    public static let pause = SessionMessageType(rawValue: 0x0E)
    public static let end = SessionMessageType(rawValue: 0x0F)

    public var description: String {
        switch self {
        case .start: "start"
        case .screenInfo: "screen-info"
        case .screenUpdate: "screen-update"
        case .updateAck: "update-ack"
        case .refresh: "refresh"
        case .cursorShape: "cursor-shape"
        case .cursorPosition: "cursor-position"
        case .pointer: "pointer"
        case .key: "key"
        case .clipboard: "clipboard"
        case .chat: "chat"
        case .ack: "ack"
        case .access: "access"
        case .pause: "pause"
        case .end: "end"
        default: "session message 0x\(String(rawValue, radix: 16))"
        }
    }
}
