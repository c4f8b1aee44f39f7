import NIOCore
@testable import RemoteSupportBroker
import Testing

/// The pieces of a record frame the relay holds across reads: the header put together from pieces, the
/// bytes still missing, and the pieces handed over whole and in order.
struct SplitRecordFrameTests {
    @Test func aFrameCutInsideItsHeaderIsPutTogether() {
        let frame = ByteBuffer(bytes: [0, 0, 0, 40, 0x20, 0] + [UInt8](repeating: 7, count: 38))
        var split = SplitRecordFrame()
        #expect(split.isEmpty)
        split.begin(frame.getSlice(at: 0, length: 2)!, size: nil)
        split.append(frame.getSlice(at: 2, length: 1)!)
        #expect(split.missing == nil, "the size is not known before the header is")
        let next = frame.getSlice(at: 3, length: frame.readableBytes - 3)!
        #expect(split.prefix(6, continuedBy: next) == [0, 0, 0, 40, 0x20, 0])
        #expect(split.prefix(2, continuedBy: next) == [0, 0])
        split.setSize(44)
        #expect(split.missing == 41)
        split.append(next.getSlice(at: next.readerIndex, length: 41)!)
        #expect(split.missing == 0)
        var whole = ByteBuffer()
        for piece in split.take() { whole.writeImmutableBuffer(piece) }
        #expect(whole == frame)
        #expect(split.isEmpty && split.missing == nil && split.held == 0)
    }

    @Test func aShortHeaderAndNothingMore() {
        var split = SplitRecordFrame()
        split.begin(ByteBuffer(bytes: [0, 0]), size: nil)
        #expect(split.prefix(6, continuedBy: ByteBuffer(bytes: [0, 9])) == [0, 0, 0, 9], "as many as there are")
        #expect(split.held == 2)
    }
}
