/// What the end user's and the agent's state machines share: the link to the broker, the event queue,
/// the connected session's channel, keepalive and resume. Sans-IO: the host feeds received bytes in,
/// polls events, calls the role's methods, takes the bytes to send, and calls `tick` at `nextWakeup`.
/// No sockets, threads, timers or clocks inside; `now` is the host's monotonic clock in milliseconds.
///
/// A call made in a state where it makes no sense throws `.notAllowed` and changes nothing. A protocol
/// error from the peer closes the connection (a close frame with the reason is the last output) and is
/// reported as `.closed(reason, message, byPeer: false)`.
///
/// Not thread-safe: one caller at a time.
public class PeerConnection {
    public let role: PeerRole
    let options: ConnectionOptions
    var link: HopLink
    private var events: [ProtocolEvent] = []
    private var eventIndex = 0

    /// The connected session's end-to-end channel.
    var channel: SecureChannel?
    /// The session this connection belongs to (end user: from `joined`; agent: while connected).
    public internal(set) var sessionID: SessionID?
    var resumeToken: ResumeToken?
    private var resumable = false

    init(role: PeerRole, options: ConnectionOptions, now: UInt64) {
        self.role = role
        self.options = options
        link = HopLink(role: role, expectedPeers: [.broker], options: options, now: now)
    }

    // MARK: Host interface

    /// Feeds bytes received from the transport, in pieces of any size, and handles every whole frame.
    public func receive(_ bytes: UnsafeRawBufferPointer, now: UInt64) {
        link.receive(bytes, now: now)
        do {
            while let message = try link.nextMessage() {
                if case .close(let reason, let text) = message {
                    resumable = resumable && (reason == .shuttingDown || reason == .timeout)
                    if !resumable { endSessionState() }
                    emit(.closed(reason, text, byPeer: true))
                    return
                }
                try handleCommon(message, now: now)
            }
        } catch {
            fail(error)
        }
    }

    public func receive(_ bytes: [UInt8], now: UInt64) {
        bytes.withUnsafeBytes { receive($0, now: now) }
    }

    /// The next event, oldest first, or nil when there is none.
    public func nextEvent() -> ProtocolEvent? {
        guard eventIndex < events.count else {
            if !events.isEmpty { events.removeAll(keepingCapacity: true); eventIndex = 0 }
            return nil
        }
        defer { eventIndex += 1 }
        return events[eventIndex]
    }

    /// The bytes to send, in order; empty when there is nothing. Call it when the transport can take
    /// more: session messages queued meanwhile are sealed only now, so pointer motion that piles up
    /// while the link is slow is merged.
    public func takeOutput() -> [UInt8] {
        // The channel is mutated in place (a copy would make every array in it copy on write).
        if !link.isClosed, !awaitingResume, channel?.hasPending == true {
            do {
                try channel!.flush(into: &link)
            } catch {
                fail(error)
            }
        }
        return link.takeOutput()
    }

    /// Handles deadlines: sends keepalive pings, closes with `.timeout` when the broker went quiet.
    public func tick(now: UInt64) {
        if let error = link.tick(now: now) {
            link.close(error.code, error.reason)
            emit(.closed(error.code, error.reason, byPeer: false))
        }
    }

    /// When `tick` must be called next, or nil when no deadline is pending.
    public var nextWakeup: UInt64? { link.nextWakeup }

    /// True once the connection is closed (by either side, or lost).
    public var isClosed: Bool { link.isClosed }

    /// The six digits both people may compare, once the session's keys are agreed.
    public var shortAuthenticationString: String? { channel?.keys.shortAuthenticationString }

    /// Records of an earlier epoch dropped after resumes (for statistics).
    public var staleRecords: Int { channel?.staleRecords ?? 0 }

    /// Records that arrived after their session ended, dropped unread.
    public private(set) var droppedRecords = 0

    /// Closes the connection with a close frame and the reason; the session ends with it (only a
    /// connection lost, or closed by the broker with `.shuttingDown` or `.timeout`, can be resumed).
    public func close(_ reason: CloseReason = .normal, _ message: String = "") {
        guard link.close(reason, message) else { return }
        resumable = false
        endSessionState()
        emit(.closed(reason, message, byPeer: false))
    }

    /// The transport dropped (read error, reset, Wi-Fi change). Returns true when the session can come
    /// back with `reconnect` within its grace period; otherwise it is over.
    @discardableResult
    public func connectionLost(now: UInt64) -> Bool {
        let wasOpen = !link.isClosed
        link.abandon(.peerLost, "the connection dropped")
        if wasOpen && !canResume { endSessionState() }
        if wasOpen { emit(.closed(.peerLost, "the connection dropped", byPeer: true)) }
        return canResume
    }

    /// Whether `reconnect` can bring the session back.
    public var canResume: Bool { resumeToken != nil && resumable }

