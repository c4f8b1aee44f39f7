import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The wire protocol over TCP (TLS when configured): one `PeerLink` per accepted connection, served by the
/// hub. Bound before the broker reports ready, so a port in use fails the start.
final class ProtocolListener: Service, Sendable {
    private let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    private let hub: SessionHub
    private let logger: Logger
    let port: Int

    init(host: String, port: Int, tls: NIOSSLContext?, hub: SessionHub, logger: Logger) async throws {
        self.hub = hub
        self.logger = logger
        server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        self.port = server.channel.localAddress?.port ?? port
    }

    func run() async throws {
        let server = self.server
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await child in inbound {
                        group.addTask { await self.serve(child) }
                    }
                }
            }
        } onGracefulShutdown: {
            // Stop accepting; the hub tells connected peers and waits for them.
            server.channel.close(promise: nil)
        }
    }

    private func serve(_ child: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let address = child.channel.remoteAddress?.ipAddress ?? ""
        do {
            try await child.executeThenClose { inbound, outbound in
                let transport = StreamTransport(channel: child.channel, outbound: outbound)
                guard let link = hub.open(address: address, transport: transport) else {
                    // Full or stopping: a close frame would need a hello first; just drop it.
                    return
                }
                await hub.serve(link, inbound: inbound)
            }
        } catch {
            logger.debug("protocol connection from \(address) ended: \(error)")
        }
    }
}
