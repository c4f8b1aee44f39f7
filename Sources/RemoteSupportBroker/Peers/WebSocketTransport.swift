import HummingbirdWebSocket
import NIOCore
import RemoteSupportCore

/// The wire protocol over WebSocket: one binary message carries exactly one frame, its length field
/// included (PROTOCOL.md section 2).
struct WebSocketTransport: AsyncWritingTransport {
    let channel: any Channel
    let outbound: WebSocketOutboundWriter

    func write(_ buffer: ByteBuffer) async throws {
        // Whole frames back to back (the state machine's output, or one forwarded record): one message each.
        var rest = buffer
        while rest.readableBytes >= 4, let length = rest.getInteger(at: rest.readerIndex, as: UInt32.self) {
            guard let frame = rest.readSlice(length: 4 + Int(length)) else { preconditionFailure("whole frames only") }
            try await outbound.write(.binary(frame))
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
