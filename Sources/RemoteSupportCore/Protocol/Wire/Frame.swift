/// One frame: the unit every transport carries (PROTOCOL.md, "Frames").
///
///     +----------------+--------+--------+-------------------------+
///     | length: u32 BE | type   | flags  | payload (length - 2)    |
///     +----------------+--------+--------+-------------------------+
///
/// `length` counts the type, flags and payload bytes, so it is at least 2. Over WebSocket each binary
/// message is exactly one frame, length field included.
public struct Frame: Hashable, Sendable {
    public var type: FrameType
    public var flags: UInt8
    public var payload: [UInt8]

    /// Flag bit 0: a receiver that does not know the type skips the frame instead of failing.
    public static let optionalFlag: UInt8 = 0x01
    public static let headerSize = 6
    /// Every implementation accepts frames of this length (type + flags + payload) before and after the
    /// hello: the floor under any announced maximum.
    public static let minimumMaximumLength = 65_600

    public init(_ type: FrameType, flags: UInt8 = 0, payload: [UInt8] = []) {
        self.type = type
        self.flags = flags
        self.payload = payload
    }

    public var isOptional: Bool { flags & Self.optionalFlag != 0 }

    /// The frame as sent.
    public var bytes: [UInt8] {
        var w = WireWriter(capacity: Self.headerSize + payload.count)
        write(to: &w)
        return w.bytes
    }

    func write(to w: inout WireWriter) {
        w.u32(UInt32(payload.count + 2))
        w.u8(type.rawValue)
        w.u8(flags)
        w.append(payload)
    }
}
