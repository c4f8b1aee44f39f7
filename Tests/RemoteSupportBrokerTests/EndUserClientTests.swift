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
            if let sent = client.lastFrameRGB() { same = screenRGB(agent) == sent }
            if !same { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(same, "the agent's screen equals the client's last shared frame")
    }
}

/// `rs-client` as a process, with `--events` (JSON lines on stdout) and `--frame-out`.
final class ClientProcess: @unchecked Sendable {
    let process = Process()
    private let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
    private let frameFile: URL
    private let lock = NSLock()
    private var lines: [[String: Any]] = []
    private var buffer = Data()
    private var errors = Data()

    static var binary: URL { BrokerProcess.binary.deletingLastPathComponent().appendingPathComponent("rs-client") }

    init(_ arguments: [String]) throws {
        frameFile = FileManager.default.temporaryDirectory.appendingPathComponent("rs-client-\(UUID().uuidString).ppm")
        process.executableURL = Self.binary
        process.arguments = arguments + ["--events", "--frame-out", frameFile.path]
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        stdout.fileHandleForReading.readabilityHandler = { [weak self] h in self?.received(h.availableData) }
        stderr.fileHandleForReading.readabilityHandler = { [weak self] h in
            let data = h.availableData
            self?.lock.withLock { self?.errors.append(data) }
        }
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else { throw Failure("\(Self.binary.path) is missing: run `swift build`") }
        try process.run()
    }

    private func received(_ data: Data) {
        lock.withLock {
            buffer.append(data)
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[(newline + 1)...])
                if let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] { lines.append(object) }
            }
        }
    }

    var errorText: String { lock.withLock { String(decoding: errors, as: UTF8.self) } }

    /// The first event line (seen or coming) that matches; earlier lines stay. A hang guard of 60 s.
    func next(_ predicate: ([String: Any]) -> Bool) async throws -> [String: Any] {
        for _ in 0..<6000 {
            if let found = lock.withLock({ () -> [String: Any]? in
                guard let i = lines.firstIndex(where: predicate) else { return nil }
                return lines.remove(at: i)
            }) { return found }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw Failure("rs-client never printed the event; it printed \(lock.withLock { lines }) and said \(errorText)")
    }

    func send(_ line: String) { stdin.fileHandleForWriting.write(Data((line + "\n").utf8)) }

    /// The last frame written with --frame-out, as B, G, R bytes per pixel (the order of the agent's
    /// BGRX framebuffer without its padding byte, as `screenRGB` gives it).
    func lastFrameRGB() -> [UInt8]? {
        guard let data = try? Data(contentsOf: frameFile) else { return nil }
        var newlines = 0
        guard let start = data.firstIndex(where: { byte in
            if byte == 0x0A { newlines += 1 }
            return newlines == 3
        }) else { return nil }
        var pixels = [UInt8](data[(start + 1)...])
        for i in stride(from: 0, to: pixels.count - 2, by: 3) { pixels.swapAt(i, i + 2) }
        return pixels
    }

    func exitStatus() async throws -> Int32 {
        for _ in 0..<3000 where process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        guard !process.isRunning else { throw Failure("rs-client did not exit; it said \(errorText)") }
        return process.terminationStatus
    }

    /// SIGKILL: processes started from the test runner inherit its blocked signals and ignore SIGTERM.
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? FileManager.default.removeItem(at: frameFile)
    }
}
