/// Splits a byte stream into frames. Feed it bytes as they arrive, in pieces of any size; `next()`
/// returns a whole frame, or nil (consuming nothing) while the next frame is incomplete.
///
/// A length field under 2 or over `maximumLength` is an error before any of the payload is buffered,
/// so a hostile peer cannot make it hold more than `maximumLength + 6` bytes of a frame. After an
/// error the decoder stays failed: the stream has no way to find the next frame.
public struct FrameDecoder: Sendable {
    /// The longest frame accepted (type + flags + payload).
    public var maximumLength: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var failure: ProtocolError?

    public init(maximumLength: Int = Frame.minimumMaximumLength) {
        self.maximumLength = maximumLength
    }

    /// Bytes received and not yet returned as frames.
    public var bufferedCount: Int { buffer.count - start }

    public mutating func receive(_ bytes: some Sequence<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    public mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    private mutating func compact() {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }

    public mutating func next() throws(ProtocolError) -> Frame? {
        if let failure { throw failure }
        guard bufferedCount >= 4 else { return nil }
        var length = 0
        for i in 0..<4 { length = length << 8 | Int(buffer[start + i]) }
        guard length >= 2 else {
            failure = .malformed("frame length \(length) is under 2 (a frame has at least a type and flags)")
            throw failure!
        }
        guard length <= maximumLength else {
            failure = ProtocolError(.tooLarge, "frame length \(length) is over the limit of \(maximumLength)")
            throw failure!
        }
        guard bufferedCount >= 4 + length else { return nil }
        let frame = Frame(FrameType(rawValue: buffer[start + 4]), flags: buffer[start + 5],
                          payload: Array(buffer[(start + 6)..<(start + 4 + length)]))
        start += 4 + length
        if start == buffer.count { buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20); start = 0 }
        return frame
    }
}
