// libFuzzer target `websocket`: a client's bytes, in pieces, through NIO's WebSocket frame decoder and the
// broker's WebSocketFraming (as on an upgraded /ws connection). Never a crash; what reaches the link is
// exactly one protocol frame per message, never over the cap, and nothing after a violation; whatever
// the link writes goes out as one binary message per frame.

import NIOCore
import NIOEmbedded
import NIOWebSocket

public func fuzzWebSocket(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 1 else { return 0 }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let maximumMessage = 4096
    let channel = EmbeddedChannel()
    try! channel.connect(to: try! SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    defer {
        // Closed or not, the channel is finished and its loop run, so the pipeline lets go of it.
        _ = try? channel.finish()
        channel.embeddedEventLoop.run()
    }
    let link = FuzzLinkRecorder()
    let pipeline = channel.pipeline.syncOperations
    try! pipeline.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maximumMessage)))
    try! pipeline.addHandler(WebSocketFraming(maximumMessage: maximumMessage))
    try! pipeline.addHandler(link)

    // The first byte sets the pieces' size (a read can end anywhere); the rest is the client's stream.
    let piece = Int(input[0]) % 64 + 1
    var offset = 1
    while offset < size, !link.violated {
        let end = min(size, offset + piece)
        var buffer = channel.allocator.buffer(capacity: end - offset)
        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: input[offset..<end]))
        do { try channel.writeInbound(buffer) } catch { break }  // NIO's decoder refused the stream
        offset = end
    }
    for message in link.messages {
        require(message.readableBytes <= maximumMessage, "a message over the cap reached the link")
        require(WebSocketFraming.isOneFrame(message), "a message that is not one protocol frame reached the link")
    }
    require(link.messagesAfterViolation == 0, "a message reached the link after a violation")

    // Output: the messages back out, whole frames in pieces of any size, one binary message each (unless
    // the client's close or a violation closed the connection).
    guard channel.isActive else { return 0 }
    var out = channel.allocator.buffer(capacity: 0)
    for message in link.messages { out.writeImmutableBuffer(message) }
    let total = out.readableBytes
    while out.readableBytes > 0 {
        let n = min(out.readableBytes, piece * 7)
        channel.write(out.readSlice(length: n)!, promise: nil)
    }
    channel.flush()
    var sent = 0
    while let frame = try? channel.readOutbound(as: WebSocketFrame.self) {
        if frame.opcode == .binary {
            require(frame.fin && WebSocketFraming.isOneFrame(frame.data), "an outgoing message is not one protocol frame")
            sent += frame.data.readableBytes
        }
    }
    require(sent == total, "the output lost or made up bytes: \(sent) of \(total)")
    return 0
}

/// What reaches the link above WebSocketFraming.
private final class FuzzLinkRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    var messages: [ByteBuffer] = []
    var violated = false
    var messagesAfterViolation = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if violated { messagesAfterViolation += 1 }
        messages.append(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is WebSocketFraming.Violation { violated = true }
    }
}
