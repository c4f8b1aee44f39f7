import Foundation
import Testing

/// One of the example programs (`rs-client`, `rs-viewer`) as a process beside the tests: the JSON lines
/// of `--events` from stdout (other output kept as text), stderr kept, commands to stdin, and `--frame-out`
/// to a file of its own.
class ProgramProcess: @unchecked Sendable {
    let process = Process()
    let name: String
    let frameFile: URL
    private let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
    private let lock = NSLock()
    private var lines: [[String: Any]] = []
    private var output = Data(), buffer = Data(), errors = Data()

    /// The built program beside `rs-broker` (`.build/debug/<name>`).
    static func binary(_ name: String) -> URL { BrokerProcess.binary.deletingLastPathComponent().appendingPathComponent(name) }

    init(_ name: String, _ arguments: [String], environment extra: [String: String?] = [:]) throws {
        self.name = name
        frameFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).ppm")
        let binary = Self.binary(name)
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw Failure("\(binary.path) is missing: run `swift build`") }
        process.executableURL = binary
        process.arguments = arguments + ["--frame-out", frameFile.path]
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        stdout.fileHandleForReading.readabilityHandler = { [weak self] h in self?.received(h.availableData) }
        stderr.fileHandleForReading.readabilityHandler = { [weak self] h in
            let data = h.availableData
            self?.lock.withLock { self?.errors.append(data) }
        }
        try process.run()
    }

    private func received(_ data: Data) {
        lock.withLock {
            output.append(data)
            buffer.append(data)
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[(newline + 1)...])
                if let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] { lines.append(object) }
            }
        }
    }

    var outputText: String { lock.withLock { String(decoding: output, as: UTF8.self) } }
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
        let seen = lock.withLock { lines.filter { $0["event"] as? String != "drawn" } }
        throw Failure("\(name) never printed the event; it printed \(seen) and said \(errorText)")
    }

    func send(_ line: String) { stdin.fileHandleForWriting.write(Data((line + "\n").utf8)) }

    /// The last frame written with --frame-out, as B, G, R bytes per pixel: the order of a BGRX
    /// framebuffer without its padding byte (as `screenRGB` gives the agent's).
    func frameBGR() -> [UInt8]? {
        guard let data = try? Data(contentsOf: frameFile) else { return nil }
        var newlines = 0
        guard let end = data.firstIndex(where: { byte in
            if byte == 0x0A { newlines += 1 }
            return newlines == 3
        }) else { return nil }
        var pixels = [UInt8](data[(end + 1)...])
        for i in stride(from: 0, to: pixels.count - 2, by: 3) { pixels.swapAt(i, i + 2) }
        return pixels
    }

    func exitStatus() async throws -> Int32 {
        for _ in 0..<3000 where process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        guard !process.isRunning else { throw Failure("\(name) did not exit; it said \(errorText)") }
        return process.terminationStatus
    }

    /// SIGKILL: processes started from the test runner inherit its blocked signals and ignore SIGTERM.
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? FileManager.default.removeItem(at: frameFile)
    }
}

/// `rs-client`, the end user's program, reporting its events.
final class ClientProcess: ProgramProcess, @unchecked Sendable {
    init(_ arguments: [String]) throws { try super.init("rs-client", arguments + ["--events"]) }
}

/// `rs-viewer`, the agent's program (a window on `display`, or headless).
final class ViewerProcess: ProgramProcess, @unchecked Sendable {
    init(_ arguments: [String], display: String? = nil, environment extra: [String: String] = [:]) throws {
        var environment: [String: String?] = ["DISPLAY": display, "RS_PASSWORD": nil]
        for (key, value) in extra { environment[key] = value }
        try super.init("rs-viewer", arguments, environment: environment)
    }
}
