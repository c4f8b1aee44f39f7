/// A message between the end user and the agent, end to end inside records (PROTOCOL.md, "Session
/// messages"): `u8 type | u8 flags | payload`, flag bit 0 meaning "optional".
///
/// Messages with a `seq` are reliable: numbered 1, 2, 3... per direction, kept by the sender until the
/// peer's `ack`, sent again after a resume, and applied at most once by the receiver.
public enum SessionMessage: Hashable, Sendable {
    /// The first message each way: key confirmation (the sender's key, and the peer's as the sender
    /// got it from the broker) and the sender's features.
    case start(version: UInt16, features: SessionFeatures, senderKey: KeyShare, receiverKey: KeyShare)
    /// End user -> agent: the screen's size and the pixel format of the updates that follow. A new
    /// `generation` resets the viewer's decoder (new size, or a new zlib stream after a resume).
    case screenInfo(generation: UInt32, width: UInt16, height: UInt16, format: PixelFormat)
    /// End user -> agent: one codec update (an RFB FramebufferUpdate message, ZRLE/CopyRect/Raw).
    case screenUpdate(generation: UInt32, sequence: UInt32, update: [UInt8])
    /// Agent -> end user: every update up to `sequence` is applied (flow control credit).
    case updateAck(sequence: UInt32)
    /// Agent -> end user: send the whole screen again.
    case refresh
    /// End user -> agent: the pointer's image, RGBA 8-bit, `width * height * 4` bytes.
    case cursorShape(hotX: UInt16, hotY: UInt16, width: UInt16, height: UInt16, rgba: [UInt8])
    /// End user -> agent: where the pointer is.
    case cursorPosition(x: UInt16, y: UInt16)
    /// Agent -> end user: pointer at (x, y) with `buttons` down (bit 0 left, 1 middle, 2 right,
    /// 3 back, 4 forward) and wheel steps (positive: down / right).
    case pointer(seq: UInt32, x: UInt16, y: UInt16, buttons: UInt16, wheelX: Int16, wheelY: Int16)
    /// Agent -> end user: an X11 keysym pressed or released.
    case key(seq: UInt32, keysym: UInt32, down: Bool)
    /// Either way: clipboard text (UTF-8, capped).
    case clipboard(seq: UInt32, text: String)
    /// Either way: a chat line.
    case chat(seq: UInt32, text: String)
    /// Either way: every reliable message up to `seq` was received.
    case ack(seq: UInt32)
    /// End user -> agent: what the agent may do now (the end user granted or took back control).
    case access(seq: UInt32, mode: AccessMode)
    /// End user -> agent: sharing paused (true) or resumed (false).
    case pause(seq: UInt32, paused: Bool)
    /// Either way: the session ends, with a reason.
    case end(CloseReason, String)

    public static let version: UInt16 = 1
    public static let maximumClipboardBytes = 1 << 20
    public static let maximumChatBytes = 4096
    public static let maximumCursorSide = 256

    public var type: SessionMessageType {
        switch self {
        case .start: .start
        case .screenInfo: .screenInfo
        case .screenUpdate: .screenUpdate
        case .updateAck: .updateAck
        case .refresh: .refresh
        case .cursorShape: .cursorShape
        case .cursorPosition: .cursorPosition
        case .pointer: .pointer
        case .key: .key
        case .clipboard: .clipboard
        case .chat: .chat
        case .ack: .ack
        case .access: .access
        case .pause: .pause
        case .end: .end
        }
    }

    /// The reliable sequence number, for messages that have one.
    public var reliableSequence: UInt32? {
        switch self {
        case .pointer(let s, _, _, _, _, _), .key(let s, _, _), .clipboard(let s, _), .chat(let s, _),
             .access(let s, _), .pause(let s, _): s
        default: nil
        }
    }

    /// The message's bytes (type, flags, payload).
    public var bytes: [UInt8] {
        var w = WireWriter()
        w.u8(type.rawValue)
        w.u8(0)
        switch self {
        case .start(let version, let features, let sender, let receiver):
            w.u16(version)
            w.u64(features.rawValue)
            w.append(sender.bytes)
            w.append(receiver.bytes)
        case .screenInfo(let generation, let width, let height, let format):
            w.u32(generation)
            w.u16(width)
            w.u16(height)
            w.append(format.wireBytes)
        case .screenUpdate(let generation, let sequence, let update):
            w.bytes.reserveCapacity(10 + update.count)
            w.u32(generation)
            w.u32(sequence)
            w.append(update)
        case .updateAck(let sequence):
            w.u32(sequence)
        case .refresh:
            break
        case .cursorShape(let hotX, let hotY, let width, let height, let rgba):
            w.u16(hotX); w.u16(hotY); w.u16(width); w.u16(height)
            w.append(rgba)
        case .cursorPosition(let x, let y):
            w.u16(x); w.u16(y)
        case .pointer(let seq, let x, let y, let buttons, let wheelX, let wheelY):
            w.u32(seq); w.u16(x); w.u16(y); w.u16(buttons); w.i16(wheelX); w.i16(wheelY)
        case .key(let seq, let keysym, let down):
            w.u32(seq); w.u32(keysym); w.bool(down)
        case .clipboard(let seq, let text):
            w.u32(seq); w.longString(capped(text, Self.maximumClipboardBytes))
        case .chat(let seq, let text):
            w.u32(seq); w.string(capped(text, Self.maximumChatBytes))
        case .ack(let seq):
            w.u32(seq)
        case .access(let seq, let mode):
            w.u32(seq); w.u8(mode.rawValue)
        case .pause(let seq, let paused):
            w.u32(seq); w.bool(paused)
        case .end(let reason, let message):
            w.u16(reason.rawValue); w.string(capped(message, FieldLimit.closeMessage))
        }
        return w.bytes
    }

