/// The broker's side of one peer's connection (PROTOCOL.md, "Broker"): checks that every message is
/// legal for the peer's role and state, and turns it into an event; the broker decides (stores, pairs,
/// relays) and answers through the methods. It never reads session records: they are relayed as they
/// came (`relay`).
///
///     new --join / authenticate / resume--> introducing --accept...--> waiting | lobby | connected
///     end user:  waiting --requestConsent--> asked --consent--> waiting (declined) | asked-accepted
///                asked-accepted --sessionConnected--> connected
///     agent:     lobby --connect--> connecting --sendConnected--> connected | --refuseConnect--> lobby
///     connected --sessionEnded (either way)--> lobby (agent) | ended (end user: close it next)
///
/// Calls in the wrong state throw `.notAllowed` and change nothing. Not thread-safe.
public final class BrokerConnection {
    private enum State {
        case new
        case introducing
        case waiting
        case asked
        case answered
        case lobby
        case connecting
        case connected
        /// An end user's session is over: the broker closes the connection next.
        case ended
    }
    /// Set once a session was connected: records still in flight when it ended are dropped, not errors.
    private var hadSession = false
    /// Records that arrived after their session ended, dropped unread.
    public private(set) var droppedRecords = 0
    private var state = State.new
    private var link: HopLink
    private let options: ConnectionOptions
    private let startedAt: UInt64
    private var events: [BrokerEvent] = []
    private var eventIndex = 0

    public init(options: ConnectionOptions = ConnectionOptions(), now: UInt64) {
        self.options = options
        startedAt = now
        link = HopLink(role: .broker, expectedPeers: [.endUser, .agent], options: options, now: now)
    }

    /// The peer's role, once its hello is in.
    public var peerRole: PeerRole? { link.peerHello?.role }
    public var isClosed: Bool { link.isClosed }
    /// Bytes waiting for `takeOutput`: the host stops reading from the other side of a relay while this
    /// is over its cap, which is how a slow viewer slows the end user down.
    public var pendingOutputCount: Int { link.output.count }
    public var isConnected: Bool { if case .connected = state { true } else { false } }

    public func receive(_ bytes: UnsafeRawBufferPointer, now: UInt64) {
        link.receive(bytes, now: now)
        do {
            while let message = try link.nextMessage() {
                if case .close(let reason, let text) = message {
                    events.append(.closed(reason, text, byPeer: true))
                    return
                }
                try handle(message)
            }
        } catch {
            fail(error)
        }
    }

    public func receive(_ bytes: [UInt8], now: UInt64) { bytes.withUnsafeBytes { receive($0, now: now) } }

    /// What the relay's fast path may do with the bytes at the front of the input (`cutRecordFrame`).
    public enum RecordFrameCut: Equatable, Sendable {
        /// A record frame of this size (length field included) begins here: forward exactly that many bytes,
        /// unread, once they are all in; none of them goes to `receive`.
        case record(size: Int)
        /// Fewer bytes than a frame header: hold them and ask again with more.
        case tooShort
    }

    /// The relay's fast path: records are relayed unread (16.4), so a host may forward their bytes as they
    /// came instead of feeding them to `receive` and writing what `relay` encodes again. When this
    /// connection is connected, has no partial frame buffered, and `bytes` begins with a record frame's
    /// header (the record within its maximum frame length, with at least a record's header and tag), this
    /// says the frame's size, whole in `bytes` or not, and counts the bytes as received for the keepalive.
    /// The host forwards exactly that many bytes to the other side, if that side is connected, after its
    /// pending output; a frame split over reads is held by the host until it is whole (then, like every
    /// byte the host holds, it is not in this connection's input). Anything else (nil) goes to `receive`,
    /// which checks it as usual.
    public func cutRecordFrame(_ bytes: UnsafeRawBufferPointer, now: UInt64) -> RecordFrameCut? {
        guard case .connected = state, !link.isClosed, link.bufferedInputCount == 0 else { return nil }
        guard bytes.count >= Frame.headerSize else { return bytes.isEmpty ? nil : .tooShort }
        let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        guard bytes[4] == FrameType.record.rawValue, bytes[5] == 0,
              length >= 2 + SessionRecord.headerSize + SessionRecord.tagSize, length <= link.maximumFrameLength else { return nil }
        link.noteReceived(now: now)
        return .record(size: 4 + length)
    }

