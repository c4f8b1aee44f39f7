/// The agent's side (PROTOCOL.md, "Agent"): authenticate with a token from the broker's login, follow
/// the lobby, connect to one session at a time and view it: updates are decoded into `screen`, each
/// one acknowledged (the end user's flow-control credit), and input goes back.
///
///     idle --authenticate--> authenticating --authenticated--> lobby
///       lobby --connect--> connecting --connected--> viewing --end / session-ended--> lobby
///       connecting --connect-refused--> lobby
///
/// For several sessions at once, open one connection per session.
public final class AgentConnection: PeerConnection {
    private enum State {
        case idle
        case authenticating
        case lobby
        case connecting(SessionID, EphemeralKey)
        case viewing
    }
    private var state = State.idle
    private var token: String?
    public private(set) var agentID: String?

    /// What the end user lets this agent do (nil outside a session).
    public private(set) var mode: AccessMode?
    /// The end user paused sharing.
    public private(set) var isPaused = false
    /// The end user's screen as decoded so far (nil until the first screen info).
    public private(set) var screen: UpdateDecoder?
    private var generation: UInt32 = 0
    private let decoderLimits: DecoderLimits

    public init(options: ConnectionOptions = ConnectionOptions(), decoderLimits: DecoderLimits = DecoderLimits(), now: UInt64) {
        self.decoderLimits = decoderLimits
        super.init(role: .agent, options: options, now: now)
    }

    /// Sends the token from the broker's login. Kept to introduce the agent again after a reconnect.
    public func authenticate(token: String) throws(ProtocolError) {
        guard case .idle = state, !link.isClosed else { throw ProtocolError(.notAllowed, "already authenticated") }
        self.token = token
        link.send(.authenticate(token))
        state = .authenticating
    }

    /// Asks to connect to a waiting session. `key` is for tests and test vectors.
    public func connect(to session: SessionID, mode: AccessMode = .control, key: EphemeralKey? = nil) throws(ProtocolError) {
        guard case .lobby = state, !link.isClosed else { throw ProtocolError(.notAllowed, "not in the lobby") }
        let own = key ?? EphemeralKey()
        link.send(.connect(session, mode: mode, agentKey: own.share))
        state = .connecting(session, own)
    }

    /// Whether input would be sent: viewing, control granted, not paused, the end user's side up.
    public var canSendInput: Bool {
        guard case .viewing = state, mode?.allowsInput == true, !isPaused, !peerAway, !link.isClosed else { return false }
        return true
    }

    /// Pointer at (x, y) with `buttons` down and wheel steps; false (nothing sent) when input is not
    /// allowed now. Motion not yet taken by `takeOutput` is replaced by newer motion.
    @discardableResult
    public func sendPointer(x: Int, y: Int, buttons: UInt16, wheelX: Int = 0, wheelY: Int = 0) throws(ProtocolError) -> Bool {
        guard canSendInput else { return false }
        try queue(.pointer(x: UInt16(clamping: x), y: UInt16(clamping: y), buttons: buttons,
                           wheelX: Int16(clamping: wheelX), wheelY: Int16(clamping: wheelY)))
        return true
    }

    /// An X11 keysym down or up; false when input is not allowed now.
    @discardableResult
    public func sendKey(keysym: UInt32, down: Bool) throws(ProtocolError) -> Bool {
        guard canSendInput else { return false }
        try queue(.key(keysym: keysym, down: down))
        return true
    }

    public func sendClipboard(_ text: String) throws(ProtocolError) { try queue(.clipboard(text)) }
    public func sendChat(_ text: String) throws(ProtocolError) { try queue(.chat(text)) }

    /// Asks the end user's side for the whole screen again.
    public func requestRefresh() throws(ProtocolError) { try queue(.refresh) }

    /// Ends the session (the end user is told the reason end to end); the agent stays in the lobby.
    public func endSession(_ reason: CloseReason = .endedByAgent, _ message: String = "") throws(ProtocolError) {
        guard case .viewing = state else { throw ProtocolError(.notAllowed, "no connected session") }
        try queue(.end(reason, message))
        flushChannel()
        link.send(.sessionEnded(reason, message))
        reportSessionEnded(reason, message)
    }

