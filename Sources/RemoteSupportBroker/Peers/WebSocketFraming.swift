import NIOCore
import NIOWebSocket

/// Turns a WebSocket connection into the byte stream of protocol frames `PeerChannelHandler` serves, so
/// a WebSocket link is read, relayed and written on its channel's loop exactly like a TCP one.
///
/// Inbound, after NIO's frame decoder: each binary message (fragments joined, at most `maximumMessage`
/// bytes) must be exactly one protocol frame, its length field included (PROTOCOL.md section 2), and goes
/// up as one `ByteBuffer`; a message that is not, a text message or an unmasked client frame (RFC 6455
/// section 5.1) is a `Violation` fired up the pipeline. Pings are answered here; a close is answered and
/// ends the connection. Client frames are unmasked eight bytes at a time (NIO's byte loop was a third of
/// the broker's CPU when relaying bulk).
///
/// Outbound: whatever the link writes is whole protocol frames back to back; each goes out as one binary
/// message. Closing the channel sends a close frame (1000) first; a peer's close is answered with one.
final class WebSocketFraming: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    /// What the peer did wrong; `PeerChannelHandler` closes the link with `protocol-error` and the reason.
    struct Violation: Error, Equatable {
        let reason: String
    }

    private let maximumMessage: Int
    /// A binary message whose first fragments came (nil between messages).
    private var fragments: ByteBuffer?
    /// Output bytes that did not end on a frame boundary yet (never, with the link's whole frames).
    private var partialOutput: ByteBuffer?
    private var sentClose = false
    private var violated = false

    init(maximumMessage: Int) {
        self.maximumMessage = maximumMessage
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !violated else { return }
        var frame = unwrapInboundIn(data)
        guard let key = frame.maskKey else { return violation(context, "a client's WebSocket frames must be masked") }
        Self.unmask(&frame.data, key)
        switch frame.opcode {
        case .binary:
            guard fragments == nil else { return violation(context, "a WebSocket message began inside another") }
            if frame.fin { return deliver(context, frame.data) }
            fragments = frame.data
        case .continuation:
            guard var message = fragments else { return violation(context, "a WebSocket continuation without a message") }
            guard message.readableBytes + frame.data.readableBytes <= maximumMessage else {
                return violation(context, "a WebSocket message over \(maximumMessage) bytes")
            }
            message.writeImmutableBuffer(frame.data)
            fragments = frame.fin ? nil : message
            if frame.fin { deliver(context, message) }
        case .ping:
            guard !sentClose else { return }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.data)), promise: nil)
        case .pong:
            break
        case .connectionClose:
            // Answered, then the connection ends: the link hears a lost transport, as when a TCP peer closes.
            close(context: context, mode: .all, promise: nil)
        case .text:
            violation(context, "the protocol is carried in binary WebSocket messages, not text")
        default:
            violation(context, "an unknown WebSocket opcode")
        }
    }

    private func deliver(_ context: ChannelHandlerContext, _ message: ByteBuffer) {
        guard Self.isOneFrame(message) else {
            return violation(context, "each WebSocket message must be exactly one protocol frame")
        }
        context.fireChannelRead(wrapInboundOut(message))
    }

    /// Reads stop here: nothing after a violation reaches the link, which closes the connection.
    private func violation(_ context: ChannelHandlerContext, _ reason: String) {
        violated = true
        fragments = nil
        context.fireErrorCaught(Violation(reason: reason))
    }

    /// Whether a message is exactly one protocol frame: a length field (at least the 2 bytes of a frame's
    /// type) equal to the bytes after it.
    static func isOneFrame(_ message: ByteBuffer) -> Bool {
        guard message.readableBytes >= 4 + 2, let length = message.getInteger(at: message.readerIndex, as: UInt32.self) else {
            return false
        }
        return Int(length) == message.readableBytes - 4
    }

    /// XORs `buffer`'s readable bytes with `key` repeated from its first byte (mask and unmask are the same).
    static func unmask(_ buffer: inout ByteBuffer, _ key: WebSocketMaskingKey) {
        // The key twice over, in memory order, read as a machine word: the same bytes line up whatever the
        // byte order.
        let word = withUnsafeBytes(of: (key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3])) {
            $0.loadUnaligned(as: UInt64.self)
        }
        buffer.withUnsafeMutableReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            let count = bytes.count
            var i = 0
            while i + 8 <= count {
                let value = (base + i).loadUnaligned(as: UInt64.self) ^ word
                (base + i).storeBytes(of: value, as: UInt64.self)
                i += 8
            }
            while i < count {
                bytes[i] ^= key[i % 4]
                i += 1
            }
        }
    }

    // MARK: Writing

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !sentClose else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        var rest = unwrapOutboundIn(data)
        if var partial = partialOutput {
            partial.writeImmutableBuffer(rest)
            rest = partial
            partialOutput = nil
        }
        var frames: [ByteBuffer] = []
        while let length = rest.getInteger(at: rest.readerIndex, as: UInt32.self),
              let frame = rest.readSlice(length: 4 + Int(length)) {
            frames.append(frame)
        }
        if rest.readableBytes > 0 { partialOutput = rest }
        guard let last = frames.popLast() else {
            promise?.succeed()
            return
        }
        for frame in frames {
            context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .binary, data: frame)), promise: nil)
        }
        // Writes complete in order: the last one stands for the buffer.
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .binary, data: last)), promise: promise)
    }

    /// A close frame goes out first: flushed, so it is on its way before the socket closes (without waiting
    /// for it, since a peer that stopped reading would hold the close forever).
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all, !sentClose, context.channel.isActive {
            sentClose = true
            var data = context.channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: .normalClosure)
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
        }
        context.close(mode: mode, promise: promise)
    }
}
