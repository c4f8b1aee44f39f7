import NIOCore
import NIOEmbedded
import NIOWebSocket
@testable import RemoteSupportBroker
import Testing

/// The broker's word-at-a-time unmasking gives the bytes NIO's byte-at-a-time unmasking gives, for every
/// length around the word size, any key and a buffer that does not start at index 0; the handler hands on
/// frames with no mask left. (The whole path runs in every WebSocket test against a real broker.)
struct WebSocketUnmaskerTests {
    @Test(arguments: [0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 16_389])
    func unmaskingMatchesNIO(length: Int) {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<8 {
            let key = WebSocketMaskingKey((0..<4).map { _ in UInt8.random(in: 0...255, using: &generator) })!
            var buffer = ByteBuffer()
            buffer.writeBytes((0..<(length + 5)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            buffer.moveReaderIndex(forwardBy: 5)  // a slice that does not start on a word boundary
            var expected = buffer
            expected.webSocketUnmask(key)
            var ours = buffer
            WebSocketUnmasker.unmask(&ours, key)
            #expect(ours == expected)
            WebSocketUnmasker.unmask(&ours, key)
            #expect(ours == buffer, "masking twice gives the bytes back")
        }
    }

    @Test func handlerPassesUnmaskedFrames() throws {
        let channel = EmbeddedChannel(handler: WebSocketUnmasker())
        let key = WebSocketMaskingKey([1, 2, 3, 4])!
        var masked = ByteBuffer(bytes: Array("one frame, masked".utf8))
        masked.webSocketMask(key)
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .binary, maskKey: key, data: masked))
        let plain = ByteBuffer(bytes: Array("not masked".utf8))
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .binary, data: plain))

        let first = try #require(try channel.readInbound(as: WebSocketFrame.self))
        #expect(first.maskKey == nil)
        #expect(first.data == ByteBuffer(bytes: Array("one frame, masked".utf8)))
        let second = try #require(try channel.readInbound(as: WebSocketFrame.self))
        #expect(second.maskKey == nil && second.data == plain)
        _ = try channel.finish()
    }
}
