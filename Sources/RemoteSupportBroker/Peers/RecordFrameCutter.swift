import NIOCore
import RemoteSupportCore

/// The relay's fast path over one connection's reads: record frames at the front of what came in are cut
/// off as they came (slices, no copy) to go to the other side unread; a frame a read cut short is held
/// (`SplitRecordFrame`) until the next reads complete it, so the path does not stop at the first split;
/// everything else goes to the state machine. The connection says what is a record
/// (`BrokerConnection.cutRecordFrame`), so the fast path and the parsed path agree.
struct RecordFrameCutter {
    /// What one read gives, in stream order: record frames to forward, then bytes for `receive`.
    struct Pieces {
        /// Whole record frames back to back (a frame held across reads comes as its pieces).
        var records: [ByteBuffer] = []
        var forReceive: [ByteBuffer] = []
    }

    /// The frame held across reads.
    private var split = SplitRecordFrame()

    /// Cuts `buffer`. A held frame is completed first; new records are cut only when `startCutting` (the
    /// link has a partner and no store task runs). `cut` asks the connection about the bytes at the front;
    /// `noteReceived` tells it that bytes of a held frame came (the keepalive counts them).
    mutating func take(_ buffer: ByteBuffer, startCutting: Bool, cut: (UnsafeRawBufferPointer) -> BrokerConnection.RecordFrameCut?,
                       noteReceived: () -> Void) -> Pieces {
        var buffer = buffer
        var pieces = Pieces()
        if !split.isEmpty {
            noteReceived()
            if split.missing == nil {
                // The header was cut: check it now that its bytes are in.
                let header = split.prefix(Frame.headerSize, continuedBy: buffer)
                guard header.count == Frame.headerSize else {
                    split.append(buffer)
                    return pieces
                }
                guard case .record(let size)? = header.withUnsafeBytes(cut) else {
                    // Not a record after all: the held bytes take the usual way, and all after them (the
                    // connection has a partial frame from here on, so nothing more is cut).
                    pieces.forReceive = split.take() + [buffer]
                    return pieces
                }
                split.setSize(size)
            }
            split.append(buffer.readSlice(length: min(split.missing!, buffer.readableBytes))!)
            guard split.missing == 0 else { return pieces }
            pieces.records = split.take()
        }
        if startCutting {
            cutting: while buffer.readableBytes > 0 {
                switch buffer.withUnsafeReadableBytes(cut) {
                case .record(let size)? where size <= buffer.readableBytes:
                    pieces.records.append(buffer.readSlice(length: size)!)
                case .record(let size)?:
                    split.begin(buffer, size: size)
                    return pieces
                case .tooShort?:
                    split.begin(buffer, size: nil)
                    return pieces
                case nil:
                    break cutting
                }
            }
        }
        if buffer.readableBytes > 0 { pieces.forReceive.append(buffer) }
        return pieces
    }
}
