import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RemoteSupportCore

/// A protocol peer on a NIO channel, for the many-connection tests: the core's state machine fed from
/// the channel; its events (with the time the bytes arrived, ns) go to `onEvent` on the event loop.
final class PeerHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let peer: PeerConnection
    private let start: (PeerConnection) throws -> Void
    private let onEvent: @Sendable (ProtocolEvent, UInt64) -> Void
    private var context: ChannelHandlerContext?

    init(_ peer: PeerConnection, start: @escaping (PeerConnection) throws -> Void, onEvent: @escaping @Sendable (ProtocolEvent, UInt64) -> Void) {
        self.peer = peer
        self.start = start
        self.onEvent = onEvent
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelActive(context: ChannelHandlerContext) {
        do { try start(peer) } catch { context.close(promise: nil) }
        flush()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let arrived = monotonicNanos()
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { peer.receive($0, now: arrived / 1_000_000) }
        while let e = peer.nextEvent() { onEvent(e, arrived) }
        flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !peer.isClosed { _ = peer.connectionLost(now: monotonicMillis()) }
        while let e = peer.nextEvent() { onEvent(e, monotonicNanos()) }
        context.fireChannelInactive()
    }

    /// Sends what the state machine has. On the event loop.
    func flush() {
        guard let context else { return }
        let out = peer.takeOutput()
        if !out.isEmpty { context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: out)), promise: nil) }
    }

    /// Runs `body` on the state machine on the event loop, then sends its output; returns when sent.
    func perform(on loop: any EventLoop, _ body: @escaping @Sendable (PeerConnection) throws -> Void) async throws {
        try await loop.submit {
            try body(self.peer)
            self.flush()
        }.get()
    }
}

/// Raw bytes once on connect, anything received ignored: the idle client of the nginx comparison.
final class RawClientHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let greeting: [UInt8]
    let replied: NIOLockedValueBox<Int>
    private var counted = false
    init(greeting: [UInt8], replied: NIOLockedValueBox<Int>) {
        self.greeting = greeting
        self.replied = replied
    }
    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: greeting)), promise: nil)
        context.fireChannelActive()
    }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !counted { counted = true; replied.withLockedValue { $0 += 1 } }
    }
}

/// The idle sink behind nginx: accepts, answers the first bytes with `reply` (like a broker's `joined`),
/// then holds the connection.
final class SinkHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let reply: [UInt8]
    private var answered = false
    init(reply: [UInt8]) { self.reply = reply }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        answered = true
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: reply)), promise: nil)
    }
}

/// Opens `count` connections in batches of `batch`, waiting after each batch until `ready()` reaches the
/// number opened (or the deadline). Returns the channels.
func openInBatches(count: Int, batch: Int, deadline: UInt64, port: Int, group: MultiThreadedEventLoopGroup,
                   ready: () -> Int, handler: @escaping @Sendable (Int) -> any ChannelHandler) async throws -> [any Channel] {
    var channels: [any Channel] = []
    channels.reserveCapacity(count)
    var opened = 0
    while opened < count {
        let n = min(batch, count - opened)
        let first = opened
        let batchChannels = try await withThrowingTaskGroup(of: (any Channel).self) { tasks in
            for i in first..<(first + n) {
                tasks.addTask {
                    try await ClientBootstrap(group: group)
                        .channelOption(.socketOption(.tcp_nodelay), value: 1)
                        .connectTimeout(.seconds(10))
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler(i)) }
                        }
                        .connect(host: "127.0.0.1", port: port).get()
                }
            }
            var out: [any Channel] = []
            for try await c in tasks { out.append(c) }
            return out
        }
        channels += batchChannels
        opened += n
        while ready() < opened {
            guard monotonicNanos() < deadline else {
                throw SocketError(message: "only \(ready()) of \(opened) connections ready before the time limit")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
    return channels
}

func closeAll(_ channels: [any Channel], batch: Int = 1000) async {
    var i = 0
    while i < channels.count {
        let slice = channels[i..<min(i + batch, channels.count)]
        for c in slice { c.close(promise: nil) }
        for c in slice { try? await c.closeFuture.get() }
        i += batch
    }
}

/// VmRSS of a process, in KiB.
func residentKiB(pid: Int) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }
    return nil
}

/// A plain HTTP GET on loopback (the broker's /health), body only.
func httpGet(port: Int, path: String) throws -> String {
    let sock = try Sock.connect(port: port)
    defer { sock.close() }
    try sock.send(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8))
    var response: [UInt8] = []
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 8)
    defer { buffer.deallocate() }
    let deadline = monotonicNanos() + 5_000_000_000
    while monotonicNanos() < deadline {
        guard let n = try sock.receive(into: buffer, timeoutMs: 100) else { continue }
        if n == 0 { break }
        response += buffer[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { return text }
    return String(text[split.upperBound...])
}
