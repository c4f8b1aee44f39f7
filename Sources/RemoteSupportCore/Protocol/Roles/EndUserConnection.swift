/// The end user's side (PROTOCOL.md, "End user"): join, wait, answer a connect request, share the
/// screen through the codec, receive the agent's input.
///
///     idle --join--> joining --joined--> waiting --connect-request--> asked
///       asked --consent(nil)--> waiting;  asked --consent(mode)--> connected
///       connected --end / session-ended / close--> ended
///
/// Screen sharing is pull-based: after `.readyForFrame` the host calls `shareFrame` with its current
/// frame; the machine encodes only what changed since the last frame the viewer has, and never has
/// more than `updateWindow` updates in flight. A frame shared while the window is full is refused
/// (false): the next one, after the next `.readyForFrame`, carries all changes since, merged.
public final class EndUserConnection: PeerConnection {
    private enum State {
        case idle
        case joining
        case waiting
        case asked(AgentInfo, AccessMode, KeyShare)
        case connected
        case ended
    }
    private var state = State.idle

    private let encoderOptions: EncoderOptions
    private let parallel: ParallelFor?
    /// The format updates are encoded in (the viewer decodes into it).
    public let viewerFormat: PixelFormat

    // The connected session's screen and flow control.
    public private(set) var mode: AccessMode?
    public private(set) var isPaused = false
    private var peerReady = false
    private var encoder: UpdateEncoder?
    private var generation: UInt32 = 0
    private var fullRefresh = true
    private var sentUpdates: UInt32 = 0
    private var acknowledgedUpdates: UInt32 = 0
    /// Input events dropped because the agent may not control (view only, or paused).
    public private(set) var refusedInputEvents = 0

    public init(options: ConnectionOptions = ConnectionOptions(), viewerFormat: PixelFormat = .bgrx8888,
                encoderOptions: EncoderOptions = EncoderOptions(), parallel: ParallelFor? = nil, now: UInt64) {
        self.encoderOptions = encoderOptions
        self.parallel = parallel
        self.viewerFormat = viewerFormat
        super.init(role: .endUser, options: options, now: now)
    }

    /// Joins with a link (personal or invitation) or a 6-digit code, and what to show the agent.
    public func join(_ credential: JoinCredential, _ info: EndUserInfo) throws(ProtocolError) {
        guard case .idle = state, !link.isClosed else { throw ProtocolError(.notAllowed, "already joined") }
        link.send(.join(credential, info))
        state = .joining
    }

    /// Answers a connect request: nil declines (back to waiting), a mode accepts and starts the session.
    /// `key` is for tests and test vectors; by default a fresh random one.
    public func consent(_ mode: AccessMode?, key: EphemeralKey? = nil) throws(ProtocolError) {
        guard case .asked(_, _, let agentKey) = state, let id = sessionID, !link.isClosed else {
            throw ProtocolError(.notAllowed, "no connect request is waiting for an answer")
        }
        guard let mode else {
            link.send(.consent(nil, endUserKey: nil))
            state = .waiting
            return
        }
        let own = key ?? EphemeralKey()
        let keys = try SessionKeys(own: own, ownRole: .endUser, peer: agentKey, sessionID: id)
        link.send(.consent(mode, endUserKey: own.share))
        channel = SecureChannel(sessionID: id, keys: keys, role: .endUser, options: options)
        self.mode = mode
        state = .connected
        sessionEndReported = false
        emit(.sessionStarted(id, mode: mode, shortAuthenticationString: keys.shortAuthenticationString))
    }

    /// Whether `shareFrame` would send now: connected, the agent verified, not paused, the agent's
    /// connection up, and room in the window.
    public var canShareFrame: Bool {
        guard case .connected = state, peerReady, !isPaused, !peerAway, !link.isClosed else { return false }
        return sentUpdates &- acknowledgedUpdates < UInt32(options.updateWindow)
    }

    /// Encodes `frame` against what the viewer has and queues the update. Returns false when nothing
    /// was sent: no room (wait for `.readyForFrame`), or nothing changed. A new size or format starts a
    /// new screen generation (the viewer resets).
    @discardableResult
    public func shareFrame(_ frame: FrameView) throws(ProtocolError) -> Bool {
        guard case .connected = state else { throw ProtocolError(.notAllowed, "no connected session") }
        guard canShareFrame else { return false }
        do {
            if encoder == nil || encoder!.width != frame.width || encoder!.height != frame.height || encoder!.sourceFormat != frame.format {
                let e = try UpdateEncoder(width: frame.width, height: frame.height, sourceFormat: frame.format,
                                          clientFormat: viewerFormat, options: encoderOptions, parallel: parallel)
                var encodings: [Encoding] = [.zrle, .raw]
                if channel?.peerFeatures?.contains(.copyRect) == true { encodings.append(.copyRect) }
                e.setEncodings(encodings)
                encoder = e
                generation &+= 1
                fullRefresh = true
                try queue(.screenInfo(generation: generation, width: UInt16(frame.width), height: UInt16(frame.height), format: viewerFormat))
            }
            let update = try encoder!.encode(frame, incremental: !fullRefresh)
            fullRefresh = false
            if update.isEmpty { return false }
            sentUpdates &+= 1
            try queue(.screenUpdate(generation: generation, sequence: sentUpdates, update: update.message))
            return true
        } catch let error as CodecError {
            throw ProtocolError(.internalError, "encoding the frame failed: \(error)")
        } catch let error as ProtocolError {
            throw error
        } catch {
            throw ProtocolError(.internalError, "\(error)")
        }
    }

