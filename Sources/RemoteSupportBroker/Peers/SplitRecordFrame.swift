import NIOCore

/// A record frame the relay's fast path began to take and whose bytes are not all in yet: TCP reads end
/// anywhere, so a bulk transfer splits about one record a read. The pieces are slices of the reads (no
/// copy) and go to the other side together once the frame is whole, so nothing else can come between
/// them on that side's stream.
///
/// Invariant: `held <= size` when `size` is known; while it is not (fewer bytes than a frame header
/// came), `held < Frame.headerSize`.
struct SplitRecordFrame {
    private(set) var pieces: [ByteBuffer] = []
    private(set) var held = 0
    /// The frame's size (length field included), once its header is in.
    private(set) var size: Int?

    var isEmpty: Bool { pieces.isEmpty }

    /// How many more bytes the frame needs; nil while its header is incomplete.
    var missing: Int? { size.map { $0 - held } }

    /// Starts holding a frame with its first piece (`size` nil: the header is not all there).
    mutating func begin(_ piece: ByteBuffer, size: Int?) {
        precondition(isEmpty)
        pieces = [piece]
        held = piece.readableBytes
        self.size = size
    }

    mutating func append(_ piece: ByteBuffer) {
        pieces.append(piece)
        held += piece.readableBytes
    }

    /// The header's size is known now.
    mutating func setSize(_ size: Int) {
        precondition(size >= held)
        self.size = size
    }

    /// The first `count` bytes held, followed by `next`'s first bytes: what the header check needs.
    func prefix(_ count: Int, continuedBy next: ByteBuffer) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for piece in pieces + [next] where bytes.count < count {
            bytes += piece.getBytes(at: piece.readerIndex, length: min(count - bytes.count, piece.readableBytes)) ?? []
        }
        return bytes
    }

    /// Hands the pieces over (the frame is whole, or it turned out not to be a record) and starts empty.
    mutating func take() -> [ByteBuffer] {
        defer { self = SplitRecordFrame() }
        return pieces
    }
}
