import NIOCore
import NIOEmbedded
import NIOWebSocket
@testable import RemoteSupportBroker
import Testing

/// How a WebSocket connection becomes the protocol's byte stream (`WebSocketFraming`): unmasking a word at
/// a time gives NIO's bytes, messages come up whole and one frame each, the peer's mistakes are violations,
/// pings and closes are answered, and output goes out as one message per protocol frame. (Every WebSocket
/// test against a real broker runs the whole path too.)
struct WebSocketFramingTests {
    static let key = WebSocketMaskingKey([9, 8, 7, 6])!

    /// A protocol frame: length, type, then `payload` bytes.
    static func protocolFrame(type: UInt8 = 0x20, payload: Int) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(UInt32(2 + payload))
        b.writeInteger(UInt8(0x00))
        b.writeInteger(type)
        b.writeBytes((0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        return b
    }

    /// A client's frame: masked with `key`.
    static func clientFrame(_ opcode: WebSocketOpcode, _ data: ByteBuffer, fin: Bool = true) -> WebSocketFrame {
        var masked = data
        masked.webSocketMask(key)
        return WebSocketFrame(fin: fin, opcode: opcode, maskKey: key, data: masked)
    }

    /// The framing handler with a recorder after it (what reaches the link).
    static func channel(maximumMessage: Int = 65_605) throws -> (EmbeddedChannel, Recorder) {
        let recorder = Recorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(WebSocketFraming(maximumMessage: maximumMessage))
        try channel.pipeline.syncOperations.addHandler(recorder)
        return (channel, recorder)
    }

    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var messages: [ByteBuffer] = []
        var errors: [any Error] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { messages.append(unwrapInboundIn(data)) }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { errors.append(error) }
    }

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
            WebSocketFraming.unmask(&ours, key)
            #expect(ours == expected)
            WebSocketFraming.unmask(&ours, key)
            #expect(ours == buffer, "masking twice gives the bytes back")
        }
    }

    @Test func messagesComeUpUnmaskedAndWhole() throws {
        let (channel, recorder) = try Self.channel()
        let one = Self.protocolFrame(payload: 100)
        try channel.writeInbound(Self.clientFrame(.binary, one))
        // A message in three fragments, a ping between them (control frames may come between fragments).
        let two = Self.protocolFrame(payload: 5000)
        try channel.writeInbound(Self.clientFrame(.binary, two.getSlice(at: 0, length: 10)!, fin: false))
        try channel.writeInbound(Self.clientFrame(.continuation, two.getSlice(at: 10, length: 2000)!, fin: false))
        try channel.writeInbound(Self.clientFrame(.ping, ByteBuffer(bytes: [1, 2, 3])))
        try channel.writeInbound(Self.clientFrame(.continuation, two.getSlice(at: 2010, length: two.readableBytes - 2010)!))
        #expect(recorder.messages == [one, two])
        #expect(recorder.errors.isEmpty)
        let pong = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(pong.opcode == .pong && pong.fin && pong.maskKey == nil && pong.data == ByteBuffer(bytes: [1, 2, 3]))
        _ = try channel.finish()
    }

    /// Each mistake is reported once and nothing after it goes up.
    @Test(arguments: ["unmasked", "text", "two frames", "half a frame", "too short", "continuation first",
                      "message inside a message", "too long"])
    func violations(_ mistake: String) throws {
        let (channel, recorder) = try Self.channel(maximumMessage: 4096)
        let frame = Self.protocolFrame(payload: 40)
        switch mistake {
        case "unmasked": try channel.writeInbound(WebSocketFrame(fin: true, opcode: .binary, data: frame))
        case "text": try channel.writeInbound(Self.clientFrame(.text, frame))
        case "two frames":
            var two = frame
            two.writeImmutableBuffer(frame)
            try channel.writeInbound(Self.clientFrame(.binary, two))
        case "half a frame": try channel.writeInbound(Self.clientFrame(.binary, frame.getSlice(at: 0, length: 20)!))
        case "too short": try channel.writeInbound(Self.clientFrame(.binary, ByteBuffer(bytes: [0, 0, 0, 1, 0])))
        case "continuation first": try channel.writeInbound(Self.clientFrame(.continuation, frame))
        case "message inside a message":
            try channel.writeInbound(Self.clientFrame(.binary, frame.getSlice(at: 0, length: 10)!, fin: false))
            try channel.writeInbound(Self.clientFrame(.binary, frame))
        case "too long":
            let big = Self.protocolFrame(payload: 5000)
            try channel.writeInbound(Self.clientFrame(.binary, big.getSlice(at: 0, length: 3000)!, fin: false))
            try channel.writeInbound(Self.clientFrame(.continuation, big.getSlice(at: 3000, length: big.readableBytes - 3000)!))
        default: Issue.record("unknown case")
        }
        try channel.writeInbound(Self.clientFrame(.binary, frame))  // ignored after the violation
        #expect(recorder.messages.isEmpty)
        #expect(recorder.errors.count == 1)
        #expect(recorder.errors.first is WebSocketFraming.Violation)
        _ = try channel.finish()
    }

    @Test func outputGoesOutAsOneMessagePerFrame() throws {
        let (channel, _) = try Self.channel()
        let a = Self.protocolFrame(payload: 3), b = Self.protocolFrame(payload: 70_000 - 6), c = Self.protocolFrame(payload: 0)
        var all = a
        all.writeImmutableBuffer(b)
        all.writeImmutableBuffer(c)
        // Written in two pieces cut inside b: the part of b waits for the rest.
        let written = channel.eventLoop.makePromise(of: Void.self)
        try channel.writeOutbound(all.getSlice(at: 0, length: 100)!)
        channel.writeAndFlush(all.getSlice(at: 100, length: all.readableBytes - 100)!, promise: written)
        try written.futureResult.wait()
        var out: [WebSocketFrame] = []
        while let f = try channel.readOutbound(as: WebSocketFrame.self) { out.append(f) }
        #expect(out.map(\.data) == [a, b, c])
        #expect(out.allSatisfy { $0.opcode == .binary && $0.fin && $0.maskKey == nil })
        _ = try channel.finish()
    }

    @Test func closingSendsACloseFrameAndAPeersCloseIsAnswered() throws {
        let (channel, _) = try Self.channel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(Self.clientFrame(.connectionClose, ByteBuffer(bytes: [0x03, 0xE9])))  // 1001 going away
        let answer = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(answer.opcode == .connectionClose)
        #expect(answer.data.getInteger(at: answer.data.readerIndex, as: UInt16.self) == 1000)
        #expect(!channel.isActive)
        #expect(try channel.readOutbound(as: WebSocketFrame.self) == nil, "one close frame only")

        let (other, _) = try Self.channel()
        try other.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try other.writeOutbound(Self.protocolFrame(payload: 1))
        try other.close().wait()
        #expect(try other.readOutbound(as: WebSocketFrame.self)?.opcode == .binary)
        #expect(try other.readOutbound(as: WebSocketFrame.self)?.opcode == .connectionClose)
    }
}
