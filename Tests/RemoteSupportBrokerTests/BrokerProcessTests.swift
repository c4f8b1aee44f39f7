import Foundation
import RemoteSupportCore
import Testing

/// `rs-broker` as the operator runs it, a real process on loopback: first start, the API, a whole
/// session over its WebSocket and TCP endpoints, SIGKILL and restart on the same data (accounts,
/// invitations and audit intact; the session left waiting is closed as interrupted), then SIGTERM.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct BrokerProcessTests {
    typealias EndUser = ProtocolClient<EndUserConnection>
    typealias Agent = ProtocolClient<AgentConnection>

    @Test func sessionThenKillAndRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rs-broker-process-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freeLoopbackPort()
        let broker = BrokerProcess(dataDirectory: directory, httpPort: port)
        try await broker.start()
        let first = try #require(broker.firstPassword, "the first start prints the admin's one-time password")

        // The default password opens nothing but the password change.
        let initial = try await broker.login("admin@localhost", first)
        let blocked = try await broker.request("GET", "/api/v1/lobby", token: initial)
        #expect(blocked.status == 403)
        #expect(blocked.json["error"] as? String == "password-change-required")
        let newPassword = "a long enough passphrase 42"
        let changed = try await broker.request("POST", "/api/v1/me/password", token: initial, body: ["current": first, "new": newPassword])
        #expect(changed.status == 200)
        let token = try #require(changed.json["token"] as? String)

        // An invitation, its landing page and a short link to it.
        let invitation = try await broker.request("POST", "/api/v1/invitations", token: token,
                                                  body: ["ticket": "INC-1", "endUserName": "Dana <b>"])
        #expect(invitation.status == 201)
        let link = try #require(invitation.json["link"] as? String)
        let landingPath = String(link.dropFirst("http://127.0.0.1:\(port)".count))
        let landing = try await broker.request("GET", landingPath)
        #expect(landing.status == 200)
        let page = String(decoding: landing.body, as: UTF8.self)
        #expect(page.contains("Dana &lt;b&gt;"), "names are escaped on the landing page")
        #expect(!page.contains("Dana <b>"))
        let short = try await broker.request("POST", "/api/v1/short-links", token: token, body: ["link": link])
        #expect(short.status == 201)
        let code = try #require(short.json["code"] as? String)
        let redirect = try await broker.request("GET", "/s/\(code)")
        #expect(redirect.status == 302)
        #expect(redirect.headers["Location"] as? String == link)

        // A whole session: agent over WebSocket, end user over TCP with a connection ID.
        let issued = try await broker.request("POST", "/api/v1/connection-ids", token: token, body: ["ticket": "T-9"])
        #expect(issued.status == 201)
        let digits = try #require(issued.json["digits"] as? String)
        let agent = Agent(AgentConnection(now: Agent.now()))
        try await agent.connect(.webSocket, port: broker.httpPort)
        try agent.with { try $0.authenticate(token: token) }
        _ = try await agent.next { if case .authenticated = $0 { true } else { false } }
        let endUser = EndUser(EndUserConnection(now: EndUser.now()))
        try await endUser.connect(.tcp, port: broker.protocolPort)
        try endUser.with { try $0.join(.connectionID(digits), EndUserInfo(name: "Eve", machineName: "eve-laptop", operatingSystem: "Linux")) }
        guard case .lobbySession(let entry) = try await agent.next(where: { if case .lobbySession = $0 { true } else { false } }) else {
            throw Failure()
        }
        #expect(entry.ticket == "T-9")
        let lobby = try await broker.request("GET", "/api/v1/lobby", token: token)
        #expect((lobby.json["sessions"] as? [[String: Any]])?.first?["id"] as? String == entry.sessionID.description)
        try await SessionRelayTests.connect(endUser, agent, entry, adminName: "Administrator")
        try await SessionRelayTests.screens(endUser, agent)
        try await SessionRelayTests.input(endUser, agent)
        endUser.with { $0.endSession(.endedByEndUser, "done") }
        _ = try await agent.next { if case .sessionEnded = $0 { true } else { false } }

        // A second end user waits (invitation link) when the broker is killed.
        let waiting = EndUser(EndUserConnection(now: EndUser.now()))
        try await waiting.connect(.tcp, port: broker.protocolPort)
        try waiting.with { try $0.join(.link(link), EndUserInfo(name: "Frank", machineName: "frank-pc", operatingSystem: "Linux")) }
        guard case .joined(let waitingID) = try await waiting.next(where: { if case .joined = $0 { true } else { false } }) else {
            throw Failure()
        }
        broker.kill()
        await waiting.waitUntilFinished()
        await agent.waitUntilFinished()

        let again = BrokerProcess(dataDirectory: directory, httpPort: port)
        try await again.start()
        #expect(again.firstPassword == nil, "no second admin on a store that has one")
        let token2 = try await again.login("admin@localhost", newPassword)
        #expect(try await again.request("GET", landingPath).status == 200, "the invitation survived")
        #expect(try await again.request("GET", "/s/\(code)").status == 302, "the short link survived")
        let audit = try await again.request("GET", "/api/v1/audit?limit=500", token: token2)
        let actions = Set(((audit.json["events"] as? [[String: Any]]) ?? []).compactMap { $0["action"] as? String })
        for action in ["system.bootstrap", "login.succeeded", "session.joined", "session.connected", "session.ended", "session.cancelled"] {
            #expect(actions.contains(action), "audit has \(action)")
        }
        let cancelled = try await again.request("GET", "/api/v1/sessions?status=cancelled", token: token2)
        let sessions = (cancelled.json["sessions"] as? [[String: Any]]) ?? []
        let marked = sessions.first { $0["id"] as? String == waitingID.description }
        #expect(marked?["endReason"] as? String == "broker-restarted", "the waiting session is closed as interrupted: \(sessions)")
        let ended = try await again.request("GET", "/api/v1/sessions?status=ended", token: token2)
        let done = ((ended.json["sessions"] as? [[String: Any]]) ?? []).first { $0["id"] as? String == entry.sessionID.description }
        #expect(done?["endReason"] as? String == "end-user-ended")

        // SIGTERM: connected peers are told the broker is going, and it exits 0.
        let lastAgent = Agent(AgentConnection(now: Agent.now()))
        try await lastAgent.connect(.tcp, port: again.protocolPort)
        try lastAgent.with { try $0.authenticate(token: token2) }
        _ = try await lastAgent.next { if case .authenticated = $0 { true } else { false } }
        #expect(again.terminate() == 0)
        guard case .closed(let reason, _, _) = try await lastAgent.next(where: { if case .closed = $0 { true } else { false } }) else {
            throw Failure()
        }
        #expect(reason == .shuttingDown)
    }

    @Test func badConfigurationFailsClearly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rs-broker-config-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let blocker = BrokerProcess(dataDirectory: directory, httpPort: try freeLoopbackPort())
        try await blocker.start()
        defer { _ = blocker.terminate() }
        for (arguments, expected) in [
            (["--port", String(blocker.httpPort)], "in use"),
            (["--host", "0.0.0.0"], "without TLS"),
            (["--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"], "--tls-cert"),
            (["--database-url", "postgres://nobody@127.0.0.1:1/none"], "--database-url"),
        ] {
            let p = Process()
            p.executableURL = BrokerProcess.binary
            p.arguments = ["--data", directory.appendingPathComponent("other").path, "--protocol-port", "0"]
                + (arguments.contains("--port") ? [] : ["--port", "0"]) + arguments
            let err = Pipe()
            p.standardError = err
            p.standardOutput = Pipe()
            try p.run()
            p.waitUntilExit()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(p.terminationStatus != 0, "\(arguments) must fail")
            #expect(text.contains(expected), "\(arguments): \(text)")
        }
    }
}
