import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import RemoteSupportCore

/// A peer's state machine (`EndUserConnection` or `AgentConnection`, sans-IO) on a real connection to a
/// broker: a reader feeds received bytes in and hands its events, in order, to the program; a writer
/// sends what it produces; a clock ticks it (keepalive, timeouts) and calls the program's `everyTick`. A
/// dropped connection comes back (`reconnect`: resume, or an agent's token again) a few times with a
/// growing pause, while the state machine says it can.
///
/// The state machine is only touched under one lock, through `with`.
public final class PeerSession<Peer: PeerConnection>: @unchecked Sendable {
    public let address: BrokerAddress
    private let peer: Peer
    private let tls: TLSConfiguration
    private let tickInterval: Duration
    private let logger: Logger
    private let lock = NIOLock()
    /// The current connection's writer (under `lock`): a new one per connection, since a task that stops
    /// iterating an AsyncStream ends it for good.
    private var wake: AsyncStream<Void>.Continuation?
    private var stopped = false

    public init(_ peer: Peer, address: BrokerAddress, tls: TLSConfiguration = .makeClientConfiguration(),
                tickInterval: Duration = .milliseconds(100), logger: Logger = Logger(label: "remotesupport-client")) {
        self.peer = peer
        self.address = address
        self.tls = tls
        self.tickInterval = tickInterval
        self.logger = logger
    }

    /// The monotonic clock the state machine runs on, in milliseconds.
    public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds / 1_000_000 }

    /// Runs `body` on the state machine to read it (the decoded screen, the state), without waking the
    /// writer: `body` must not make it produce output.
    public func inspect<T>(_ body: (Peer) throws -> T) rethrows -> T {
        try lock.withLock { try body(peer) }
    }

    /// Runs `body` on the state machine, then lets the writer send what it queued.
    @discardableResult
    public func with<T>(_ body: (Peer) throws -> T) rethrows -> T {
        let (result, wake) = try lock.withLock { (try body(peer), self.wake) }
        wake?.yield()
        return result
    }

    /// Connects and serves until the connection is over and cannot come back (or `stop`). `events` gets
    /// every event in order (the next read waits for it); `everyTick` runs on the clock (share a frame...).
    /// Returns the last connection error, if any.
    @discardableResult
    public func run(maximumReconnects: Int = 8, events: @escaping @Sendable (ProtocolEvent) async -> Void,
                    everyTick: @escaping @Sendable () -> Void = {}) async -> (any Error)? {
        var attempts = 0
        var lastError: (any Error)?
        while true {
            do {
                try await BrokerTransport.run(address, tls: tls, logger: logger) { inbound, write in
                    await self.pump(inbound: inbound, write: write, events: events, everyTick: everyTick)
                }
                lastError = nil
            } catch {
                lastError = error
                logger.info("connection to \(address) failed: \(error)")
            }
            let lostEvents = lock.withLock { () -> [ProtocolEvent] in
                if !peer.isClosed { _ = peer.connectionLost(now: Self.now()) }
                return drain()
            }
            for e in lostEvents { await events(e) }
            guard !lock.withLock({ stopped }), attempts < maximumReconnects else { break }
            attempts += 1
            try? await Task.sleep(for: .milliseconds(250 * attempts))
            do { try with { try $0.reconnect(now: Self.now()) } } catch { break }
            logger.info("reconnecting to \(address) (attempt \(attempts))")
        }
        return lastError
    }

    /// Closes the connection with `reason` (sent first) and does not reconnect.
    public func stop(_ reason: CloseReason = .normal, _ message: String = "") {
        with { peer in
            stopped = true
            peer.close(reason, message)
        }
    }

    private func drain() -> [ProtocolEvent] {
        var events: [ProtocolEvent] = []
        while let e = peer.nextEvent() { events.append(e) }
        return events
    }

    private func pump(inbound: AnyAsyncSequence<ByteBuffer>, write: @escaping @Sendable ([UInt8]) async throws -> Void,
                      events: @escaping @Sendable (ProtocolEvent) async -> Void, everyTick: @escaping @Sendable () -> Void) async {
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        lock.withLock { self.wake = wake }
        defer {
            lock.withLock { self.wake = nil }
            wake.finish()
        }
        wake.yield()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in wakes {
                    let (bytes, closed) = self.lock.withLock { (self.peer.takeOutput(), self.peer.isClosed) }
                    if !bytes.isEmpty { do { try await write(bytes) } catch { return } }
                    if closed { return }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.tickInterval)
                    self.with { $0.tick(now: Self.now()) }
                    everyTick()
                }
            }
            do {
                for try await buffer in inbound {
                    let received = lock.withLock { () -> [ProtocolEvent] in
                        buffer.withUnsafeReadableBytes { peer.receive($0, now: Self.now()) }
                        return drain()
                    }
                    for e in received { await events(e) }
                    wake.yield()
                    if lock.withLock({ peer.isClosed }) { break }
                }
            } catch {}
            // What the state machine still holds (a session's end, its close frame) goes out before the
            // transport ends, by the writer, in order: it may be writing what it took already, and
            // cancelling it then lost the end (the broker saw the connection drop, and the other side heard
            // peer-away instead of the session's end). It stops once closed; a peer that does not read
            // gets 2 s.
            if lock.withLock({ peer.isClosed }) {
                wake.yield()
                group.addTask { try? await Task.sleep(for: .seconds(2)) }
                _ = await group.next()
            }
            group.cancelAll()
        }
    }
}
