/// An RFB rectangle encoding type (RFC 6143 §7.7). Open: a value this codec does not know survives
/// parsing (a SetEncodings list carries many) and is ignored or rejected by policy.
public struct Encoding: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let raw = Encoding(rawValue: 0)
    public static let copyRect = Encoding(rawValue: 1)
    public static let zrle = Encoding(rawValue: 16)

    public var description: String {
        switch self {
        case .raw: "Raw"
        case .copyRect: "CopyRect"
        case .zrle: "ZRLE"
        default: "encoding \(rawValue)"
        }
    }
}

/// The FramebufferUpdate message (RFC 6143 §7.6.1): type 0, padding, a U16 rectangle count, then per
/// rectangle a 12-byte header (x, y, width, height as U16, encoding as S32) and its payload:
/// Raw: width*height pixels; CopyRect: source x, y as U16; ZRLE: a U32 length and that many zlib bytes.
public enum FramebufferUpdate {
    public static let messageType: UInt8 = 0
    public static let headerSize = 4
    public static let rectangleHeaderSize = 12
    /// The most rectangles one message can carry (the count is a U16).
    public static let maximumRectangles = 65535
}