    /// Starts over on a new transport: sends a hello and a resume (or, for an agent without a session,
    /// its token again). The previous connection must be closed or lost.
    public func reconnect(now: UInt64) throws(ProtocolError) {
        guard link.isClosed else { throw ProtocolError(.notAllowed, "the connection is still open") }
        guard canResume || canReintroduce else { throw ProtocolError(.notAllowed, "there is no session to resume") }
        link = HopLink(role: role, expectedPeers: [.broker], options: options, now: now)
        if canResume, let token = resumeToken {
            link.send(.resume(token))
            awaitingResume = true
        } else {
            reintroduce()
        }
    }

    // MARK: For the roles

    func emit(_ event: ProtocolEvent) { events.append(event) }

    /// A role with nothing to resume may still introduce itself again (an agent's token).
    var canReintroduce: Bool { false }
    func reintroduce() {}

    /// Marks the session resumable (after the broker issued a token).
    func setResumable(_ token: ResumeToken) {
        resumeToken = token
        resumable = true
    }

    func endSessionState() {
        channel = nil
        resumeToken = nil
        resumable = false
        sessionEnded()
    }

    /// Set when a session starts; the end is reported once, whether the peer's end record or the
    /// broker's session-ended comes first.
    var sessionEndReported = false

    func reportSessionEnded(_ reason: CloseReason, _ text: String) {
        endSessionState()
        if !sessionEndReported {
            sessionEndReported = true
            emit(.sessionEnded(reason, text))
        }
    }

    /// Seals pending session messages into the link's output now (before a frame that must follow them).
    func flushChannel() {
        guard !link.isClosed, !awaitingResume, channel?.hasPending == true else { return }
        try? channel!.flush(into: &link)
    }

    func fail(_ error: ProtocolError) {
        resumable = false
        endSessionState()
        if link.close(error.code, error.reason) {
            emit(.closed(error.code, error.reason, byPeer: false))
        }
    }

    private func handleCommon(_ message: ControlMessage, now: UInt64) throws(ProtocolError) {
        switch message {
        case .hello:
            break
        case .record(let record):
            guard channel != nil else {
                // Records the broker relayed before it heard the session end are dropped unread.
                if sessionEndReported { droppedRecords += 1; return }
                throw .malformed("a record outside a connected session")
            }
            guard let m = try channel!.open(record) else { return }
            if case .start(_, let features, _, _) = m {
                emit(.peerVerified(features))
                peerVerified()
                return
            }
            if case .end(let reason, let text) = m {
                reportSessionEnded(reason, text)
                return
            }
            try handle(session: m)
        case .resumed(let id, let epoch):
            guard awaitingResume else { throw .malformed("resumed without a resume") }
            guard id == sessionID else { throw .malformed("resumed into session \(id), not ours") }
            // The peer is taken to be there; if it is away too, the broker says so right after.
            peerAway = false
            awaitingResume = false
            emit(.resumed(id))
            if epoch == 0 {
                // Not connected (our consent was lost with the connection, or the session is waiting).
                if channel != nil { channel = nil; resumedUnconnected() }
            } else {
                try moveTo(epoch: epoch)
            }
        case .peerAway(let grace):
            guard channel != nil else { throw .malformed("peer-away outside a connected session") }
            peerAway = true
            emit(.peerAway(graceSeconds: grace))
        case .peerResumed(let epoch):
            guard channel != nil else { throw .malformed("peer-resumed outside a connected session") }
            peerAway = false
            emit(.peerResumed)
            try moveTo(epoch: epoch)
        case .sessionEnded(let reason, let text):
            // After the peer's own end record, the broker's word that the session ended comes too.
            guard sessionID != nil || channel != nil || sessionEndReported else { throw .malformed("session-ended outside a session") }
            reportSessionEnded(reason, text)
        default:
            try handle(message)
        }
    }

    private func moveTo(epoch: UInt32) throws(ProtocolError) {
        guard let current = channel?.epoch else { return }
        guard epoch > current else { throw .malformed("epoch \(epoch) after epoch \(current)") }
        channel!.startEpoch(epoch)
        epochStarted()
    }

    /// Between a resume request and the broker's answer: no record may go out yet.
    var awaitingResume = false

    /// Whether the other side's connection is away (between peer-away and peer-resumed).
    var peerAway = false

    // Overridden by the roles.
    func handle(_ message: ControlMessage) throws(ProtocolError) {
        throw .malformed("a \(message.type) frame is not for a \(role)")
    }
    func handle(session message: SessionMessage) throws(ProtocolError) {
        throw .malformed("a \(message.type) session message is not for a \(role)")
    }
    func peerVerified() {}
    /// The broker resumed us into a session that is not connected after all.
    func resumedUnconnected() {}
    func epochStarted() {}
    func sessionEnded() {}

    /// Queues a session message; throws `.notAllowed` outside a connected session.
    func queue(_ message: SessionMessage) throws(ProtocolError) {
        guard channel != nil, !link.isClosed else { throw ProtocolError(.notAllowed, "no connected session") }
        channel!.queue(message)
    }

    func queue(_ payload: ReliablePayload) throws(ProtocolError) {
        guard channel != nil, !link.isClosed else { throw ProtocolError(.notAllowed, "no connected session") }
        channel!.queue(payload)
    }
}
