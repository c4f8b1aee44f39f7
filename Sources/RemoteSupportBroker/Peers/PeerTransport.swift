import NIOCore

/// How a peer's bytes leave the broker. `abort` may be called from anywhere.
protocol PeerTransport: Sendable {
    /// Drops the transport now (a peer that stopped reading cannot be told anything more).
    func abort()
}

/// A transport written by the link's writer task (`SessionHub.serve`): WebSocket messages.
protocol AsyncWritingTransport: PeerTransport {
    /// Writes whole frames, suspending while the transport is not writable.
    func write(_ buffer: ByteBuffer) async throws
    /// Closes after what was written (a graceful end).
    func finish() async
}

/// A transport that writes on its own event loop when told output is ready, with no task of its own:
/// TCP (`PeerChannelHandler`), where a relayed record goes from one channel's loop to the other's in one hop.
protocol DirectWritingTransport: PeerTransport {
    func outputReady()
}
