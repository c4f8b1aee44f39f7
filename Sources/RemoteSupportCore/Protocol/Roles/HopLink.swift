/// One transport connection between a peer and the broker, seen from either end: framing, the hello,
/// keepalive and close. Every role's state machine keeps one and handles the messages it passes up.
///
///     awaitingHello --hello--> open --close / error / timeout--> closed
///
/// Sent bytes collect in `output` until the host takes them. After `close` nothing more is queued or
/// parsed: the output ends with the close frame.
struct HopLink {
    let options: ConnectionOptions
    let ownHello: Hello
    /// The roles this side accepts as the peer.
    let expectedPeers: Set<PeerRole>
    private(set) var peerHello: Hello?
    private(set) var version: UInt16?
    private var decoder: FrameDecoder
    var output: [UInt8] = []
    private(set) var closed: (reason: CloseReason, message: String, byPeer: Bool)?

    private let startedAt: UInt64
    private var lastReceived: UInt64
    private var pingSentAt: UInt64?

    init(role: PeerRole, expectedPeers: Set<PeerRole>, options: ConnectionOptions, now: UInt64) {
        self.options = options
        self.expectedPeers = expectedPeers
        ownHello = Hello(role: role, maximumFrameLength: UInt32(max(options.maximumFrameLength, Frame.minimumMaximumLength)),
                         software: options.software)
        decoder = FrameDecoder(maximumLength: Frame.minimumMaximumLength)
        startedAt = now
        lastReceived = now
        send(.hello(ownHello))
    }

    var isOpen: Bool { peerHello != nil && closed == nil }
    var isClosed: Bool { closed != nil }

    mutating func send(_ message: ControlMessage) {
        guard closed == nil else { return }
        message.frame.write(into: &output)
    }

    mutating func receive(_ bytes: UnsafeRawBufferPointer, now: UInt64) {
        guard closed == nil, bytes.count > 0 else { return }
        lastReceived = now
        pingSentAt = nil
        decoder.receive(bytes)
    }

    /// Bytes of a frame started and not yet complete.
    var bufferedInputCount: Int { decoder.bufferedCount }
    /// The largest frame length this side accepts now.
    var maximumFrameLength: Int { decoder.maximumLength }

    /// Bytes arrived that the host forwarded itself (the relay's fast path): they count for the keepalive.
    mutating func noteReceived(now: UInt64) {
        lastReceived = now
        pingSentAt = nil
    }

    /// The next message for the role to handle, with ping, pong and unknown optional frames handled
    /// here. The peer's hello is checked (first, once, a role we accept, a common version) and then
    /// returned; a `.close` from the peer is returned after the link is marked closed.
    mutating func nextMessage() throws(ProtocolError) -> ControlMessage? {
        while closed == nil, let frame = try decoder.next() {
            guard let message = try ControlMessage(frame: frame) else {
                if frame.isOptional && peerHello != nil { continue }
                throw .malformed("unknown frame type 0x\(String(frame.type.rawValue, radix: 16)) not marked optional")
            }
            guard peerHello != nil else {
                guard case .hello(let hello) = message else { throw .malformed("the first frame is \(frame.type), not hello") }
                guard expectedPeers.contains(hello.role) else {
                    throw .malformed("a \(hello.role) cannot connect to a \(ownHello.role)")
                }
                version = try ownHello.negotiate(with: hello)
                peerHello = hello
                decoder.maximumLength = Int(ownHello.maximumFrameLength)
                return message
            }
            switch message {
            case .hello: throw .malformed("a second hello")
            case .ping(let data): send(.pong(data))
            case .pong: break
            case .close(let reason, let text):
                closed = (reason, text, true)
                return message
            default: return message
            }
        }
        return nil
    }

    /// Closes with a close frame to the peer. Returns false if it was already closed.
    @discardableResult
    mutating func close(_ reason: CloseReason, _ message: String) -> Bool {
        guard closed == nil else { return false }
        send(.close(reason, message))
        closed = (reason, message, false)
        return true
    }

    /// Marks the link closed without a frame (the transport is gone).
    mutating func abandon(_ reason: CloseReason, _ message: String) {
        if closed == nil { closed = (reason, message, true) }
    }

    /// Sends a ping when the line has been quiet, and returns the error to close with when a deadline
    /// passed.
    mutating func tick(now: UInt64) -> ProtocolError? {
        guard closed == nil else { return nil }
        if peerHello == nil, now >= startedAt + options.handshakeTimeout {
            return ProtocolError(.timeout, "no hello within \(options.handshakeTimeout) ms")
        }
        if now >= lastReceived + options.keepaliveTimeout {
            return ProtocolError(.timeout, "nothing received for \(now - lastReceived) ms")
        }
        if pingSentAt == nil, now >= lastReceived + options.keepaliveInterval {
            send(.ping(now))
            pingSentAt = now
        }
        return nil
    }

    /// When `tick` must run next.
    var nextWakeup: UInt64? {
        guard closed == nil else { return nil }
        var t = lastReceived + options.keepaliveTimeout
        if pingSentAt == nil { t = min(t, lastReceived + options.keepaliveInterval) }
        if peerHello == nil { t = min(t, startedAt + options.handshakeTimeout) }
        return t
    }

    /// The peer's hello limit on frame length (the floor until its hello is in).
    var peerMaximumFrameLength: Int { Int(peerHello?.maximumFrameLength ?? UInt32(Frame.minimumMaximumLength)) }

    mutating func takeOutput() -> [UInt8] {
        defer { output = [] }
        return output
    }
}

extension Frame {
    func write(into bytes: inout [UInt8]) {
        var w = WireWriter()
        swap(&w.bytes, &bytes)
        write(to: &w)
        swap(&w.bytes, &bytes)
    }
}
