import Foundation
@testable import RemoteSupportBroker
import RemoteSupportCore
import RemoteSupportStore
import Testing

/// `rs-client`, the end user's program, as a real process against a broker in this process: it joins
/// with a connection ID or a link, consents, shares its (synthetic) screen, applies the agent's input
/// and reports it, takes commands on stdin, and ends the session.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct EndUserClientTests {
    typealias Agent = ProtocolClient<AgentConnection>

    @Test func joinsByCodeSharesTheScreenTakesInputAndEnds() async throws {
        let broker = try await TestBroker.start()
        defer { Task { try? await broker.stop() } }
        let agent = try await Self.agent(broker)
        let grant = try await broker.desk.issueConnectionID(broker.token, address: "127.0.0.1")
        let client = try ClientProcess(["--code", grant.code.formatted, "--broker", "http://127.0.0.1:\(broker.httpPort)",
                                        "--name", "Carol", "--accept", "control", "--synthetic", "160x100"])
        defer { client.kill() }

        let entry = try await Self.lobbyEntry(agent, named: "Carol")
        #expect(entry.joinMethod == "connection-id")
        try agent.with { try $0.connect(to: entry.sessionID, mode: .control) }
        _ = try await client.next { $0["event"] as? String == "connect-requested" && $0["agent"] as? String == broker.adminName }
        guard case .sessionStarted(_, let mode, let sas) = try await agent.next(where: { if case .sessionStarted = $0 { true } else { false } })
        else { throw Failure() }
        #expect(mode == .control)
        let started = try await client.next { $0["event"] as? String == "session-started" }
        #expect(started["sas"] as? String == sas)

        // The agent's framebuffer is what the client shared.
        try await Self.expectSameScreen(agent, client)

        // A click and a key reach the client, which draws them; the agent then sees the new screen.
        #expect(try agent.with { try $0.sendPointer(x: 30, y: 40, buttons: 1) })
        #expect(try agent.with { try $0.sendPointer(x: 30, y: 40, buttons: 0) })
        #expect(try agent.with { try $0.sendKey(keysym: 0x62, down: true) })
        #expect(try agent.with { try $0.sendKey(keysym: 0x62, down: false) })
        let click = try await client.next { $0["event"] as? String == "pointer" && $0["buttons"] as? Int == 1 }
        #expect(click["x"] as? Int == 30 && click["y"] as? Int == 40)
        _ = try await client.next { $0["event"] as? String == "key" && $0["keysym"] as? Int == 0x62 && $0["down"] as? Bool == true }
        try await Self.expectSameScreen(agent, client)

        // Commands on stdin: chat, then end from the end user's side.
        client.send("chat hello from Carol")
        guard case .chat(let text) = try await agent.next(where: { if case .chat = $0 { true } else { false } }) else { throw Failure() }
        #expect(text == "hello from Carol")
        client.send("end")
        guard case .sessionEnded(let reason, _) = try await agent.next(where: { if case .sessionEnded = $0 { true } else { false } })
        else { throw Failure() }
        #expect(reason == .endedByEndUser)
        #expect(try await client.exitStatus() == 0)
        let stored = try await SessionRelayTests.storeStatus(broker, entry.sessionID, .ended)
        if case .ended(_, _, let why, _) = stored.state { #expect(why == .endUserEnded) }
    }

    @Test func joinsByInvitationLinkAndTheAgentEnds() async throws {
        let broker = try await TestBroker.start()
        defer { Task { try? await broker.stop() } }
        let agent = try await Self.agent(broker)
        let (link, _) = try await broker.desk.createInvitation(broker.token, ticket: "T-77", endUserName: "Dan", address: "127.0.0.1")
        let client = try ClientProcess(["--link", link, "--name", "Dan", "--accept", "view", "--synthetic", "64x48"])
        defer { client.kill() }

        let entry = try await Self.lobbyEntry(agent, named: "Dan")
        #expect(entry.ticket == "T-77")
        #expect(entry.joinMethod == "invitation")
        try agent.with { try $0.connect(to: entry.sessionID, mode: .control) }
        // The end user granted view only: input is not applied.
        guard case .sessionStarted(_, let mode, _) = try await agent.next(where: { if case .sessionStarted = $0 { true } else { false } })
        else { throw Failure() }
        #expect(mode == .viewOnly)
        try await Self.expectSameScreen(agent, client)
        try agent.with { try $0.endSession() }
        _ = try await client.next { $0["event"] as? String == "session-ended" && $0["reason"] as? Int == Int(CloseReason.endedByAgent.rawValue) }
        #expect(try await client.exitStatus() == 0)
    }

    /// The network drops under rs-client (a proxy cuts its TCP connection): it resumes within the grace
    /// period, the agent hears it left and came back, and screens and input flow again.
    @Test func resumesAfterTheConnectionDrops() async throws {
        let broker = try await TestBroker.start()
        defer { Task { try? await broker.stop() } }
        let proxy = try await CuttingProxy(to: broker.tcpPort)
        defer { proxy.stop() }
        let agent = try await Self.agent(broker)
        let grant = try await broker.desk.issueConnectionID(broker.token, address: "127.0.0.1")
        let client = try ClientProcess(["--code", grant.code.formatted, "--tcp", "127.0.0.1:\(proxy.port)",
                                        "--name", "Ruth", "--accept", "control", "--synthetic", "96x64"])
        defer { client.kill() }
        let entry = try await Self.lobbyEntry(agent, named: "Ruth")
        try agent.with { try $0.connect(to: entry.sessionID, mode: .control) }
        _ = try await agent.next { if case .sessionStarted = $0 { true } else { false } }
        try await Self.expectSameScreen(agent, client)

        proxy.cutAll()
        _ = try await agent.next { if case .peerAway = $0 { true } else { false } }
        _ = try await agent.next { if case .peerResumed = $0 { true } else { false } }
        #expect(try agent.with { try $0.sendKey(keysym: 0x71, down: true) })
        _ = try await client.next { $0["event"] as? String == "key" && $0["keysym"] as? Int == 0x71 }
        try await Self.expectSameScreen(agent, client)
        try agent.with { try $0.endSession() }
        #expect(try await client.exitStatus() == 0)
    }

    @Test func aRefusedCodeExitsWithAnError() async throws {
        let broker = try await TestBroker.start()
        defer { Task { try? await broker.stop() } }
        let client = try ClientProcess(["--code", "000000", "--broker", "http://127.0.0.1:\(broker.httpPort)", "--accept", "decline"])
        defer { client.kill() }
        #expect(try await client.exitStatus() == 1)
        #expect(client.errorText.contains("refused"))
    }

    // MARK: Helpers

    static func agent(_ broker: TestBroker) async throws -> Agent {
        let agent = Agent(AgentConnection(now: Agent.now()))
        try await agent.connect(.webSocket, port: broker.httpPort)
        try agent.with { try $0.authenticate(token: broker.token) }
        _ = try await agent.next { if case .authenticated = $0 { true } else { false } }
        return agent
    }

    static func lobbyEntry(_ agent: Agent, named name: String) async throws -> LobbyEntry {
        guard case .lobbySession(let entry) = try await agent.next(where: {
            if case .lobbySession(let e) = $0 { e.endUser.name == name } else { false }
        }) else { throw Failure() }
        return entry
    }

    /// Waits (bounded) until the agent's framebuffer equals the last frame the client wrote.
    static func expectSameScreen(_ agent: Agent, _ client: ClientProcess) async throws {
        var same = false
        for _ in 0..<1000 where !same {
            if let sent = client.frameBGR() { same = screenRGB(agent) == sent }
            if !same { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(same, "the agent's screen equals the client's last shared frame")
    }
}
