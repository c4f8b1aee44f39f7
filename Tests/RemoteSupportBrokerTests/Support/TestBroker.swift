import Foundation
import Logging
@testable import RemoteSupportBroker
import RemoteSupportCore
import RemoteSupportStore

/// A broker in this process on loopback (free ports, a fresh SQLite folder, cheap password hashes), with
/// the first admin logged in and past the default password.
struct TestBroker {
    let running: RunningBroker
    let directory: URL
    /// The admin's bearer token (password already changed).
    let token: String
    let adminName: String

    static let password = "correct horse battery staple"

    static func start(_ adjust: (inout BrokerConfiguration) -> Void = { _ in }) async throws -> TestBroker {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rs-broker-test-\(UUID().uuidString)")
        var c = BrokerConfiguration()
        c.port = 0
        c.protocolPort = 0
        c.dataDirectory = directory.path
        c.passwordHashing = .testing
        c.shutdownGrace = .seconds(3)
        c.organisation = "Example Ltd"
        adjust(&c)
        var logger = Logger(label: "test-broker")
        logger.logLevel = ProcessInfo.processInfo.environment["RS_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let running = try await Broker.start(c, logger: logger)
        let desk = running.hub.desk
        let admin = running.firstAdmin!
        let first = try await desk.login(email: admin.email, password: admin.password, address: "127.0.0.1")
        let grant = try await desk.changePassword(first.token.text, current: admin.password, new: password, address: "127.0.0.1")
        return TestBroker(running: running, directory: directory, token: grant.token.text, adminName: grant.agent.name)
    }

    var desk: SupportDesk { running.hub.desk }
    var tcpPort: Int { running.protocolPort! }
    var httpPort: Int { running.httpPort }

    func port(for transport: ProtocolClient<EndUserConnection>.Transport) -> Int {
        transport == .tcp ? tcpPort : httpPort
    }

    /// The store's record of a session.
    func session(_ id: SessionID) async throws -> SupportSession? {
        try await running.store.session(id)
    }

    func stop() async throws {
        try await running.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A screen of `width` x `height` in BGRX with a pattern that changes with `seed`.
func testFrame(width: Int, height: Int, seed: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: width * height * 4)
    for y in 0..<height {
        for x in 0..<width {
            let i = (y * width + x) * 4
            bytes[i] = UInt8(truncatingIfNeeded: x * 3 + seed)
            bytes[i + 1] = UInt8(truncatingIfNeeded: y * 5 + seed * 7)
            bytes[i + 2] = UInt8(truncatingIfNeeded: (x ^ y) + seed)
        }
    }
    return bytes
}

func share(_ frame: [UInt8], width: Int, height: Int, from endUser: ProtocolClient<EndUserConnection>) throws -> Bool {
    try endUser.with { peer in
        try frame.withUnsafeBytes { raw in
            try peer.shareFrame(try FrameView(base: raw.baseAddress!, width: width, height: height, stride: width * 4, format: .bgrx8888))
        }
    }
}

/// The agent's decoded screen, bytes without the padding byte (compared with the shared frame).
func screenRGB(_ agent: ProtocolClient<AgentConnection>) -> [UInt8] {
    agent.with { a in
        guard let s = a.screen else { return [] }
        let all = UnsafeRawBufferPointer(start: s.pixels, count: s.stride * s.height)
        var out: [UInt8] = []
        out.reserveCapacity(s.width * s.height * 3)
        for i in stride(from: 0, to: all.count, by: 4) { out.append(contentsOf: all[i..<(i + 3)]) }
        return out
    }
}

func rgb(_ frame: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(frame.count / 4 * 3)
    for i in stride(from: 0, to: frame.count, by: 4) { out.append(contentsOf: frame[i..<(i + 3)]) }
    return out
}
