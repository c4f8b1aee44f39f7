import HummingbirdWebSocket
import NIOCore
import RemoteSupportCore

/// The wire protocol over WebSocket: one binary message carries exactly one frame, its length field
/// included (PROTOCOL.md section 2).
struct WebSocketTransport: AsyncWritingTransport {
    let channel: any Channel
    let outbound: WebSocketOutboundWriter

    func write(_ bytes: [UInt8]) async throws {
        // The state machine's output is whole frames back to back: one message each.
        var offset = 0
        while offset + 4 <= bytes.count {
            let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let end = offset + 4 + length
            precondition(end <= bytes.count, "the state machine emits whole frames")
            try await outbound.write(.binary(channel.allocator.buffer(bytes: bytes[offset..<end])))
            offset = end
        }
    }

    func finish() async {
        try? await outbound.close(.normalClosure, reason: nil)
    }

    func abort() { channel.close(promise: nil) }

    /// Whether a received message is exactly one frame (length field == size - 4); the state machine
    /// reads the messages as one stream, so the host checks this.
    static func isOneFrame(_ message: ByteBuffer) -> Bool {
        guard message.readableBytes >= 4 + 2, let length = message.getInteger(at: message.readerIndex, as: UInt32.self) else {
            return false
        }
        return Int(length) == message.readableBytes - 4
    }
}

extension WebSocketTransport {
    /// A message that is not exactly one binary frame (the connection is closed with protocol-error).
    struct NotOneFrame: Error {}
}
