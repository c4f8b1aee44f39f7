import Foundation
import NIOCore
import RemoteSupportCore
import NIOConcurrencyHelpers

/// The broker's side of one peer's transport connection: its `BrokerConnection` (the protocol state
/// machine) behind a lock, what the hub knows about the peer, its outbox, and the backpressure signal.
///
/// Its `PeerChannelHandler` reads and writes it on the channel's event loop (TCP or WebSocket alike). Others
/// push into it: the partner relays or forwards records, the hub sends lobby entries and consent requests.
/// Backpressure: after each read the partner stops reading (`whenRoom`) while this link holds more
/// than `outputCap` bytes not yet written, so a stalled viewer stops the reads from the end user instead of
/// growing memory.
public final class PeerLink: Sendable {
    public let id: Int
    /// The address the transport came from (for audit, limits and logs).
    public let address: String
    let outputCap: Int
    /// The console's login token, when a browser on the broker's own page opened this link with its login
    /// cookie (`WebSocketLogin`): an `authenticate` with an empty token uses it.
    let browserToken: String?
    private let state: NIOLockedValueBox<State>

    /// Only touched under `state`'s lock.
    struct State: @unchecked Sendable {
        var connection: BrokerConnection
        /// Replaced when the connection moves to another loop (`replaceTransport`).
        var transport: any PeerTransport
        /// The link on the other side of a connected session (set by the hub for both sides).
        var partner: PeerLink?
        /// Bytes taken from the state machine and being written now.
        var writing = 0
        var roomCallbacks: [@Sendable () -> Void] = []
        /// Bytes to write in this order before anything the state machine produces later: its output so
        /// far and record frames forwarded as they came (the relay's fast path).
        var outbox: [ByteBuffer] = []
        var closedAt: UInt64?
        var transportClosed = false
        /// Who the hub knows this peer to be.
        var role: Role = .unknown

        /// Output not yet written: in the state machine, plus taken (the outbox included) and not yet out.
        var backlog: Int { connection.pendingOutputCount + writing }
    }

    /// What the hub has made of the peer.
    enum Role {
        case unknown
        case endUser(SessionID)
        case agent(AgentPresence)
    }

    init(id: Int, address: String, transport: any PeerTransport, options: ConnectionOptions, outputCap: Int, now: UInt64,
         browserToken: String? = nil) {
        self.id = id
        self.browserToken = browserToken
        self.address = address
        self.outputCap = outputCap
        state = NIOLockedValueBox(State(connection: BrokerConnection(options: options, now: now), transport: transport))
    }

    /// Runs `body` on the state machine under the lock; tells the transport afterwards if it has output.
    @discardableResult
    func withConnection<T>(_ body: (BrokerConnection) throws -> T) rethrows -> T {
        // The transport to wake is read under the same lock (it changes when the connection moves).
        let (result, wake) = try state.withLockedValue { s in
            let result = try body(s.connection)
            return (result, s.connection.pendingOutputCount > 0 || s.connection.isClosed ? s.transport : nil)
        }
        wake?.outputReady()
        return result
    }

    /// Feeds received bytes and returns the events they caused, in order.
    func receive(_ bytes: UnsafeRawBufferPointer, now: UInt64) -> [BrokerEvent] {
        withConnection { c in
            c.receive(bytes, now: now)
            return Self.drain(c)
        }
    }

    /// Events the state machine queued outside a read (a close after a timeout, a lost transport).
    func pendingEvents() -> [BrokerEvent] { withConnection { Self.drain($0) } }

    private static func drain(_ c: BrokerConnection) -> [BrokerEvent] {
        var events: [BrokerEvent] = []
        while let e = c.nextEvent() { events.append(e) }
        return events
    }

    var partner: PeerLink? {
        get { state.withLockedValue { $0.partner } }
        set { state.withLockedValue { $0.partner = newValue } }
    }

    var role: Role {
        get { state.withLockedValue { $0.role } }
        set { state.withLockedValue { $0.role = newValue } }
    }

    var isAgent: Bool { if case .agent = role { true } else { false } }

    /// Whether the state machine is in a connected session.
    var isConnected: Bool { state.withLockedValue { $0.connection.isConnected } }