    /// The size of a whole record frame at the front of `bytes` (`cutRecordFrame` when the frame is all
    /// there), or nil.
    public func takeRecordFrame(_ bytes: UnsafeRawBufferPointer, now: UInt64) -> Int? {
        guard case .record(let size)? = cutRecordFrame(bytes, now: now), size <= bytes.count else { return nil }
        return size
    }

    /// Bytes of a record frame the host holds or forwards arrived (the keepalive counts them).
    public func noteReceived(now: UInt64) { link.noteReceived(now: now) }

    public func nextEvent() -> BrokerEvent? {
        guard eventIndex < events.count else {
            if !events.isEmpty { events.removeAll(keepingCapacity: true); eventIndex = 0 }
            return nil
        }
        defer { eventIndex += 1 }
        return events[eventIndex]
    }

    public func takeOutput() -> [UInt8] { link.takeOutput() }

    public func tick(now: UInt64) {
        var error = link.tick(now: now)
        if error == nil, case .new = state, now >= startedAt + options.handshakeTimeout {
            error = ProtocolError(.timeout, "no join, authenticate or resume within \(options.handshakeTimeout) ms")
        }
        if let error { fail(error) }
    }

    public var nextWakeup: UInt64? {
        guard var t = link.nextWakeup else { return nil }
        if case .new = state { t = min(t, startedAt + options.handshakeTimeout) }
        return t
    }

    /// Closes with a reason (refusals use this: `.joinRefused`, `.authenticationFailed`, ...).
    public func close(_ reason: CloseReason, _ message: String = "") {
        if link.close(reason, message) { events.append(.closed(reason, message, byPeer: false)) }
    }

    /// The transport is gone.
    public func connectionLost() {
        if !link.isClosed {
            link.abandon(.peerLost, "the connection dropped")
            events.append(.closed(.peerLost, "the connection dropped", byPeer: true))
        }
    }

    // MARK: Answers

    public func acceptJoin(_ session: SessionID, resumeToken: ResumeToken, graceSeconds: UInt32, waitSeconds: UInt32) throws(ProtocolError) {
        try require(.introducing, role: .endUser, "accept a join")
        link.send(.joined(session, resumeToken, graceSeconds: graceSeconds, waitSeconds: waitSeconds))
        state = .waiting
    }

    public func acceptAgent(agentID: String, _ info: AgentInfo) throws(ProtocolError) {
        try require(.introducing, role: .agent, "accept an agent")
        link.send(.authenticated(agentID: agentID, info))
        state = .lobby
    }

    /// Lets a resumed peer back in: into its connected session at `epoch`, or (not connected) back to
    /// waiting (end user) or the lobby (agent). The host then sends what the peer missed (a connect
    /// request, the lobby).
    public func acceptResume(_ session: SessionID, epoch: UInt32, connected: Bool) throws(ProtocolError) {
        guard case .introducing = state, let role = peerRole else { throw notAllowed("accept a resume") }
        link.send(.resumed(session, epoch: epoch))
        state = connected ? .connected : (role == .endUser ? .waiting : .lobby)
        if connected { hadSession = true }
    }

    public func sendLobby(_ entry: LobbyEntry) throws(ProtocolError) {
        try requireAgentPastIntroduction("send a lobby entry")
        link.send(.lobbySession(entry))
    }

    public func sendLobbyGone(_ session: SessionID, _ reason: CloseReason) throws(ProtocolError) {
        try requireAgentPastIntroduction("send a lobby removal")
        link.send(.lobbySessionGone(session, reason))
    }

    public func requestConsent(_ agent: AgentInfo, mode: AccessMode, agentKey: KeyShare) throws(ProtocolError) {
        guard peerRole == .endUser, !link.isClosed else { throw notAllowed("ask for consent") }
        switch state {
        case .waiting, .asked: break
        default: throw notAllowed("ask for consent")
        }
        link.send(.connectRequest(agent, mode: mode, agentKey: agentKey))
        state = .asked
    }

    /// The end user's consent was relayed to the agent: records may flow.
    public func sessionConnected() throws(ProtocolError) {
        try require(.answered, role: .endUser, "mark the session connected")
        state = .connected
        hadSession = true
    }

