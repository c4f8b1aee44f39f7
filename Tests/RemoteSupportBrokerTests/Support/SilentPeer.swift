import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RemoteSupportCore

/// A peer that connects and says nothing: what the broker sends first, before hearing anything.
enum SilentPeer {
    struct NothingHeard: Error {}

    /// The first whole frame the broker sends on a new connection (`timeout` is a hang guard).
    static func firstFrame(_ transport: ProtocolClient<EndUserConnection>.Transport, port: Int,
                           timeout: Duration = .seconds(60)) async throws -> Frame {
        try await withThrowingTaskGroup(of: Frame.self) { group in
            group.addTask { try await read(transport, port: port) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw NothingHeard()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Reads until a frame is whole: TCP bytes as they come, or the first WebSocket message.
    private static func read(_ transport: ProtocolClient<EndUserConnection>.Transport, port: Int) async throws -> Frame {
        var decoder = FrameDecoder()
        switch transport {
        case .tcp:
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
            return try await channel.executeThenClose { inbound, _ in
                for try await buffer in inbound {
                    decoder.receive(buffer.readableBytesView)
                    if let frame = try decoder.next() { return frame }
                }
                throw NothingHeard()
            }
        case .webSocket:
            let first = NIOLockedValueBox<[UInt8]>([])
            let client = WebSocketClient(url: "ws://127.0.0.1:\(port)/ws", configuration: .init(maxFrameSize: 1 << 20),
                                         logger: Logger(label: "silent-peer")) { inbound, _, _ in
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .binary(let buffer) = message {
                        first.withLockedValue { $0 = Array(buffer.readableBytesView) }
                        return
                    }
                }
            }
            _ = try await client.run()
            decoder.receive(first.withLockedValue { $0 })
            guard let frame = try decoder.next() else { throw NothingHeard() }
            return frame
        }
    }
}