    /// The relay's fast path: record frames from the partner, written as they came after this link's output
    /// so far, if this side is connected (checked under the same lock `relay` is, so both paths agree and
    /// keep their order). Counted in the backlog from now. False: not connected, dropped.
    func forward(_ frames: [ByteBuffer], allocator: ByteBufferAllocator) -> Bool {
        let wake = state.withLockedValue { s -> (any PeerTransport)? in
            guard s.connection.isConnected else { return nil }
            let before = s.connection.takeOutput()
            if !before.isEmpty { s.outbox.append(allocator.buffer(bytes: before)) }
            s.outbox.append(contentsOf: frames)
            s.writing += before.count + frames.reduce(0) { $0 + $1.readableBytes }
            return s.transport
        }
        wake?.outputReady()
        return wake != nil
    }

    /// Everything to write now, in order (counted as being written until `wrote`), and whether the state
    /// machine is closed (close the transport after these bytes).
    func takeOutbox(allocator: ByteBufferAllocator) -> (buffers: [ByteBuffer], bytes: Int, closed: Bool) {
        state.withLockedValue { s in
            let output = s.connection.takeOutput()
            if !output.isEmpty {
                s.outbox.append(allocator.buffer(bytes: output))
                s.writing += output.count
            }
            let buffers = s.outbox
            s.outbox.removeAll()
            return (buffers, buffers.reduce(0) { $0 + $1.readableBytes }, s.connection.isClosed)
        }
    }

    var isClosed: Bool { state.withLockedValue { $0.connection.isClosed } }

    /// One line of this link's state, for tests and diagnostics.
    var diagnostics: String {
        state.withLockedValue { s in
            "link \(id) on \(s.transport.eventLoop) \(s.role) backlog \(s.backlog) writing \(s.writing) outbox \(s.outbox.count) waiters \(s.roomCallbacks.count) "
                + "connected \(s.connection.isConnected) closed \(s.connection.isClosed) transportClosed \(s.transportClosed)"
        }
    }

    /// Output waiting for the transport: in the state machine plus being written.
    var backlog: Int { state.withLockedValue { $0.backlog } }

    // MARK: Writer side

    /// `count` bytes left for the transport: readers waiting for room go on once the backlog is under half
    /// the cap.
    func wrote(_ count: Int) {
        let callbacks = state.withLockedValue { s -> [@Sendable () -> Void] in
            s.writing -= count
            guard s.backlog <= outputCap / 2 else { return [] }
            defer { s.roomCallbacks.removeAll() }
            return s.roomCallbacks
        }
        for c in callbacks { c() }
    }

    /// Calls `resume` once this link's backlog is back under half its cap (or the transport is gone);
    /// false when it is not over the cap now, so nothing will be called.
    func whenRoom(_ resume: @escaping @Sendable () -> Void) -> Bool {
        state.withLockedValue { s in
            guard !s.transportClosed, s.backlog > outputCap else { return false }
            s.roomCallbacks.append(resume)
            return true
        }
    }

    var transport: any PeerTransport { state.withLockedValue { $0.transport } }

    /// The connection is served by another handler now (it moved to another loop).
    func replaceTransport(with transport: any PeerTransport) {
        state.withLockedValue { $0.transport = transport }
    }

    /// Tells the transport output is ready (after something was queued from outside `withConnection`).
    func wakeWriter() {
        transport.outputReady()
    }

    /// The transport is gone: nothing will be written any more; readers waiting for room go on.
    func transportDidClose() {
        let callbacks = state.withLockedValue { s -> [@Sendable () -> Void] in
            s.transportClosed = true
            defer { s.roomCallbacks.removeAll() }
            return s.roomCallbacks
        }
        for c in callbacks { c() }
    }

    // MARK: Timers

    /// Ticks the state machine; true when the link is closed and its close has had `linger` ms to leave
    /// (the writer may be stuck on a peer that does not read): the caller then drops the transport.
    func tick(now: UInt64, linger: UInt64) -> Bool {
        withConnection { c in c.tick(now: now) }
        return state.withLockedValue { s in
            guard s.connection.isClosed, !s.transportClosed else { return false }
            if s.closedAt == nil { s.closedAt = now }
            return now >= s.closedAt! + linger
        }
    }
}

/// An agent connected over the protocol, as the hub knows them.
struct AgentPresence: Sendable {
    let agent: Agent
    /// The login token they authenticated with (the desk's calls take it).
    let token: String
}

/// Milliseconds on a monotonic clock, the time base of the state machines.
func monotonicMilliseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds / 1_000_000 }
