import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `rs-broker` as a real process (the binary `swift build` made beside the tests), on loopback with its
/// own data folder: what an operator runs. Reads the ports and the first admin's password from stdout.
final class BrokerProcess: @unchecked Sendable {
    let process = Process()
    let dataDirectory: URL
    private(set) var httpPort = 0
    private(set) var protocolPort = 0
    private(set) var firstPassword: String?
    private let output = Pipe()
    private var stdoutText = ""

    /// The built binary: `.build/debug/rs-broker` (or `RS_BROKER_BINARY`).
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["RS_BROKER_BINARY"] { return URL(fileURLWithPath: path) }
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { root.deleteLastPathComponent() }
        return root.appendingPathComponent(".build/debug/rs-broker")
    }

    init(dataDirectory: URL, httpPort: Int, extra: [String] = []) {
        self.dataDirectory = dataDirectory
        self.httpPort = httpPort
        process.executableURL = Self.binary
        process.arguments = ["--data", dataDirectory.path, "--port", String(httpPort), "--protocol-port", "0", "--log-level", "warning",
                             "--organisation", "Example Ltd"] + extra
        var environment = ProcessInfo.processInfo.environment
        environment = environment.filter { !$0.key.hasPrefix("RS_") }
        process.environment = environment
        process.standardOutput = output
    }

    /// Starts it and waits for the "serving" lines (a hang guard of 60 s).
    func start() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else {
            throw Failure("\(Self.binary.path) is missing: run `swift build` first")
        }
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty {
                if !process.isRunning { throw Failure("rs-broker exited: \(process.terminationStatus)\n\(stdoutText)") }
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            stdoutText += String(decoding: data, as: UTF8.self)
            if let line = stdoutText.split(separator: "\n").first(where: { $0.contains("TCP") && $0.contains("127.0.0.1:") }),
               let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
                protocolPort = port
                let lines = stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                if let i = lines.firstIndex(where: { $0.contains("one-time password") }) {
                    guard i + 1 < lines.count, lines.contains(where: { $0.contains("it must be changed") }) else { continue }
                    firstPassword = lines[i + 1].trimmingCharacters(in: .whitespaces)
                }
                if stdoutText.contains("store:") { return }
            }
        }
        throw Failure("rs-broker did not report serving:\n\(stdoutText)")
    }

    /// The process's resident memory (VmRSS), in bytes.
    var residentBytes: Int {
        let text = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM; returns the exit status.
    func terminate() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    // MARK: HTTP

    struct HTTPResult {
        let status: Int
        let json: [String: Any]
        let headers: [AnyHashable: Any]
        let body: Data
    }

    func request(_ method: String, _ path: String, token: String? = nil, body: [String: Any]? = nil) async throws -> HTTPResult {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(httpPort)\(path)")!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let session = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return HTTPResult(status: http.statusCode, json: json, headers: http.allHeaderFields, body: data)
    }

    /// Logs in with `password`; returns the bearer token.
    func login(_ email: String, _ password: String) async throws -> String {
        let r = try await request("POST", "/api/v1/login", body: ["email": email, "password": password])
        guard r.status == 200, let token = r.json["token"] as? String else { throw Failure("login: \(r.status) \(r.json)") }
        return token
    }
}

/// Redirects are what the short-link test checks: do not follow them.
private final class NoRedirects: NSObject, URLSessionTaskDelegate {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}

/// A free TCP port on 127.0.0.1 (the broker's HTTP port is fixed across a restart).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw Failure("no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
