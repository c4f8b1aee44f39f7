import Testing
@testable import RemoteSupportCore

/// A broker in memory for protocol tests: pairs end users (joining with the code "123456" or any link
/// starting "https://") with agents (token "good-token"), pushes the lobby, relays records, and handles
/// resume with epochs. No store: what the real broker does with a database, this keeps in dictionaries.
final class MiniBroker {
    var connections: [Int: BrokerConnection] = [:]
    private var nextID = 1
    var refuseConsentRequests = false

    final class Slot {
        let id: SessionID
        var endUser: Int?
        var agent: Int?
        var info: EndUserInfo
        var method: String
        var endUserToken: ResumeToken
        var agentToken: ResumeToken?
        var epoch: UInt32 = 0
        var connected = false
        var pendingAgent: (conn: Int, mode: AccessMode, key: KeyShare)?
        init(id: SessionID, endUser: Int, info: EndUserInfo, method: String, token: ResumeToken) {
            self.id = id
            self.endUser = endUser
            self.info = info
            self.method = method
            endUserToken = token
        }
    }
    var slots: [Slot] = []
    var agents: Set<Int> = []
    var relayedRecords = 0
    var endedReasons: [CloseReason] = []
    private var random = TestRandom(seed: 77)

    func accept(now: UInt64) -> Int {
        let id = nextID
        nextID += 1
        connections[id] = BrokerConnection(now: now)
        return id
    }

    func slot(of conn: Int) -> Slot? { slots.first { $0.endUser == conn || $0.agent == conn } }

    /// Handles every pending event of every connection.
    func process() {
        var progress = true
        while progress {
            progress = false
            for (cid, conn) in connections.sorted(by: { $0.key < $1.key }) {
                while let event = conn.nextEvent() {
                    progress = true
                    handle(event, from: cid, conn)
                }
            }
        }
    }

