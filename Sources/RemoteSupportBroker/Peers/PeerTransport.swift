import NIOCore

/// How a peer's bytes leave the broker: the transport writes on its channel's event loop when told output
/// is ready, with no task of its own, so a relayed record goes from one channel's loop to the other's in
/// one hop. TCP (`PeerChannelHandler`) and WebSocket (`WebSocketTransport`) both work this way.
protocol PeerTransport: Sendable {
    /// From any thread: output waits in the link; take it and write it on the loop (once per burst).
    func outputReady()
    /// Drops the transport now (a peer that stopped reading cannot be told anything more). From anywhere.
    func abort()
}