    /// Parses one whole message. Returns nil for an unknown type marked optional; throws for an unknown
    /// required type and for a malformed known one. Trailing bytes after the known fields are ignored.
    public init?(bytes: [UInt8]) throws(ProtocolError) {
        guard bytes.count >= 2 else { throw .malformed("a session message of \(bytes.count) bytes has no type and flags") }
        let type = SessionMessageType(rawValue: bytes[0])
        var r = WireReader(bytes, from: 2, what: "a \(type) message")
        switch type {
        case .start:
            self = .start(version: try r.u16("version"), features: SessionFeatures(rawValue: try r.u64("features")),
                          senderKey: try r.keyShare("sender key"), receiverKey: try r.keyShare("receiver key"))
        case .screenInfo:
            let generation = try r.u32("generation")
            let width = try r.u16("width"), height = try r.u16("height")
            guard width > 0, height > 0 else { throw .malformed("screen size \(width)x\(height) is empty") }
            let format = try PixelFormat(wireBytes: try r.fixed(16, "pixel format"))
            self = .screenInfo(generation: generation, width: width, height: height, format: format)
        case .screenUpdate:
            self = .screenUpdate(generation: try r.u32("generation"), sequence: try r.u32("sequence"), update: r.rest())
        case .updateAck:
            self = .updateAck(sequence: try r.u32("sequence"))
        case .refresh:
            self = .refresh
        case .cursorShape:
            let hotX = try r.u16("hot x"), hotY = try r.u16("hot y"), width = try r.u16("width"), height = try r.u16("height")
            guard width <= Self.maximumCursorSide, height <= Self.maximumCursorSide else {
                throw ProtocolError(.tooLarge, "cursor \(width)x\(height) is over \(Self.maximumCursorSide)x\(Self.maximumCursorSide)")
            }
            guard hotX < max(width, 1), hotY < max(height, 1) else { throw .malformed("cursor hot spot (\(hotX), \(hotY)) is outside it") }
            self = .cursorShape(hotX: hotX, hotY: hotY, width: width, height: height,
                                rgba: try r.fixed(Int(width) * Int(height) * 4, "pixels"))
        case .cursorPosition:
            self = .cursorPosition(x: try r.u16("x"), y: try r.u16("y"))
        case .pointer:
            self = .pointer(seq: try r.u32("seq"), x: try r.u16("x"), y: try r.u16("y"), buttons: try r.u16("buttons"),
                            wheelX: try r.i16("wheel x"), wheelY: try r.i16("wheel y"))
        case .key:
            self = .key(seq: try r.u32("seq"), keysym: try r.u32("keysym"), down: try r.bool("down"))
        case .clipboard:
            self = .clipboard(seq: try r.u32("seq"), text: try r.longString("text", maxBytes: Self.maximumClipboardBytes))
        case .chat:
            self = .chat(seq: try r.u32("seq"), text: try r.string("text", maxBytes: Self.maximumChatBytes))
        case .ack:
            self = .ack(seq: try r.u32("seq"))
        case .access:
            self = .access(seq: try r.u32("seq"), mode: AccessMode(rawValue: try r.u8("mode")))
        case .pause:
            self = .pause(seq: try r.u32("seq"), paused: try r.bool("paused"))
        case .end:
            self = .end(CloseReason(rawValue: try r.u16("reason")), try r.string("message", maxBytes: FieldLimit.closeMessage))
        default:
            if bytes[1] & Frame.optionalFlag != 0 { return nil }
            throw .malformed("unknown session message type 0x\(String(type.rawValue, radix: 16)) not marked optional")
        }
    }
}

extension PixelFormat {
    /// The 16-byte RFB PIXEL_FORMAT layout (RFC 6143 §7.4).
    var wireBytes: [UInt8] {
        var w = WireWriter()
        w.u8(bitsPerPixel); w.u8(depth); w.bool(bigEndian); w.bool(trueColour)
        w.u16(redMax); w.u16(greenMax); w.u16(blueMax)
        w.u8(redShift); w.u8(greenShift); w.u8(blueShift)
        w.append([0, 0, 0])
        return w.bytes
    }

    init(wireBytes b: [UInt8]) throws(ProtocolError) {
        var r = WireReader(b, what: "a pixel format")
        self.init(bitsPerPixel: try r.u8("bpp"), depth: try r.u8("depth"), bigEndian: try r.u8("big endian") != 0,
                  trueColour: try r.u8("true colour") != 0, redMax: try r.u16("red max"), greenMax: try r.u16("green max"),
                  blueMax: try r.u16("blue max"), redShift: try r.u8("red shift"), greenShift: try r.u8("green shift"),
                  blueShift: try r.u8("blue shift"))
        do { try validate() } catch { throw .malformed("pixel format: \(error)") }
    }
}