    /// The pointer's image (RGBA, at most 256x256) and where it is.
    public func sendCursorShape(hotX: Int, hotY: Int, width: Int, height: Int, rgba: [UInt8]) throws(ProtocolError) {
        let side = SessionMessage.maximumCursorSide
        guard (0...side).contains(width), (0...side).contains(height), rgba.count == width * height * 4,
              (0..<max(width, 1)).contains(hotX), (0..<max(height, 1)).contains(hotY) else {
            throw ProtocolError(.notAllowed, "a cursor is at most \(side)x\(side) RGBA pixels with its hot spot inside")
        }
        try queue(.cursorShape(hotX: UInt16(hotX), hotY: UInt16(hotY), width: UInt16(width), height: UInt16(height), rgba: rgba))
    }

    public func sendCursorPosition(x: Int, y: Int) throws(ProtocolError) {
        try queue(.cursorPosition(x: UInt16(clamping: x), y: UInt16(clamping: y)))
    }

    public func sendClipboard(_ text: String) throws(ProtocolError) { try queue(.clipboard(text)) }
    public func sendChat(_ text: String) throws(ProtocolError) { try queue(.chat(text)) }

    /// Grants or takes back control; input already on its way is refused from now on.
    public func setAccess(_ mode: AccessMode) throws(ProtocolError) {
        try queue(.access(mode))
        self.mode = mode
    }

    /// Pauses sharing (no updates, input refused) or resumes it (with a full refresh).
    public func setPaused(_ paused: Bool) throws(ProtocolError) {
        try queue(.pause(paused))
        let resumed = isPaused && !paused
        isPaused = paused
        if resumed { fullRefresh = true; offerFrame() }
    }

    /// Ends the session (the agent is told the reason end to end) and closes the connection.
    public func endSession(_ reason: CloseReason = .endedByEndUser, _ message: String = "") {
        if channel != nil {
            try? queue(.end(reason, message))
            flushChannel()
        }
        close(reason, message)
    }

    // MARK: Role handlers

    override func handle(_ message: ControlMessage) throws(ProtocolError) {
        switch (state, message) {
        case (.joining, .joined(let id, let token, _, _)):
            sessionID = id
            setResumable(token)
            state = .waiting
            emit(.joined(id))
        case (.waiting, .connectRequest(let agent, let mode, let key)):
            state = .asked(agent, mode, key)
            emit(.connectRequested(agent, mode: mode))
        case (.connected, .connectRequest(let agent, let mode, let key)) where !peerReady:
            // Our consent was lost with a dropped connection, and the broker asks again.
            channel = nil
            self.mode = nil
            state = .asked(agent, mode, key)
            emit(.connectRequested(agent, mode: mode))
        case (.asked, .connectRequest(let agent, let mode, let key)):
            // The broker asks again (after a resume, or the first agent gave up): the latest counts.
            state = .asked(agent, mode, key)
            emit(.connectRequested(agent, mode: mode))
        default:
            throw .malformed("a \(message.type) frame is not expected by an end user in state \(state)")
        }
    }

    override func handle(session message: SessionMessage) throws(ProtocolError) {
        switch message {
        case .updateAck(let seq):
            // Sequence numbers wrap: compare distances. An acknowledgement at or behind the last one
            // (sent before a resume reset the window) changes nothing.
            let ahead = seq &- acknowledgedUpdates
            if ahead == 0 || ahead > UInt32.max / 2 { return }
            guard ahead <= sentUpdates &- acknowledgedUpdates else {
                throw .malformed("update \(seq) acknowledged, only \(sentUpdates) sent")
            }
            let wasFull = !canShareFrame
            acknowledgedUpdates = seq
            if wasFull { offerFrame() }
        case .refresh:
            fullRefresh = true
            offerFrame()
        case .pointer(_, let x, let y, let buttons, let wheelX, let wheelY):
            guard mode?.allowsInput == true, !isPaused else { refusedInputEvents += 1; return }
            emit(.pointer(x: Int(x), y: Int(y), buttons: buttons, wheelX: Int(wheelX), wheelY: Int(wheelY)))
        case .key(_, let keysym, let down):
            guard mode?.allowsInput == true, !isPaused else { refusedInputEvents += 1; return }
            emit(.key(keysym: keysym, down: down))
        case .clipboard(_, let text): emit(.clipboard(text))
        case .chat(_, let text): emit(.chat(text))
        default:
            throw .malformed("a \(message.type) session message is not for an end user")
        }
    }

    override func peerVerified() {
        peerReady = true
        offerFrame()
    }

    override func resumedUnconnected() {
        mode = nil
        peerReady = false
        encoder = nil
        state = .waiting
    }

    override func epochStarted() {
        // The zlib stream starts over and the viewer gets the whole screen again.
        encoder = nil
        acknowledgedUpdates = sentUpdates
        offerFrame()
    }

    override func sessionEnded() {
        if case .connected = state { state = .ended }
        peerReady = false
        encoder = nil
    }

    private func offerFrame() {
        if canShareFrame { emit(.readyForFrame) }
    }
}
