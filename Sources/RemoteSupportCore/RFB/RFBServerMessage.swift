/// The bytes of the server-to-client messages and handshake steps (RFC 6143 §7.1-7.3, §7.6) other
/// than FramebufferUpdate, which `UpdateEncoder` produces whole.
public enum RFBServerMessage {
    /// ServerInit: U16 width, U16 height, the 16-byte PIXEL_FORMAT, U32 name length, the name (UTF-8).
    public static func serverInit(width: Int, height: Int, format: PixelFormat, name: String) -> [UInt8] {
        var w = RFBWriter()
        w.u16(width)
        w.u16(height)
        w.append(format.rfbBytes)
        let name = Array(name.utf8)
        w.u32(UInt32(truncatingIfNeeded: name.count))
        w.append(name)
        return w.bytes
    }

    /// Bell: one byte.
    public static var bell: [UInt8] { [RFBServerMessageType.bell.rawValue] }

    /// ServerCutText: type, 3 padding bytes, U32 length, the text in ISO 8859-1 (other characters
    /// become "?").
    public static func serverCutText(_ text: String) -> [UInt8] {
        serverCutText(latin1: Latin1.encode(text))
    }

    static func serverCutText(latin1: [UInt8]) -> [UInt8] {
        var w = RFBWriter()
        w.u8(RFBServerMessageType.serverCutText.rawValue)
        w.zeros(3)
        w.u32(UInt32(truncatingIfNeeded: latin1.count))
        w.append(latin1)
        return w.bytes
    }

    // MARK: - Handshake

    /// The security types offered to a 3.7 or 3.8 client: U8 count, then the types.
    static func securityTypes(_ types: [RFBSecurityType]) -> [UInt8] {
        [UInt8(types.count)] + types.map(\.rawValue)
    }

    /// The security type chosen for a 3.3 client: U32.
    static func securityType33(_ type: RFBSecurityType) -> [UInt8] {
        [0, 0, 0, type.rawValue]
    }

    /// SecurityResult OK (U32 0).
    static let securityResultOK: [UInt8] = [0, 0, 0, 0]

    /// SecurityResult failed (U32 1) and, for 3.8, the reason (U32 length, text).
    static func securityResultFailed(reason: String) -> [UInt8] {
        [0, 0, 0, 1] + reasonString(reason)
    }

    /// A refusal before any security type: for a client speaking 3.7 or later, a count of zero
    /// security types; for older ones (3.3 and anything we could not read as 3.7+), security type 0
    /// (Invalid). Both are followed by the reason.
    static func refusal(reason: String, newStyle: Bool) -> [UInt8] {
        (newStyle ? [0] : [0, 0, 0, 0]) + reasonString(reason)
    }

    static func reasonString(_ reason: String) -> [UInt8] {
        var w = RFBWriter()
        let text = Array(reason.utf8)
        w.u32(UInt32(truncatingIfNeeded: text.count))
        w.append(text)
        return w.bytes
    }
}
