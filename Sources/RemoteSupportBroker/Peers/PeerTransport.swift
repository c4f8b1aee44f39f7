import NIOCore

/// How a peer's bytes leave the broker: a TCP(+TLS) byte stream or WebSocket messages. Only the link's
/// writer task calls `write`; `abort` may be called from anywhere.
protocol PeerTransport: Sendable {
    /// Writes whole frames (the state machine's output), suspending while the transport is not writable.
    func write(_ bytes: [UInt8]) async throws
    /// Closes after what was written (a graceful end).
    func finish() async
    /// Drops the transport now (a peer that stopped reading cannot be told anything more).
    func abort()
}

/// The wire protocol as a byte stream (section 2: frames back to back, split anyhow).
struct StreamTransport: PeerTransport {
    let channel: any Channel
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    func write(_ bytes: [UInt8]) async throws {
        try await outbound.write(channel.allocator.buffer(bytes: bytes))
    }

    func finish() async {
        outbound.finish()
        try? await channel.close()
    }

    func abort() { channel.close(promise: nil) }
}