    public func sendConnected(_ session: SessionID, mode: AccessMode, endUserKey: KeyShare, resumeToken: ResumeToken,
                              graceSeconds: UInt32) throws(ProtocolError) {
        try require(.connecting, role: .agent, "send connected")
        link.send(.connected(session, mode: mode, endUserKey: endUserKey, resumeToken, graceSeconds: graceSeconds))
        state = .connected
        hadSession = true
    }

    public func refuseConnect(_ session: SessionID, _ reason: CloseReason, _ message: String = "") throws(ProtocolError) {
        try require(.connecting, role: .agent, "refuse a connect")
        link.send(.connectRefused(session, reason, message))
        state = .lobby
    }

    /// Relays a record from the other side, as it came.
    public func relay(_ record: SessionRecord) throws(ProtocolError) {
        try require(.connected, role: nil, "relay a record")
        link.send(.record(record))
    }

    public func sendPeerAway(graceSeconds: UInt32) throws(ProtocolError) {
        try require(.connected, role: nil, "send peer-away")
        link.send(.peerAway(graceSeconds: graceSeconds))
    }

    public func sendPeerResumed(epoch: UInt32) throws(ProtocolError) {
        try require(.connected, role: nil, "send peer-resumed")
        link.send(.peerResumed(epoch: epoch))
    }

    /// The session is over for this peer; an agent goes back to the lobby, an end user's connection is
    /// over too (close it next).
    public func sendSessionEnded(_ reason: CloseReason, _ message: String = "") throws(ProtocolError) {
        guard !link.isClosed, peerRole != nil else { throw notAllowed("send session-ended") }
        switch state {
        case .connected, .waiting, .asked, .answered, .connecting: break
        default: throw notAllowed("send session-ended")
        }
        link.send(.sessionEnded(reason, message))
        state = peerRole == .agent ? .lobby : .ended
    }

    // MARK: Inbound

    private func handle(_ message: ControlMessage) throws(ProtocolError) {
        let role = peerRole
        switch (state, message) {
        case (_, .hello(let hello)):
            events.append(.hello(hello.role, software: hello.software))
        case (.new, .join(let credential, let info)) where role == .endUser:
            state = .introducing
            events.append(.joinRequested(credential, info))
        case (.new, .authenticate(let token)) where role == .agent:
            state = .introducing
            events.append(.authenticateRequested(token: token))
        case (.new, .resume(let token)):
            state = .introducing
            events.append(.resumeRequested(token))
        case (.asked, .consent(let mode, let key)):
            state = mode == nil ? .waiting : .answered
            events.append(.consentAnswered(mode, endUserKey: key))
        case (.lobby, .connect(let id, let mode, let key)):
            state = .connecting
            events.append(.connectRequested(id, mode: mode, agentKey: key))
        case (.connected, .record(let record)), (.answered, .record(let record)):
            // An end user seals its first records right after its consent, before the broker has
            // paired the session: the events come in order, so the host pairs first, then relays.
            events.append(.record(record))
        case (_, .record) where hadSession:
            droppedRecords += 1
        case (.connected, .sessionEnded(let reason, let text)), (.connecting, .sessionEnded(let reason, let text)):
            state = role == .agent ? .lobby : .ended
            events.append(.sessionEndRequested(reason, text))
        default:
            throw .malformed("a \(message.type) frame from a \(role.map { "\($0)" } ?? "peer") is not allowed here")
        }
    }

    private func fail(_ error: ProtocolError) {
        if link.close(error.code, error.reason) { events.append(.closed(error.code, error.reason, byPeer: false)) }
    }

    private func require(_ wanted: State, role: PeerRole?, _ what: String) throws(ProtocolError) {
        guard !link.isClosed, state == wanted, role == nil || peerRole == role else { throw notAllowed(what) }
    }

    private func requireAgentPastIntroduction(_ what: String) throws(ProtocolError) {
        guard peerRole == .agent, !link.isClosed else { throw notAllowed(what) }
        switch state {
        case .lobby, .connecting, .connected: return
        default: throw notAllowed(what)
        }
    }

    private func notAllowed(_ what: String) -> ProtocolError {
        ProtocolError(.notAllowed, "cannot \(what) in state \(state)\(link.isClosed ? " (closed)" : "")")
    }
}
