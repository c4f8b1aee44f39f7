import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RemoteSupportCore
import Testing

/// A protocol peer (end user or agent) on a real connection to a broker: the core's state machine behind
/// a lock, a task reading the socket into it and another writing what it produces; events collected for
/// `next(where:)`. Time is the monotonic clock; `tick` runs once a second.
final class ProtocolClient<Peer: PeerConnection>: @unchecked Sendable {
    enum Transport { case tcp, webSocket }

    let peer: Peer
    private let lock = NIOLock()
    private var events: [ProtocolEvent] = []
    private var waiters: [(id: Int, predicate: @Sendable (ProtocolEvent) -> Bool, continuation: CheckedContinuation<ProtocolEvent, any Error>)] = []
    private var nextWaiterID = 0
    /// Waits whose time ran out before they began waiting.
    private var expired: Set<Int> = []
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>
    private var task: Task<Void, Never>?
    /// Set to stop reading (a viewer that stalls): bytes stay in the socket.
    let readingPaused = NIOLockedValueBox(false)
    /// Set to go silent: no reads, no writes, no timers (a peer that stopped answering).
    let frozen = NIOLockedValueBox(false)
    /// Set to write over TCP in pieces of this many bytes, each its own segment (a pause between): the
    /// broker's reads then end inside frames, anywhere.
    let writePieces = NIOLockedValueBox<Int?>(nil)
    /// Bytes to send after the state machine's output (raw frames for tests that bypass it).
    private var raw: [UInt8] = []
    private(set) var finished = false

    init(_ peer: Peer) {
        self.peer = peer
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds / 1_000_000 }

    /// Runs `body` on the state machine, then lets the writer send what it queued.
    @discardableResult
    func with<T>(_ body: (Peer) throws -> T) rethrows -> T {
        let result = try lock.withLock { try body(peer) }
        wake.yield()
        return result
    }

