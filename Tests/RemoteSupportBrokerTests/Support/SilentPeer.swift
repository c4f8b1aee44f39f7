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
        let bytes = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            group.addTask { try await firstBytes(transport, port: port) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw NothingHeard()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        guard bytes.count >= Frame.headerSize else { throw NothingHeard() }
        return Frame(FrameType(rawValue: bytes[4]), flags: bytes[5], payload: Array(bytes[Frame.headerSize...]))
    }

    /// The bytes of the first frame: a whole WebSocket message, or what TCP brings until a frame is whole.
    private static func firstBytes(_ transport: ProtocolClient<EndUserConnection>.Transport, port: Int) async throws -> [UInt8] {
        switch transport {
        case .tcp:
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
            return try await channel.executeThenClose { inbound, _ in
                var bytes: [UInt8] = []
                for try await buffer in inbound {
                    bytes += buffer.readableBytesView
                    if bytes.count >= 4 {
                        let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
                        if bytes.count >= 4 + length { return Array(bytes[..<(4 + length)]) }
                    }
                }
                return bytes
            }
        case .webSocket:
            let first = FirstMessage()
            let client = WebSocketClient(url: "ws://127.0.0.1:\(port)/ws", configuration: .init(maxFrameSize: 1 << 20),
                                         logger: Logger(label: "silent-peer")) { inbound, _, _ in
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .binary(let buffer) = message {
                        first.set(Array(buffer.readableBytesView))
                        return
                    }
                }
            }
            _ = try await client.run()
            return first.get()
        }
    }
}

/// The first message, handed out of the WebSocket client's handler.
private final class FirstMessage: Sendable {
    private let box = NIOLockedValueBox<[UInt8]>([])
    func set(_ bytes: [UInt8]) { box.withLockedValue { $0 = bytes } }
    func get() -> [UInt8] { box.withLockedValue { $0 } }
}
