import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP proxy on loopback in front of a port, which can cut every connection through it at once (the
/// network dropping under a program), and go on accepting new ones.
final class CuttingProxy: @unchecked Sendable {
    private let server: Channel
    private let open = NIOLockedValueBox<[Channel]>([])
    var port: Int { server.localAddress!.port! }

    init(to target: Int) async throws {
        let open = self.open
        server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                inbound.setOption(.autoRead, value: false).flatMap {
                    ClientBootstrap(group: inbound.eventLoop).connect(host: "127.0.0.1", port: target)
                }.flatMap { outbound in
                    open.withLockedValue { $0 += [inbound, outbound] }
                    let (a, b) = (Pipe(to: outbound), Pipe(to: inbound))
                    // Reading starts once both sides are joined up.
                    return inbound.pipeline.addHandler(a).flatMap { outbound.pipeline.addHandler(b) }
                        .flatMap { inbound.setOption(.autoRead, value: true) }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Closes every connection made so far, both sides, without a word.
    func cutAll() {
        for channel in open.withLockedValue({ list in defer { list = [] }; return list }) { channel.close(promise: nil) }
    }

    func stop() {
        cutAll()
        server.close(promise: nil)
    }

    /// Copies what one side reads to the other; either closing closes both.
    private final class Pipe: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        private let other: Channel
        init(to other: Channel) { self.other = other }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { other.writeAndFlush(unwrapInboundIn(data), promise: nil) }
        func channelInactive(context: ChannelHandlerContext) { other.close(promise: nil) }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}
