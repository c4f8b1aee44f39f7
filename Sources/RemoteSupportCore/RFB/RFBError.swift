/// An error of the RFB protocol layer: an extensible code, a human-readable reason, and where it was
/// thrown. Equality compares the code only, so tests can `#expect(throws: RFBError(.malformed))`.
///
/// Codes that mean the same as a `CodecError` code share its raw value (8, 10, 11, 13), so a host that
/// maps both to one status range (the C layer) needs no table; codes of the protocol alone start at 32.
public struct RFBError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// A length or count from the peer over a configured cap (SetEncodings, ClientCutText).
        public static let limitExceeded = Code(rawValue: 8)
        /// A SetPixelFormat this server cannot serve (colour-map formats, odd sizes).
        public static let unsupportedPixelFormat = Code(rawValue: 10)
        /// A field value the protocol does not allow.
        public static let malformed = Code(rawValue: 11)
        /// Invalid arguments from the host (a framebuffer size, a message that is not an update).
        public static let invalidArgument = Code(rawValue: 13)
        /// The client's ProtocolVersion is not 3.3, 3.7 or 3.8.
        public static let unsupportedVersion = Code(rawValue: 32)
        /// The client chose a security type the server did not offer (only None is offered).
        public static let unsupportedSecurityType = Code(rawValue: 33)
        /// A client message type this server does not implement.
        public static let unknownMessageType = Code(rawValue: 34)
        /// The connection was closed by an earlier error, or a message was queued before the handshake.
        public static let notReady = Code(rawValue: 35)

        public var description: String {
            switch self {
            case .limitExceeded: "limit exceeded"
            case .unsupportedPixelFormat: "unsupported pixel format"
            case .malformed: "malformed"
            case .invalidArgument: "invalid argument"
            case .unsupportedVersion: "unsupported protocol version"
            case .unsupportedSecurityType: "unsupported security type"
            case .unknownMessageType: "unknown message type"
            case .notReady: "not ready"
            default: "error \(rawValue)"
            }
        }
    }

    public var code: Code
    public var reason: String
    public var file: String
    public var line: Int

    public init(_ code: Code, _ reason: String = "", file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

    public var description: String { reason.isEmpty ? "\(code)" : "\(code): \(reason)" }

    public static func == (a: RFBError, b: RFBError) -> Bool { a.code == b.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