    // MARK: Role handlers

    override func handle(_ message: ControlMessage) throws(ProtocolError) {
        switch (state, message) {
        case (.authenticating, .authenticated(let id, let info)):
            agentID = id
            state = .lobby
            emit(.authenticated(agentID: id, info))
        case (.lobby, .lobbySession(let entry)), (.connecting, .lobbySession(let entry)), (.viewing, .lobbySession(let entry)):
            emit(.lobbySession(entry))
        case (.lobby, .lobbySessionGone(let id, let r)), (.connecting, .lobbySessionGone(let id, let r)), (.viewing, .lobbySessionGone(let id, let r)):
            emit(.lobbySessionGone(id, r))
        case (.connecting(let id, let own), .connected(let cid, let mode, let endUserKey, let token, _)):
            guard cid == id else { throw .malformed("connected to \(cid), but asked for \(id)") }
            let keys = try SessionKeys(own: own, ownRole: .agent, peer: endUserKey, sessionID: id)
            channel = SecureChannel(sessionID: id, keys: keys, role: .agent, options: options)
            sessionID = id
            self.mode = mode
            isPaused = false
            screen = nil
            state = .viewing
            sessionEndReported = false
            setResumable(token)
            emit(.sessionStarted(id, mode: mode, shortAuthenticationString: keys.shortAuthenticationString))
        case (.connecting(let id, _), .connectRefused(let rid, let reason, let text)):
            guard rid == id else { throw .malformed("connect to \(rid) refused, but we asked for \(id)") }
            state = .lobby
            emit(.connectRefused(rid, reason, text))
        default:
            throw .malformed("a \(message.type) frame is not expected by an agent in state \(state)")
        }
    }

    override func handle(session message: SessionMessage) throws(ProtocolError) {
        switch message {
        case .screenInfo(let g, let width, let height, let format):
            // The old screen goes first: two of the largest at once would be 2 GiB.
            screen = nil
            do {
                screen = try UpdateDecoder(width: Int(width), height: Int(height), format: format, limits: decoderLimits)
            } catch {
                throw .malformed("screen info: \(error)")
            }
            generation = g
            emit(.screenInfo(width: Int(width), height: Int(height), format: format))
        case .screenUpdate(let g, let seq, let update):
            guard let screen else { throw .malformed("a screen update before any screen info") }
            // An update of an earlier generation was encoded for a decoder that is gone: acknowledged
            // (the window must move on) but not applied.
            guard g == generation else {
                try queue(.updateAck(sequence: seq))
                return
            }
            do {
                let rectangles = try screen.apply(update)
                emit(.screenUpdated(rectangles.map(\.rect)))
            } catch {
                throw .malformed("screen update \(seq): \(error)")
            }
            try queue(.updateAck(sequence: seq))
        case .cursorShape(let hx, let hy, let w, let h, let rgba):
            emit(.cursorShape(hotX: Int(hx), hotY: Int(hy), width: Int(w), height: Int(h), rgba: rgba))
        case .cursorPosition(let x, let y):
            emit(.cursorPosition(x: Int(x), y: Int(y)))
        case .clipboard(_, let text): emit(.clipboard(text))
        case .chat(_, let text): emit(.chat(text))
        case .access(_, let mode):
            self.mode = mode
            emit(.accessChanged(mode))
        case .pause(_, let paused):
            isPaused = paused
            emit(.paused(paused))
        default:
            throw .malformed("a \(message.type) session message is not for an agent")
        }
    }

    override func sessionEnded() {
        if case .viewing = state { state = .lobby }
        if case .connecting = state { state = .lobby }
        sessionID = nil
        mode = nil
    }

    override var canReintroduce: Bool { token != nil && sessionID == nil }

    override func reintroduce() {
        guard let token else { return }
        link.send(.authenticate(token))
        state = .authenticating
    }
}
