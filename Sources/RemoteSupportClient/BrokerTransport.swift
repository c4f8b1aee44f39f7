import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One transport connection: runs `body` with the bytes received (an async sequence that ends when the
/// connection does) and a function that writes bytes, and returns when the connection is over.
public enum BrokerTransport {
    public typealias Body = @Sendable (_ inbound: AnyAsyncSequence<ByteBuffer>, _ write: @escaping @Sendable ([UInt8]) async throws -> Void) async -> Void

    public static func run(_ address: BrokerAddress, tls: TLSConfiguration, logger: Logger, body: @escaping Body) async throws {
        switch address {
        case .webSocket(let url):
            let client = WebSocketClient(url: url, configuration: .init(maxFrameSize: 1 << 20),
                                         tlsConfiguration: url.hasPrefix("wss:") ? tls : nil, logger: logger) { inbound, outbound, _ in
                let messages = inbound.messages(maxSize: 1 << 20).compactMap { message -> ByteBuffer? in
                    if case .binary(let b) = message { return b } else { return nil }
                }
                let splitter = FrameSplitter()
                await body(AnyAsyncSequence(messages)) { bytes in
                    for frame in splitter.frames(bytes) { try await outbound.write(.binary(ByteBuffer(bytes: frame))) }
                }
            }
            _ = try await client.run()
        case .tcp(let host, let port, let useTLS):
            let context = useTLS ? try NIOSSLContext(configuration: tls) : nil
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let context {
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: host))
                        }
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            try await channel.executeThenClose { inbound, outbound in
                await body(AnyAsyncSequence(inbound)) { bytes in try await outbound.write(ByteBuffer(bytes: bytes)) }
            }
        }
    }
}