    private func handle(_ event: BrokerEvent, from cid: Int, _ conn: BrokerConnection) {
        switch event {
        case .hello: break
        case .joinRequested(let credential, let info):
            let method: String
            switch credential {
            case .connectionID(let code) where code == "123456": method = "connection-id"
            case .link(let link) where link.hasPrefix("https://"): method = "invitation"
            default: conn.close(.joinRefused, "unknown code"); return
            }
            let slot = Slot(id: SessionID(), endUser: cid, info: info, method: method, token: .random(using: &random))
            slots.append(slot)
            try! conn.acceptJoin(slot.id, resumeToken: slot.endUserToken, graceSeconds: 60, waitSeconds: 600)
            for a in agents { try? connections[a]?.sendLobby(entry(slot)) }
        case .authenticateRequested(let token):
            guard token == "good-token" else { conn.close(.authenticationFailed, "bad token"); return }
            try! conn.acceptAgent(agentID: "agent-1", AgentInfo(name: "Alice Agent", jobTitle: "Support", organisation: "Example Ltd"))
            agents.insert(cid)
            for s in slots where !s.connected && s.endUser != nil { try! conn.sendLobby(entry(s)) }
        case .resumeRequested(let token):
            if let s = slots.first(where: { $0.endUserToken == token }) {
                s.endUser = cid
                if s.connected { s.epoch += 1 }
                try! conn.acceptResume(s.id, epoch: s.connected ? s.epoch : 0, connected: s.connected)
                if s.connected, let a = s.agent { try? connections[a]?.sendPeerResumed(epoch: s.epoch) }
                if s.connected, s.agent == nil { try! conn.sendPeerAway(graceSeconds: 60) }
                if !s.connected, let pending = s.pendingAgent {
                    // The end user's answer was lost with its connection: ask again.
                    try! conn.requestConsent(AgentInfo(name: "Alice Agent", jobTitle: "Support", organisation: "Example Ltd"),
                                             mode: pending.mode, agentKey: pending.key)
                }
            } else if let s = slots.first(where: { $0.agentToken == token }) {
                s.agent = cid
                s.epoch += 1
                try! conn.acceptResume(s.id, epoch: s.epoch, connected: true)
                agents.insert(cid)
                if let e = s.endUser { try? connections[e]?.sendPeerResumed(epoch: s.epoch) } else { try! conn.sendPeerAway(graceSeconds: 60) }
            } else {
                conn.close(.resumeRefused, "unknown token")
            }
        case .connectRequested(let id, let mode, let key):
            guard let s = slots.first(where: { $0.id == id && !$0.connected }), let e = s.endUser else {
                try! conn.refuseConnect(id, .notAllowed, "no such waiting session"); return
            }
            s.pendingAgent = (cid, mode, key)
            try! connections[e]!.requestConsent(AgentInfo(name: "Alice Agent", jobTitle: "Support", organisation: "Example Ltd"),
                                                 mode: mode, agentKey: key)
        case .consentAnswered(let mode, let key):
            guard let s = slot(of: cid), let pending = s.pendingAgent else { return }
            s.pendingAgent = nil
            guard let mode, let key else {
                try? connections[pending.conn]?.refuseConnect(s.id, .consentDeclined, "declined")
                return
            }
            try! conn.sessionConnected()
            s.agent = pending.conn
            s.agentToken = .random(using: &random)
            s.connected = true
            try! connections[pending.conn]!.sendConnected(s.id, mode: mode, endUserKey: key, resumeToken: s.agentToken!, graceSeconds: 60)
            for a in agents { try? connections[a]?.sendLobbyGone(s.id, .normal) }
        case .record(let record):
            guard let s = slot(of: cid) else { return }
            let other = s.endUser == cid ? s.agent : s.endUser
            if let other, let o = connections[other], !o.isClosed, o.isConnected {
                try! o.relay(record)
                relayedRecords += 1
            }
        case .sessionEndRequested(let reason, let text):
            guard let s = slot(of: cid) else { return }
            endedReasons.append(reason)
            end(s, reason, text, except: cid)
        case .closed(let reason, _, let byPeer):
            guard let s = slot(of: cid) else { agents.remove(cid); return }
            if byPeer && reason == .peerLost {
                // Gone without a word: the other side waits for a resume.
                if s.endUser == cid { s.endUser = nil } else { s.agent = nil; agents.remove(cid) }
                let other = s.endUser ?? s.agent
                if s.connected, let other { try? connections[other]?.sendPeerAway(graceSeconds: 60) }
                return
            }
            if s.endUser == cid, s.connected || reason != .normal {
                endedReasons.append(reason)
                end(s, reason, "", except: cid)
            }
        }
    }

    private func end(_ s: Slot, _ reason: CloseReason, _ text: String, except cid: Int) {
        s.connected = false
        for other in [s.endUser, s.agent].compactMap({ $0 }) where other != cid {
            try? connections[other]?.sendSessionEnded(reason, text)
        }
        s.agent = nil
    }

    private func entry(_ s: Slot) -> LobbyEntry {
        LobbyEntry(sessionID: s.id, endUser: s.info, ticket: "T-1", joinMethod: s.method, joinedAt: 1_700_000_000_000)
    }
}

/// An end user, an agent and a mini broker in memory, with bytes moved until nothing moves.
final class ProtocolHarness {
    let broker = MiniBroker()
    var now: UInt64 = 1_000
    var endUser: EndUserConnection
    var agent: AgentConnection
    var endUserConn: Int
    var agentConn: Int
    var endUserEvents: [ProtocolEvent] = []
    var agentEvents: [ProtocolEvent] = []
    /// Bytes moved each way, for tests that tamper with them.
    var tamperToAgent: ((inout [UInt8]) -> Void)?
    var tamperToEndUser: ((inout [UInt8]) -> Void)?
    var endUserLinkUp = true
    var agentLinkUp = true

    init(endUserOptions: ConnectionOptions = ConnectionOptions(), agentOptions: ConnectionOptions = ConnectionOptions()) {
        endUser = EndUserConnection(options: endUserOptions, now: now)
        agent = AgentConnection(options: agentOptions, now: now)
        endUserConn = broker.accept(now: now)
        agentConn = broker.accept(now: now)
    }

