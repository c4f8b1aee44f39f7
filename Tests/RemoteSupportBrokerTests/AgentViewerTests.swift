import Foundation
@testable import RemoteSupportBroker
import RemoteSupportCore
import Testing

/// `rs-viewer`, the agent's program, as a real process against a broker in this process, with `rs-client`
/// (a process too) as the end user: it logs in (or takes a token), lists or follows the lobby, connects,
/// shows the screen (a PPM file headless, an SDL window under Xvfb), sends typed keys and clicks, and
/// ends the session.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AgentViewerTests {
    @Test func headlessViewerSeesTheScreenSendsInputAndEnds() async throws {
        let broker = try await TestBroker.start()
        defer { Task { try? await broker.stop() } }
        let grant = try await broker.desk.issueConnectionID(broker.token, address: "127.0.0.1")
        let client = try ClientProcess(["--code", grant.code.formatted, "--broker", "http://127.0.0.1:\(broker.httpPort)",
                                        "--name", "Erin", "--accept", "control", "--synthetic", "160x100"])
        defer { client.kill() }
        let viewer = try ViewerProcess(["--headless", "--broker", "http://127.0.0.1:\(broker.httpPort)", "--token", broker.token,
                                        "--wait-for", "Erin", "--events"])
        defer { viewer.kill() }

        let started = try await viewer.next { $0["event"] as? String == "session-started" }
        #expect(started["mode"] as? Int == Int(AccessMode.control.rawValue))
        let clientStarted = try await client.next { $0["event"] as? String == "session-started" }
        #expect(clientStarted["sas"] as? String == started["sas"] as? String)
        let info = try await viewer.next { $0["event"] as? String == "screen-info" }
        #expect(info["width"] as? Int == 160 && info["height"] as? Int == 100)
        try await Self.expectSameFrame(viewer, client)

        // Typed text arrives as press and release of each character's keysym, a click as a pointer event.
        viewer.send("type ab")
        for keysym in [0x61, 0x62] {
            for down in [true, false] {
                _ = try await client.next { $0["event"] as? String == "key" && $0["keysym"] as? Int == keysym && $0["down"] as? Bool == down }
            }
        }
        viewer.send("click 10 20")
        let click = try await client.next { $0["event"] as? String == "pointer" && $0["buttons"] as? Int == 1 }
        #expect(click["x"] as? Int == 10 && click["y"] as? Int == 20)
        _ = try await client.next { $0["event"] as? String == "pointer" && $0["buttons"] as? Int == 0 }
        // The client drew the keys and the click; the viewer's file follows.
        try await Self.expectSameFrame(viewer, client)

        viewer.send("chat hello from the agent")
        let chat = try await client.next { $0["event"] as? String == "chat" }
        #expect(chat["text"] as? String == "hello from the agent")

        viewer.send("end")
        _ = try await client.next { $0["event"] as? String == "session-ended" && $0["reason"] as? Int == Int(CloseReason.endedByAgent.rawValue) }
        #expect(try await client.exitStatus() == 0)
        #expect(try await viewer.exitStatus() == 0)
        _ = try await viewer.next { $0["event"] as? String == "session-ended" && $0["reason"] as? Int == Int(CloseReason.endedByAgent.rawValue) }
    }

    @Test func theEndUserEndsAndTheViewerExitsZero() async throws {
        let broker = try await TestBroker.start()
        defer { Task { try? await broker.stop() } }
        let (link, _) = try await broker.desk.createInvitation(broker.token, ticket: "T-9", endUserName: "Hal", address: "127.0.0.1")
        let client = try ClientProcess(["--link", link, "--name", "Hal", "--accept", "view", "--synthetic", "64x48"])
        defer { client.kill() }
        // --first waits for a session when none is waiting yet; the protocol's TCP port this time.
        let viewer = try ViewerProcess(["--headless", "--tcp", "127.0.0.1:\(broker.tcpPort)", "--broker", "http://127.0.0.1:\(broker.httpPort)",
                                        "--token", broker.token, "--first", "--events"])
        defer { viewer.kill() }
        let started = try await viewer.next { $0["event"] as? String == "session-started" }
        #expect(started["mode"] as? Int == Int(AccessMode.viewOnly.rawValue))
        try await Self.expectSameFrame(viewer, client)
        // View only: input is not sent.
        viewer.send("click 5 5")
        let command = try await viewer.next { $0["event"] as? String == "command" }
        #expect(command["sent"] as? Bool == false)
        client.send("end")
        _ = try await viewer.next { $0["event"] as? String == "session-ended" && $0["reason"] as? Int == Int(CloseReason.endedByEndUser.rawValue) }
        #expect(try await viewer.exitStatus() == 0)
        #expect(try await client.exitStatus() == 0)
    }

    @Test func listsTheLobby() async throws {
        let broker = try await TestBroker.start()
        defer { Task { try? await broker.stop() } }
        let grant = try await broker.desk.issueConnectionID(broker.token, address: "127.0.0.1")
        let client = try ClientProcess(["--code", grant.code.formatted, "--broker", "http://127.0.0.1:\(broker.httpPort)",
                                        "--name", "Frank", "--machine", "frank-pc", "--accept", "decline"])
        defer { client.kill() }
        let joined = try await client.next { $0["event"] as? String == "joined" }
        let session = try #require(joined["session"] as? String)

        let viewer = try ViewerProcess(["--list", "--broker", "http://127.0.0.1:\(broker.httpPort)", "--token", broker.token])
        defer { viewer.kill() }
        #expect(try await viewer.exitStatus() == 0)
        let row = try #require(viewer.outputText.split(separator: "\n").first { $0.contains(session) }, "\(viewer.outputText)")
        #expect(row.contains("Frank") && row.contains("frank-pc") && row.contains("connection-id"))
    }

    @Test func aWrongPasswordExitsWithStatusTwo() async throws {
        let broker = try await TestBroker.start()
        defer { Task { try? await broker.stop() } }
        let viewer = try ViewerProcess(["--list", "--broker", "http://127.0.0.1:\(broker.httpPort)",
                                        "--email", "admin@localhost", "--password", "wrong"])
        defer { viewer.kill() }
        #expect(try await viewer.exitStatus() == 2)
        #expect(viewer.errorText.contains("wrong e-mail or password"))
        #expect(!viewer.errorText.contains("wrong\n") && !viewer.outputText.contains("wrong"))

        // The right password logs in (a password file, the way scripts should give it).
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rs-viewer-password-\(UUID().uuidString)")
        try Data((TestBroker.password + "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let good = try ViewerProcess(["--list", "--broker", "http://127.0.0.1:\(broker.httpPort)",
                                      "--email", "admin@localhost", "--password-file", file.path])
        defer { good.kill() }
        #expect(try await good.exitStatus() == 0)
        #expect(good.outputText.contains("No session is waiting."))

        // A new agent's password must be changed in the console first.
        let (_, initial) = try await broker.desk.createAgent(broker.token, email: "ivy@example.com", name: "Ivy", address: "127.0.0.1")
        let fresh = try ViewerProcess(["--list", "--broker", "http://127.0.0.1:\(broker.httpPort)", "--email", "ivy@example.com"],
                                      environment: ["RS_PASSWORD": initial])
        defer { fresh.kill() }
        #expect(try await fresh.exitStatus() == 2)
        #expect(fresh.errorText.contains("must be changed first"), "\(fresh.errorText)")

        // A token the broker does not know.
        let stale = try ViewerProcess(["--list", "--broker", "http://127.0.0.1:\(broker.httpPort)", "--token", "not-a-token"])
        defer { stale.kill() }
        #expect(try await stale.exitStatus() == 2)
        #expect(stale.errorText.contains("refused the token"), "\(stale.errorText)")

        // A token may begin with "-" (base64url): it is still taken as the value of --token.
        let dashed = try ViewerProcess(["--list", "--broker", "http://127.0.0.1:\(broker.httpPort)", "--token", "-" + String(repeating: "A", count: 42)])
        defer { dashed.kill() }
        #expect(try await dashed.exitStatus() == 2)
        #expect(dashed.errorText.contains("refused the token"), "\(dashed.errorText)")
    }

    @Test func opensAWindowUnderXvfb() async throws {
        guard let xvfb = Self.which("Xvfb") else {
            print("AgentViewerTests.opensAWindowUnderXvfb skipped: Xvfb is not installed")
            return
        }
        let display = try XvfbServer(xvfb)
        defer { display.stop() }
        let broker = try await TestBroker.start()
        defer { Task { try? await broker.stop() } }
        let grant = try await broker.desk.issueConnectionID(broker.token, address: "127.0.0.1")
        let client = try ClientProcess(["--code", grant.code.formatted, "--broker", "http://127.0.0.1:\(broker.httpPort)",
                                        "--name", "Gina", "--accept", "control", "--synthetic", "320x200"])
        defer { client.kill() }
        let viewer = try ViewerProcess(["--broker", "http://127.0.0.1:\(broker.httpPort)", "--token", broker.token,
                                        "--wait-for", "Gina", "--events"], display: display.name)
        defer { viewer.kill() }

        let started = try await viewer.next { $0["event"] as? String == "session-started" }
        let sas = try #require(started["sas"] as? String)
        let window = try await viewer.next { $0["event"] as? String == "window" }
        #expect(window["width"] as? Int == 320 && window["height"] as? Int == 200)
        _ = try await viewer.next { $0["event"] as? String == "drawn" }
        // The X server has the window, named after the end user, the mode and the security code.
        var tree = ""
        for _ in 0..<200 where !tree.contains("\"Gina - control - security code \(sas)\"") {
            tree = try Self.run("xwininfo", ["-root", "-tree", "-display", display.name])
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(tree.contains("\"Gina - control - security code \(sas)\""), "\(tree)")
        try await Self.expectSameFrame(viewer, client)

        // A click in the window reaches the end user (the window shows the screen 1:1 at this size).
        if Self.which("xdotool") != nil {
            _ = try Self.run("xdotool", ["search", "--sync", "--name", "^Gina - ", "mousemove", "--window", "%1", "40", "30", "click", "1"],
                             display: display.name)
            let click = try await client.next { $0["event"] as? String == "pointer" && $0["buttons"] as? Int == 1 }
            #expect(click["x"] as? Int == 40 && click["y"] as? Int == 30)
            // A key typed in the window: SDL's keycode for "a" is its keysym.
            _ = try Self.run("xdotool", ["search", "--sync", "--name", "^Gina - ", "windowfocus", "--sync", "%1", "key", "a"],
                             display: display.name)
            _ = try await client.next { $0["event"] as? String == "key" && $0["keysym"] as? Int == 0x61 && $0["down"] as? Bool == true }
            _ = try await client.next { $0["event"] as? String == "key" && $0["keysym"] as? Int == 0x61 && $0["down"] as? Bool == false }
            try await Self.expectSameFrame(viewer, client)
        }

        viewer.send("end")
        _ = try await client.next { $0["event"] as? String == "session-ended" && $0["reason"] as? Int == Int(CloseReason.endedByAgent.rawValue) }
        #expect(try await viewer.exitStatus() == 0)
        #expect(try await client.exitStatus() == 0)
    }

    // MARK: Helpers

    /// Waits (bounded) until the viewer's frame file equals the client's last shared frame, byte for byte
    /// (both binary PPM, RGB; `ClientProcess` gives the client's pixels in B, G, R order).
    static func expectSameFrame(_ viewer: ViewerProcess, _ client: ClientProcess) async throws {
        var same = false
        for _ in 0..<1000 where !same {
            if let shown = viewer.frameBGR(), let shared = client.frameBGR() { same = shown == shared }
            if !same { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(same, "the viewer's frame file equals the client's last shared frame")
    }

    static func which(_ program: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a program to its end (10 s at most) and returns its stdout.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], display: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(which(program)))
        process.arguments = arguments
        if let display { process.environment = ProcessInfo.processInfo.environment.merging(["DISPLAY": display]) { $1 } }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}

/// An X server without a screen (`Xvfb :N`), on a display number nobody uses.
final class XvfbServer: @unchecked Sendable {
    let process = Process()
    let name: String

    init(_ path: String) throws {
        var number = 90 + Int(getpid() % 50)
        while FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(number)") || FileManager.default.fileExists(atPath: "/tmp/.X\(number)-lock") {
            number += 1
        }
        name = ":\(number)"
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [name, "-screen", "0", "1280x800x24", "-nolisten", "tcp"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<500 where !FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(number)") { usleep(10_000) }
        guard process.isRunning, FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(number)") else {
            stop()
            throw Failure("Xvfb \(name) did not start")
        }
    }

    /// SIGKILL: a child of the test process inherits its blocked SIGTERM.
    func stop() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        for _ in 0..<500 where process.isRunning { usleep(10_000) }
    }
}