    /// Connects over TCP to `port` or WebSocket to `ws://127.0.0.1:<port>/ws` (with `headers` on the
    /// upgrade request) and starts pumping. `receiveBuffer` fixes a TCP socket's receive buffer (the
    /// kernel's autotuning let one grow to tens of MiB on loopback).
    func connect(_ transport: Transport, port: Int, headers: HTTPFields = [:], receiveBuffer: Int? = nil) async throws {
        switch transport {
        case .tcp:
            var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            if let receiveBuffer { bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer)) }
            let channel = try await bootstrap
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
            task = Task {
                try? await channel.executeThenClose { inbound, outbound in
                    await self.pump(inbound: inbound, write: { bytes in
                        guard let size = self.writePieces.withLockedValue({ $0 }) else { return try await outbound.write(ByteBuffer(bytes: bytes)) }
                        for start in stride(from: 0, to: bytes.count, by: size) {
                            try await outbound.write(ByteBuffer(bytes: bytes[start..<min(start + size, bytes.count)]))
                            try await Task.sleep(for: .milliseconds(2))
                        }
                    })
                }
                self.lost()
            }
        case .webSocket:
            let started = AsyncStream.makeStream(of: Void.self)
            task = Task {
                let client = WebSocketClient(url: "ws://127.0.0.1:\(port)/ws",
                                             configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers),
                                             logger: Logger(label: "test-ws")) { inbound, outbound, _ in
                    started.continuation.finish()
                    let messages = inbound.messages(maxSize: 1 << 20).compactMap { message -> ByteBuffer? in
                        if case .binary(let b) = message { return b } else { return nil }
                    }
                    let carry = NIOLockedValueBox<[UInt8]>([])  // a frame cut between two writes
                    await self.pump(inbound: messages, write: { chunk in
                        // One frame per message (PROTOCOL.md 2).
                        let bytes = carry.withLockedValue { c in defer { c = [] }; return c + chunk }
                        var offset = 0
                        while offset + 4 <= bytes.count {
                            let n = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
                            guard offset + 4 + n <= bytes.count else { break }
                            try await outbound.write(.binary(ByteBuffer(bytes: bytes[offset..<(offset + 4 + n)])))
                            offset += 4 + n
                        }
                        carry.withLockedValue { $0 = Array(bytes[offset...]) }
                    })
                }
                _ = try? await client.run()
                started.continuation.finish()
                self.lost()
            }
            for await _ in started.stream {}
        }
        wake.yield()
    }

    private func pump(inbound: some AsyncSequence<ByteBuffer, any Error>, write: @escaping @Sendable ([UInt8]) async throws -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Writer: output in order; also the ticker.
                let ticker = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(250))
                        if !self.frozen.withLockedValue({ $0 }) { self.with { $0.tick(now: Self.now()) } }
                    }
                }
                defer { ticker.cancel() }
                for await _ in self.wakes {
                    if self.frozen.withLockedValue({ $0 }) { continue }
                    let (bytes, closed) = self.lock.withLock {
                        var out = self.peer.takeOutput()
                        if !self.raw.isEmpty {
                            // At most 1 MiB at a time: the rest waits for the next wake.
                            let n = min(self.raw.count, 1 << 20)
                            out += self.raw[..<n]
                            self.raw.removeFirst(n)
                            if !self.raw.isEmpty { self.wake.yield() }
                        }
                        return (out, self.peer.isClosed)
                    }
                    if !bytes.isEmpty { do { try await write(bytes) } catch { return } }
                    // A raw flood is written a MiB per turn: let the process's other tasks run between
                    // (a debug build's copying and masking would otherwise hold a cooperative thread).
                    await Task.yield()
                    if closed && bytes.isEmpty { return }
                    if closed { continue }
                }
            }
            do {
                for try await buffer in inbound {
                    while readingPaused.withLockedValue({ $0 }) || frozen.withLockedValue({ $0 }) {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    lock.withLock {
                        buffer.withUnsafeReadableBytes { peer.receive($0, now: Self.now()) }
                        while let e = peer.nextEvent() { deliver(e) }
                    }
                    wake.yield()
                }
            } catch {}
            group.cancelAll()
        }
    }

    private func lost() {
        lock.withLock {
            finished = true
            if !peer.isClosed { _ = peer.connectionLost(now: Self.now()) }
            while let e = peer.nextEvent() { deliver(e) }
            for w in waiters { w.continuation.resume(throwing: ClientError.disconnected(events.map { "\($0)" })) }
            waiters.removeAll()
        }
    }

    /// Under the lock.
    private func deliver(_ event: ProtocolEvent) {
        if let i = waiters.firstIndex(where: { $0.predicate(event) }) {
            waiters.remove(at: i).continuation.resume(returning: event)
        } else {
            events.append(event)
        }
    }

    /// The first event (already received or coming) that matches; earlier events are kept. Fails after
    /// `timeout` (a hang guard, not a timing assertion) or when the connection ends first.
    func next(timeout: Duration = .seconds(60), where predicate: @escaping @Sendable (ProtocolEvent) -> Bool) async throws -> ProtocolEvent {
        let id = lock.withLock { () -> Int in
            nextWaiterID += 1
            return nextWaiterID
        }
        // The timer fails the wait itself: a continuation nobody resumes would hold the test forever.
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.expire(id)
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            lock.withLock {
                if let i = events.firstIndex(where: predicate) {
                    continuation.resume(returning: events.remove(at: i))
                } else if finished {
                    continuation.resume(throwing: ClientError.disconnected(events.map { "\($0)" }))
                } else if expired.remove(id) != nil {
                    continuation.resume(throwing: ClientError.timedOut(events.map { "\($0)" }))
                } else {
                    waiters.append((id, predicate, continuation))
                }
            }
        }
    }

    /// The wait `id` timed out: it fails now (or as soon as it starts waiting).
    private func expire(_ id: Int) {
        lock.withLock {
            guard let i = waiters.firstIndex(where: { $0.id == id }) else {
                expired.insert(id)
                return
            }
            waiters.remove(at: i).continuation.resume(throwing: ClientError.timedOut(events.map { "\($0)" }))
        }
    }

    /// Queues raw bytes to send after the state machine's output.
    func sendRaw(_ bytes: [UInt8]) {
        lock.withLock { raw += bytes }
        wake.yield()
    }

    /// Raw bytes queued and not yet handed to the transport.
    var rawPending: Int { lock.withLock { raw.count } }

    /// Every event received and not yet taken by `next`.
    var pending: [ProtocolEvent] { lock.withLock { events } }

    /// Drops the connection without a word (a vanished peer).
    func drop() { task?.cancel() }

    /// Waits until the transport is gone.
    func waitUntilFinished() async { await task?.value }

    enum ClientError: Error { case timedOut([String]), disconnected([String]) }
}
