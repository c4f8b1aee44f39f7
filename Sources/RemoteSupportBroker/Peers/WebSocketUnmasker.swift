import NIOCore
import NIOWebSocket

/// Unmasks the frames a WebSocket client sends, eight bytes at a time, right after NIO's frame decoder.
///
/// Every client frame is masked (RFC 6455 section 5.3) and NIO unmasks byte by byte, which was a third of
/// the broker's CPU when relaying bulk over WebSocket. Frames leave this handler with `maskKey` nil, so
/// `unmaskedData` further up returns them as they are. Installed on an upgraded channel by
/// `WebSocketUnmasker.install`; frames decoded before that still take NIO's own path, which is equivalent.
final class WebSocketUnmasker: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        if let key = frame.maskKey {
            Self.unmask(&frame.data, key)
            frame.maskKey = nil
        }
        context.fireChannelRead(wrapInboundOut(frame))
    }

    /// XORs `buffer`'s readable bytes with `key` repeated from its first byte (mask and unmask are the same).
    static func unmask(_ buffer: inout ByteBuffer, _ key: WebSocketMaskingKey) {
        let k = (key[0], key[1], key[2], key[3])
        // The key twice over, in memory order, read as a machine word: the same bytes line up whatever the
        // byte order.
        let word = withUnsafeBytes(of: (k.0, k.1, k.2, k.3, k.0, k.1, k.2, k.3)) { $0.loadUnaligned(as: UInt64.self) }
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

    /// Puts an unmasker right after the channel's WebSocket frame decoder (on the channel's loop).
    static func install(on channel: any Channel) async throws {
        try await channel.eventLoop.submit {
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
            try pipeline.addHandler(WebSocketUnmasker(), position: .after(decoder))
        }.get()
    }
}
