import NIOCore

/// How a peer's bytes leave the broker: the transport writes on its channel's event loop when told output
/// is ready, with no task of its own, so a relayed record goes from one channel's loop to the other's in
/// one hop (none when both are on the same loop). TCP and WebSocket both work this way (`ChannelTransport`).
protocol PeerTransport: Sendable {
    /// From any thread: output waits in the link; take it and write it on the loop (once per burst).
    func outputReady()
    /// Drops the transport now (a peer that stopped reading cannot be told anything more). From anywhere.
    func abort()
    /// The loop the connection is served on.
    var eventLoop: any EventLoop { get }
    /// Whether the connection can move to another loop (plain TCP can; TLS and WebSocket cannot).
    var isMovable: Bool { get }
    /// From any thread: serve the connection on `loop` from now on, if it can move.
    func move(to loop: any EventLoop)
}
