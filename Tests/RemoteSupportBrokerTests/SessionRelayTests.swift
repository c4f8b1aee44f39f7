import Foundation
import NIOPosix
@testable import RemoteSupportBroker
import RemoteSupportCore
import RemoteSupportStore
import Testing

/// A whole support session through a broker in this process, on loopback: an end user joins (by
/// connection ID or invitation link), the agent sees it in the lobby, connects, the end user consents,
/// screen updates flow one way and input the other, and either side ends it, over TCP and WebSocket.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SessionRelayTests {
    typealias EndUser = ProtocolClient<EndUserConnection>
    typealias Agent = ProtocolClient<AgentConnection>

    /// Agent authenticated and in the lobby; end user joined; returns the session id the agent saw.
    /// An agent and an end user on `transport` (the agent on `agentTransport` when given, with its receive
    /// buffer), the end user joined and in the agent's lobby.
    static func join(_ broker: TestBroker, _ transport: EndUser.Transport, credential: JoinCredential,
                     name: String = "Bob", agentTransport: EndUser.Transport? = nil,
                     agentReceiveBuffer: Int? = nil, beforeTheEndUserConnects: () -> Void = {}) async throws -> (EndUser, Agent, LobbyEntry) {
        let agent = Agent(AgentConnection(now: Agent.now()))
        let agentTransport = agentTransport ?? transport
        try await agent.connect(agentTransport == .tcp ? .tcp : .webSocket, port: broker.port(for: agentTransport),
                                receiveBuffer: agentReceiveBuffer)
        try agent.with { try $0.authenticate(token: broker.token) }
        _ = try await agent.next { if case .authenticated = $0 { true } else { false } }

        beforeTheEndUserConnects()
        let endUser = EndUser(EndUserConnection(now: EndUser.now()))
        try await endUser.connect(transport, port: broker.port(for: transport))
        try endUser.with { try $0.join(credential, EndUserInfo(name: name, machineName: "bob-pc", operatingSystem: "Debian 13")) }
        guard case .joined(let id) = try await endUser.next(where: { if case .joined = $0 { true } else { false } }) else { throw Failure() }
        guard case .lobbySession(let entry) = try await agent.next(where: {
            if case .lobbySession(let e) = $0 { e.sessionID == id } else { false }
        }) else { throw Failure() }
        return (endUser, agent, entry)
    }

    /// Connects and consents; both sides see the session start with the same SAS.
    static func connect(_ endUser: EndUser, _ agent: Agent, _ entry: LobbyEntry, adminName: String) async throws {
        try agent.with { try $0.connect(to: entry.sessionID, mode: .control) }
        guard case .connectRequested(let who, let mode) = try await endUser.next(where: {
            if case .connectRequested = $0 { true } else { false }
        }) else { throw Failure() }
        #expect(who.name == adminName)
        #expect(who.organisation == "Example Ltd")
        #expect(mode == .control)
        try endUser.with { try $0.consent(.control) }
        guard case .sessionStarted(_, _, let sasA) = try await agent.next(where: { if case .sessionStarted = $0 { true } else { false } }),
              case .sessionStarted(_, _, let sasE) = try await endUser.next(where: { if case .sessionStarted = $0 { true } else { false } })
        else { throw Failure() }
        #expect(sasA == sasE)
    }

    /// Shares two frames and checks the agent's framebuffer equals each.
    static func screens(_ endUser: EndUser, _ agent: Agent) async throws {
        let (w, h) = (96, 64)
        for seed in 0..<2 {
            let frame = testFrame(width: w, height: h, seed: seed)
            // The sharer may send only within its update window: wait until it may.
            var sent = false
            for _ in 0..<500 where !sent {
                sent = try share(frame, width: w, height: h, from: endUser)
                if !sent { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(sent)
            var same = false
            for _ in 0..<1000 where !same {
                same = screenRGB(agent) == rgb(frame)
                if !same { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(same, "the agent's screen equals frame \(seed); agent saw \(agent.pending), end user saw \(endUser.pending)")
        }
    }

    static func input(_ endUser: EndUser, _ agent: Agent) async throws {
        #expect(try agent.with { try $0.sendPointer(x: 10, y: 20, buttons: 1) })
        #expect(try agent.with { try $0.sendKey(keysym: 0x61, down: true) })
        try agent.with { try $0.sendClipboard("copied text") }
        guard case .pointer(let x, let y, let b, _, _) = try await endUser.next(where: { if case .pointer = $0 { true } else { false } }),
              case .key(let k, let down) = try await endUser.next(where: { if case .key = $0 { true } else { false } }),
              case .clipboard(let text) = try await endUser.next(where: { if case .clipboard = $0 { true } else { false } })
        else { throw Failure() }
        #expect((x, y, b) == (10, 20, 1))
        #expect(k == 0x61 && down)
        #expect(text == "copied text")
        try endUser.with { try $0.sendChat("thanks") }
        guard case .chat(let chat) = try await agent.next(where: { if case .chat = $0 { true } else { false } }) else { throw Failure() }
        #expect(chat == "thanks")
    }

    /// Waits until the store has the session in `status`.
    static func storeStatus(_ broker: TestBroker, _ id: SessionID, _ status: SessionStatus) async throws -> SupportSession {
        for _ in 0..<600 {
            if let s = try await broker.session(id), s.state.status == status { return s }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure("session \(id) never became \(status): \(String(describing: try await broker.session(id)?.state))")
    }

    @Test(arguments: [EndUser.Transport.tcp, .webSocket])
    func connectionIDSessionEndedByAgent(_ transport: EndUser.Transport) async throws {
        let broker = try await TestBroker.start()
        let grant = try await broker.desk.issueConnectionID(broker.token, ticket: "T-42", endUserName: "Bob B.", address: "127.0.0.1")
        let (endUser, agent, entry) = try await Self.join(broker, transport, credential: .connectionID(grant.code.formatted))
        #expect(entry.ticket == "T-42")
        #expect(entry.endUser.name == "Bob B.")
        #expect(entry.joinMethod == "connection-id")
        try await Self.connect(endUser, agent, entry, adminName: broker.adminName)
        _ = try await Self.storeStatus(broker, entry.sessionID, .connected)
        try await Self.screens(endUser, agent)
        try await Self.input(endUser, agent)

        try agent.with { try $0.endSession(.endedByAgent, "all fixed") }
        guard case .sessionEnded(let reason, let text) = try await endUser.next(where: { if case .sessionEnded = $0 { true } else { false } })
        else { throw Failure() }
        #expect(reason == .endedByAgent)
        #expect(text == "all fixed")
        let stored = try await Self.storeStatus(broker, entry.sessionID, .ended)
        if case .ended(_, _, let why, _) = stored.state { #expect(why == .agentEnded) }
        await endUser.waitUntilFinished()  // the broker closes the end user's connection after the end
        try await broker.stop()
    }

    /// TCP reads end anywhere: records cut inside their header or their body, a byte at a time or a few KiB,
    /// reach the other side whole and in order (the relay holds a cut record until it is whole), and
    /// whole writes after them still flow.
    @Test func recordsCutAnywhereArriveWhole() async throws {
        let broker = try await TestBroker.start()
        let grant = try await broker.desk.issueConnectionID(broker.token, address: "127.0.0.1")
        let (endUser, agent, entry) = try await Self.join(broker, .tcp, credential: .connectionID(grant.code.formatted))
        try await Self.connect(endUser, agent, entry, adminName: broker.adminName)
        for size in [1, 5, 7, 4099] {
            endUser.writePieces.withLockedValue { $0 = size }
            if size < 100 {
                try endUser.with { try $0.sendChat("cut in \(size)-byte pieces") }
                guard case .chat(let text) = try await agent.next(where: { if case .chat = $0 { true } else { false } }) else { throw Failure() }
                #expect(text == "cut in \(size)-byte pieces")
            } else {
                // Two records (fragments of 32 KiB), cut in pieces that are not a divisor of either.
                let big = String(repeating: "clipboard text cut in pieces; ", count: 1_500)
                try endUser.with { try $0.sendClipboard(big) }
                guard case .clipboard(let text) = try await agent.next(where: { if case .clipboard = $0 { true } else { false } })
                else { throw Failure() }
                #expect(text == big)
            }
        }
        endUser.writePieces.withLockedValue { $0 = nil }
        try await Self.screens(endUser, agent)
        try await broker.stop()
    }

    /// Over plain TCP a session's two connections end up on one event loop (one moves to the other's, so a
    /// record is read and written by one thread), the session goes on across the move, and again after the
    /// end user resumes on a new connection. Connections land on the shared group's loops in turn, and this
    /// process's clients take turns too, so an agent and its end user would share a loop: every other session
    /// skips a turn between them, and sessions are opened until one had to move.
    @Test func tcpSessionsAreServedOnOneLoop() async throws {
        let broker = try await TestBroker.start { $0.hub.graceSeconds = 30 }
        func moved() -> Int {
            let text = String(decoding: broker.running.hub.metrics.exposition(), as: UTF8.self)
            let line = text.split(separator: "\n").first { $0.hasPrefix("rs_connections_moved_total ") }
            return line.flatMap { Int($0.split(separator: " ").last!) } ?? 0
        }
        func servedOnOneLoop(_ id: SessionID) async throws -> Bool {
            for _ in 0..<500 {
                if broker.running.hub.servedOnOneLoop(id) == true { return true }
                try await Task.sleep(for: .milliseconds(10))
            }
            return false
        }
        var session: (EndUser, Agent, SessionID)?
        for attempt in 0..<12 {
            let before = moved()
            let grant = try await broker.desk.issueConnectionID(broker.token, address: "127.0.0.1")
            let (endUser, agent, entry) = try await Self.join(broker, .tcp, credential: .connectionID(grant.code.formatted)) {
                if attempt % 2 == 0 { _ = MultiThreadedEventLoopGroup.singleton.next() }
            }
            try await Self.connect(endUser, agent, entry, adminName: broker.adminName)
            let id = entry.sessionID
            #expect(try await servedOnOneLoop(id), "session \(id): \(broker.running.hub.diagnostics)")
            if moved() > before {
                session = (endUser, agent, id)
                break
            }
        }
        let (endUser, agent, id) = try #require(session, "no session needed a move in 12 tries")
        try await Self.screens(endUser, agent)
        try await Self.input(endUser, agent)

        // A new connection for the same end user lands on a loop of its own; it is moved again.
        endUser.drop()
        await endUser.waitUntilFinished()
        _ = try await agent.next { if case .peerAway = $0 { true } else { false } }
        let back = EndUser(endUser.peer)
        try back.with { try $0.reconnect(now: EndUser.now()) }
        try await back.connect(.tcp, port: broker.tcpPort)
        _ = try await back.next { if case .resumed = $0 { true } else { false } }
        #expect(try await servedOnOneLoop(id))
        try await Self.screens(back, agent)
        try await Self.input(back, agent)
        try await broker.stop()
    }

    @Test(arguments: [EndUser.Transport.tcp, .webSocket])
    func invitationSessionEndedByEndUser(_ transport: EndUser.Transport) async throws {
        let broker = try await TestBroker.start()
        let (link, _) = try await broker.desk.createInvitation(broker.token, ticket: "INC-7", endUserName: "Carol", address: "127.0.0.1")
        let (endUser, agent, entry) = try await Self.join(broker, transport, credential: .link(link), name: "typed name")
        #expect(entry.ticket == "INC-7")
        #expect(entry.endUser.name == "Carol")
        #expect(entry.joinMethod == "invitation")
        try await Self.connect(endUser, agent, entry, adminName: broker.adminName)
        try await Self.screens(endUser, agent)
        try await Self.input(endUser, agent)

        endUser.with { $0.endSession(.endedByEndUser, "bye") }
        guard case .sessionEnded(let reason, let text) = try await agent.next(where: { if case .sessionEnded = $0 { true } else { false } })
        else { throw Failure() }
        #expect(reason == .endedByEndUser)
        #expect(text == "bye")
        let stored = try await Self.storeStatus(broker, entry.sessionID, .ended)
        if case .ended(_, _, let why, _) = stored.state { #expect(why == .endUserEnded) }
        // The agent stays connected, back in the lobby.
        #expect(!agent.finished)
        try await broker.stop()
    }

    @Test func declinedConsentKeepsWaitingThenLeaving() async throws {
        let broker = try await TestBroker.start()
        let grant = try await broker.desk.issueConnectionID(broker.token, address: "127.0.0.1")
        let (endUser, agent, entry) = try await Self.join(broker, .tcp, credential: .connectionID(grant.code.formatted))
        try agent.with { try $0.connect(to: entry.sessionID, mode: .control) }
        _ = try await endUser.next { if case .connectRequested = $0 { true } else { false } }
        try endUser.with { try $0.consent(nil) }
        guard case .connectRefused(_, let reason, _) = try await agent.next(where: { if case .connectRefused = $0 { true } else { false } })
        else { throw Failure() }
        #expect(reason == .consentDeclined)
        _ = try await Self.storeStatus(broker, entry.sessionID, .waiting)
        // The end user leaves: the lobby entry goes and the store cancels the session.
        endUser.with { $0.close(.normal, "never mind") }
        guard case .lobbySessionGone(let gone, _) = try await agent.next(where: { if case .lobbySessionGone = $0 { true } else { false } })
        else { throw Failure() }
        #expect(gone == entry.sessionID)
        let stored = try await Self.storeStatus(broker, entry.sessionID, .cancelled)
        if case .cancelled(let why, _) = stored.state { #expect(why == .endUserLeft) }
        try await broker.stop()
    }

    /// Both sides send their hello at once (PROTOCOL.md section 5): a peer that says nothing until it has
    /// the broker's hello gets it, over TCP and over WebSocket (before the handshake timeout, here an hour,
    /// would end the connection).
    @Test(arguments: [EndUser.Transport.tcp, .webSocket])
    func theBrokerSaysHelloWithoutWaiting(_ transport: EndUser.Transport) async throws {
        let broker = try await TestBroker.start { $0.hub.connection.handshakeTimeout = 3_600_000 }
        let frame = try await SilentPeer.firstFrame(transport, port: broker.port(for: transport))
        guard case .hello(let hello) = try ControlMessage(frame: frame) else { throw Failure("the first frame is \(frame.type)") }
        #expect(hello.role == .broker)
        try await broker.stop()
    }

    @Test func badCredentialsAreRefused() async throws {
        let broker = try await TestBroker.start()
        let endUser = EndUser(EndUserConnection(now: EndUser.now()))
        try await endUser.connect(.tcp, port: broker.tcpPort)
        try endUser.with { try $0.join(.connectionID("000 000"), EndUserInfo(name: "", machineName: "m", operatingSystem: "os")) }
        guard case .closed(let reason, _, _) = try await endUser.next(where: { if case .closed = $0 { true } else { false } })
        else { throw Failure() }
        #expect(reason == .joinRefused)

        let agent = Agent(AgentConnection(now: Agent.now()))
        try await agent.connect(.webSocket, port: broker.httpPort)
        try agent.with { try $0.authenticate(token: "not-a-token") }
        guard case .closed(let why, _, _) = try await agent.next(where: { if case .closed = $0 { true } else { false } })
        else { throw Failure() }
        #expect(why == .authenticationFailed)
        try await broker.stop()
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String = "unexpected event") { self.description = description }
}
