import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The wire protocol over TCP (TLS when configured): each accepted connection gets a `PeerChannelHandler`
/// on its event loop. Bound before the broker reports ready, so a port in use fails the start.
final class ProtocolListener: Service, Sendable {
    private let server: any Channel
    let port: Int

    init(host: String, port: Int, tls: NIOSSLContext?, hub: SessionHub, logger: Logger) async throws {
        server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    // Without TLS nothing of the connection lives in the pipeline: it can move to its partner's loop.
                    try channel.pipeline.syncOperations.addHandler(PeerChannelHandler(hub: hub, loop: channel.eventLoop, movable: tls == nil))
                }
            }
            .bind(host: host, port: port).get()
        self.port = server.localAddress?.port ?? port
    }

    /// Accepts until the graceful shutdown (the hub tells connected peers and waits for them).
    func run() async throws {
        try? await gracefulShutdown()
        try? await server.close()
    }
}
