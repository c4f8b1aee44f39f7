import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Where the client reaches the broker: the WebSocket endpoint (`ws(s)://host:port/ws`, one frame per
/// message, PROTOCOL.md 2), or the protocol's TCP port, with TLS when asked.
enum BrokerAddress: Sendable {
    case webSocket(url: String)
    case tcp(host: String, port: Int, tls: Bool)

    var description: String {
        switch self {
        case .webSocket(let url): url
        case .tcp(let host, let port, let tls): "\(tls ? "tls" : "tcp")://\(host):\(port)"
        }
    }
}

/// One transport connection: runs `body` with the bytes received (an async sequence that ends when the
/// connection does) and a function that writes bytes, and returns when the connection is over.
enum BrokerTransport {
    typealias Body = @Sendable (_ inbound: AnyAsyncSequence<ByteBuffer>, _ write: @escaping @Sendable ([UInt8]) async throws -> Void) async -> Void

    static func run(_ address: BrokerAddress, tls: TLSConfiguration, logger: Logger, body: @escaping Body) async throws {
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

/// The state machine's output is a byte stream; a WebSocket message must hold exactly one frame. Keeps
/// a frame cut between two outputs until the rest arrives.
final class FrameSplitter: @unchecked Sendable {
    private var carry: [UInt8] = []
    private let lock = NSLock()

    func frames(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        lock.withLock {
            let all = carry + bytes
            var frames: [ArraySlice<UInt8>] = []
            var offset = 0
            while offset + 4 <= all.count {
                let n = Int(all[offset]) << 24 | Int(all[offset + 1]) << 16 | Int(all[offset + 2]) << 8 | Int(all[offset + 3])
                guard offset + 4 + n <= all.count else { break }
                frames.append(all[offset..<(offset + 4 + n)])
                offset += 4 + n
            }
            carry = Array(all[offset...])
            return frames
        }
    }
}

/// An async sequence of byte buffers with its type erased (WebSocket messages or a TCP stream).
struct AnyAsyncSequence<Element>: AsyncSequence, @unchecked Sendable {
    private let make: () -> AsyncIterator

    init<S: AsyncSequence>(_ base: S) where S.Element == Element {
        make = {
            var iterator = base.makeAsyncIterator()
            return AsyncIterator { try await iterator.next() }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { make() }

    struct AsyncIterator: AsyncIteratorProtocol {
        let nextElement: () async throws -> Element?
        mutating func next() async throws -> Element? { try await nextElement() }
    }
}