    /// Moves bytes both ways until a round moves none.
    func run(maxRounds: Int = 10_000) {
        for _ in 0..<maxRounds {
            var moved = false
            moved = move(from: endUser, to: endUserConn, up: endUserLinkUp) || moved
            moved = move(from: agent, to: agentConn, up: agentLinkUp) || moved
            broker.process()
            moved = deliver(endUserConn, to: endUser, up: endUserLinkUp, tamper: tamperToEndUser) || moved
            moved = deliver(agentConn, to: agent, up: agentLinkUp, tamper: tamperToAgent) || moved
            while let e = endUser.nextEvent() { endUserEvents.append(e); moved = true }
            while let e = agent.nextEvent() { agentEvents.append(e); moved = true }
            if !moved { return }
        }
        Issue.record("the harness did not settle")
    }

    private func move(from peer: PeerConnection, to conn: Int, up: Bool) -> Bool {
        let bytes = peer.takeOutput()
        guard up, !bytes.isEmpty, let b = broker.connections[conn] else { return false }
        b.receive(bytes, now: now)
        return true
    }

    private func deliver(_ conn: Int, to peer: PeerConnection, up: Bool, tamper: ((inout [UInt8]) -> Void)?) -> Bool {
        guard up, let b = broker.connections[conn] else { return false }
        var bytes = b.takeOutput()
        guard !bytes.isEmpty else { return false }
        tamper?(&bytes)
        peer.receive(bytes, now: now)
        return true
    }

    /// Joins by code, authenticates, connects and consents with `mode`; returns when the agent sees
    /// the first screen.
    func connect(mode: AccessMode = .control, frame: Framebuffer? = nil) throws {
        try endUser.join(.connectionID("123456"), EndUserInfo(name: "Bob", machineName: "bob-pc", operatingSystem: "Linux"))
        try agent.authenticate(token: "good-token")
        run()
        guard case .lobbySession(let entry)? = agentEvents.last(where: { if case .lobbySession = $0 { true } else { false } }) else {
            Issue.record("no lobby entry: \(agentEvents)"); return
        }
        try agent.connect(to: entry.sessionID, mode: mode)
        run()
        try endUser.consent(mode)
        run()
        if let frame { try share(frame) }
    }

    /// Shares `frame` once the end user's side may.
    @discardableResult
    func share(_ frame: Framebuffer) throws -> Bool {
        let sent = try frame.withView { view in try endUser.shareFrame(view) }
        run()
        return sent
    }

    /// Drops the end user's transport and brings it back with a resume.
    func dropEndUser() {
        endUserLinkUp = false
        endUser.connectionLost(now: now)
        broker.connections[endUserConn]?.connectionLost()
        broker.process()
        run()
    }

    func resumeEndUser() throws {
        endUserLinkUp = true
        endUserConn = broker.accept(now: now)
        try endUser.reconnect(now: now)
        run()
    }

    func dropAgent() {
        agentLinkUp = false
        agent.connectionLost(now: now)
        broker.connections[agentConn]?.connectionLost()
        broker.process()
        run()
    }

    func resumeAgent() throws {
        agentLinkUp = true
        agentConn = broker.accept(now: now)
        try agent.reconnect(now: now)
        run()
    }
}

/// The agent's decoded screen, as bytes (empty before the first screen info).
func screenBytes(_ a: AgentConnection) -> [UInt8] {
    guard let s = a.screen else { return [] }
    return Array(UnsafeRawBufferPointer(start: s.pixels, count: s.stride * s.height))
}

extension Framebuffer {
    func withView<T>(_ body: (FrameView) throws -> T) throws -> T {
        try bytes.withUnsafeBytes { raw in
            try body(try FrameView(base: raw.baseAddress!, width: width, height: height, stride: width * format.bytesPerPixel, format: format))
        }
    }
}
