/// The first byte of a client-to-server message (RFC 6143 §7.5). Open: a type this server does not
/// implement survives as a value, so the connection can name it in its error.
public struct RFBClientMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let setPixelFormat = RFBClientMessageType(rawValue: 0)
    public static let setEncodings = RFBClientMessageType(rawValue: 2)
    public static let framebufferUpdateRequest = RFBClientMessageType(rawValue: 3)
    public static let keyEvent = RFBClientMessageType(rawValue: 4)
    public static let pointerEvent = RFBClientMessageType(rawValue: 5)
    public static let clientCutText = RFBClientMessageType(rawValue: 6)

    public var description: String {
        switch self {
        case .setPixelFormat: "SetPixelFormat"
        case .setEncodings: "SetEncodings"
        case .framebufferUpdateRequest: "FramebufferUpdateRequest"
        case .keyEvent: "KeyEvent"
        case .pointerEvent: "PointerEvent"
        case .clientCutText: "ClientCutText"
        default: "message type \(rawValue)"
        }
    }
}

/// The first byte of a server-to-client message (RFC 6143 §7.6).
public struct RFBServerMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let framebufferUpdate = RFBServerMessageType(rawValue: 0)
    public static let setColourMapEntries = RFBServerMessageType(rawValue: 1)
    public static let bell = RFBServerMessageType(rawValue: 2)
    public static let serverCutText = RFBServerMessageType(rawValue: 3)

    public var description: String {
        switch self {
        case .framebufferUpdate: "FramebufferUpdate"
        case .setColourMapEntries: "SetColourMapEntries"
        case .bell: "Bell"
        case .serverCutText: "ServerCutText"
        default: "message type \(rawValue)"
        }
    }
}

/// An RFB security type (RFC 6143 §7.2). Only `.none` is offered by this package's server.
public struct RFBSecurityType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let invalid = RFBSecurityType(rawValue: 0)
    public static let none = RFBSecurityType(rawValue: 1)
    public static let vncAuthentication = RFBSecurityType(rawValue: 2)

    public var description: String {
        switch self {
        case .invalid: "Invalid"
        case .none: "None"
        case .vncAuthentication: "VNC Authentication"
        default: "security type \(rawValue)"
        }
    }
}
