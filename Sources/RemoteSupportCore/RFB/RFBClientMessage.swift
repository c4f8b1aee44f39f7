/// A client-to-server message after the handshake (RFC 6143 §7.5), parsed but not judged: the
/// connection decides what is acceptable (pixel formats, update rectangles).
///
/// Sizes on the wire: SetPixelFormat 20 bytes, SetEncodings 4 + 4n, FramebufferUpdateRequest 10,
/// KeyEvent 8, PointerEvent 6, ClientCutText 8 + n. Padding bytes are ignored when parsing and written
/// as zero.
public enum RFBClientMessage: Hashable, Sendable, CustomStringConvertible {
    /// The pixel format the client wants updates in.
    case setPixelFormat(PixelFormat)
    /// The encodings the client accepts, in its order of preference (pseudo-encodings included).
    case setEncodings([Encoding])
    /// FramebufferUpdateRequest: `incremental` asks only for what changed in `rect`.
    case updateRequest(incremental: Bool, rect: Rect)
    /// KeyEvent: an X11 keysym pressed (`down`) or released.
    case key(down: Bool, keysym: UInt32)
    /// PointerEvent: the button mask (bit 0 = left button, 3 and 4 = wheel) and the position.
    case pointer(buttons: UInt8, x: Int, y: Int)
    /// ClientCutText: the client's clipboard, decoded from ISO 8859-1.
    case clientCutText(String)

    public var type: RFBClientMessageType {
        switch self {
        case .setPixelFormat: .setPixelFormat
        case .setEncodings: .setEncodings
        case .updateRequest: .framebufferUpdateRequest
        case .key: .keyEvent
        case .pointer: .pointerEvent
        case .clientCutText: .clientCutText
        }
    }

    public var description: String {
        switch self {
        case .setPixelFormat(let f): "SetPixelFormat(\(f))"
        case .setEncodings(let e): "SetEncodings(\(e.map(\.description).joined(separator: ", ")))"
        case .updateRequest(let incremental, let r): "FramebufferUpdateRequest(\(incremental ? "incremental" : "full") \(r))"
        case .key(let down, let keysym): "KeyEvent(\(down ? "down" : "up") 0x\(String(keysym, radix: 16)))"
        case .pointer(let buttons, let x, let y): "PointerEvent(buttons \(buttons) at \(x),\(y))"
        case .clientCutText(let text): "ClientCutText(\(text.unicodeScalars.count) characters)"
        }
    }

    // MARK: - Parsing

    /// Parses one message from the start of `input`.
    ///
    /// Returns the message and how many bytes it took, or nil when `input` holds only part of a message
    /// (nothing is consumed: call again with more bytes). Throws for a type this server does not
    /// implement and for a count or length over `limits` as soon as its header has arrived, before the
    /// body, so a hostile length never makes anyone wait for or allocate its bytes.
    public static func parse(_ input: ArraySlice<UInt8>, limits: RFBLimits = RFBLimits()) throws(CodecError) -> (message: RFBClientMessage, size: Int)? {
        var r = RFBReader(input)
        guard let typeByte = r.peekU8() else { return nil }
        let type = RFBClientMessageType(rawValue: typeByte)
        switch type {
        case .setPixelFormat:
            guard r.has(20) else { return nil }
            r.skip(4)
            let format = try! PixelFormat(rfbBytes: r.bytes(16))  // 16 bytes are there: it cannot throw.
            return (.setPixelFormat(format), 20)
        case .setEncodings:
            guard r.has(4) else { return nil }
            r.skip(2)
            let count = r.u16()
            guard count <= limits.maximumEncodings else {
                throw CodecError(.limitExceeded, "SetEncodings lists \(count) encodings, more than the limit of \(limits.maximumEncodings)")
            }
            guard r.has(4 * count) else { return nil }
            let encodings = (0..<count).map { _ in Encoding(rawValue: Int32(bitPattern: r.u32())) }
            return (.setEncodings(encodings), 4 + 4 * count)
        case .framebufferUpdateRequest:
            guard r.has(10) else { return nil }
            r.skip(1)
            let incremental = r.u8() != 0
            let rect = Rect(x: r.u16(), y: r.u16(), width: r.u16(), height: r.u16())
            return (.updateRequest(incremental: incremental, rect: rect), 10)
        case .keyEvent:
            guard r.has(8) else { return nil }
            r.skip(1)
            let down = r.u8() != 0
            r.skip(2)
            return (.key(down: down, keysym: r.u32()), 8)
        case .pointerEvent:
            guard r.has(6) else { return nil }
            r.skip(1)
            let buttons = r.u8()
            return (.pointer(buttons: buttons, x: r.u16(), y: r.u16()), 6)
        case .clientCutText:
            guard r.has(8) else { return nil }
            r.skip(4)
            let length = Int(r.u32())
            guard length <= limits.maximumCutTextBytes else {
                // A length with the top bit set is the Extended Clipboard form (a negative S32), which
                // a client may only use after the server announced it; this server does not.
                throw CodecError(.limitExceeded, length >= 1 << 31
                    ? "ClientCutText uses the extended clipboard format, which this server did not offer"
                    : "ClientCutText of \(length) bytes, more than the limit of \(limits.maximumCutTextBytes)")
            }
            guard r.has(length) else { return nil }
            return (.clientCutText(Latin1.decode(r.bytes(length))), 8 + length)
        default:
            throw CodecError(.unknownMessageType, "client message type \(typeByte) is not one this server implements")
        }
    }

    // MARK: - Serialising

    /// The message as it goes on the wire (what a client sends; tests use it too). Characters of
    /// ClientCutText outside ISO 8859-1 become "?". Fields wider than the wire's are truncated.
    public var bytes: [UInt8] {
        var w = RFBWriter()
        w.u8(type.rawValue)
        switch self {
        case .setPixelFormat(let format):
            w.zeros(3)
            w.append(format.rfbBytes)
        case .setEncodings(let encodings):
            w.zeros(1)
            w.u16(encodings.count)
            for e in encodings { w.u32(UInt32(bitPattern: e.rawValue)) }
        case .updateRequest(let incremental, let rect):
            w.u8(incremental ? 1 : 0)
            w.u16(rect.x)
            w.u16(rect.y)
            w.u16(rect.width)
            w.u16(rect.height)
        case .key(let down, let keysym):
            w.u8(down ? 1 : 0)
            w.zeros(2)
            w.u32(keysym)
        case .pointer(let buttons, let x, let y):
            w.u8(buttons)
            w.u16(x)
            w.u16(y)
        case .clientCutText(let text):
            let latin1 = Latin1.encode(text)
            w.zeros(3)
            w.u32(UInt32(truncatingIfNeeded: latin1.count))
            w.append(latin1)
        }
        return w.bytes
    }
}
