import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import NIOHTTP1
import Hummingbird
import NIOCore
@testable import RemoteSupportBroker
import RemoteSupportCore
import Testing

/// The console's files under `/console/` (from `--console-dir` here, so the test does not depend on the
/// console's content), `/` leading there, and the browser viewer's login: an empty `authenticate` on
/// `/ws` counts the login cookie only when the page's Origin is the broker's own.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ConsoleServingTests {
    typealias Agent = ProtocolClient<AgentConnection>

    static func consoleFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rs-console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("js"), withIntermediateDirectories: true)
        try Data("<!doctype html><title>console test</title>".utf8).write(to: folder.appendingPathComponent("index.html"))
        try Data("export const ok = 1;\n".utf8).write(to: folder.appendingPathComponent("js/app.js"))
        return folder
    }

    @Test func servesTheConsoleAndLeadsThere() async throws {
        let folder = try Self.consoleFolder()
        let broker = try await TestBroker.start { $0.consoleDirectory = folder.path }
        defer { Task { try? await broker.stop() } }
        let base = "http://127.0.0.1:\(broker.httpPort)"

        let (home, homeResponse) = try await URLSession(configuration: .ephemeral).data(from: URL(string: base + "/")!)
        #expect((homeResponse as? HTTPURLResponse)?.statusCode == 200)
        #expect(homeResponse.url?.path == "/console", "\(String(describing: homeResponse.url))")  // Foundation drops the slash
        #expect(String(decoding: home, as: UTF8.self).contains("console test"))

        let (_, script) = try await URLSession(configuration: .ephemeral).data(from: URL(string: base + "/console/js/app.js")!)
        let http = try #require(script as? HTTPURLResponse)
        #expect(http.statusCode == 200)
        #expect((http.value(forHTTPHeaderField: "Content-Type") ?? "").contains("javascript"))
        #expect(http.value(forHTTPHeaderField: "Cache-Control") == "no-cache")
        #expect(http.value(forHTTPHeaderField: "Content-Security-Policy")?.contains("default-src 'self'") == true)
        #expect(http.value(forHTTPHeaderField: "ETag") != nil)

        let (_, missing) = try await URLSession(configuration: .ephemeral).data(from: URL(string: base + "/console/nothing.js")!)
        #expect((missing as? HTTPURLResponse)?.statusCode == 404)
        let (_, escape) = try await URLSession(configuration: .ephemeral).data(from: URL(string: base + "/console/%2e%2e/%2e%2e/etc/passwd")!)
        #expect((escape as? HTTPURLResponse)?.statusCode != 200)
    }

    @Test func aConsoleFolderWithoutIndexIsAClearError() async throws {
        var c = BrokerConfiguration()
        c.consoleDirectory = FileManager.default.temporaryDirectory.path + "/rs-no-console-\(UUID().uuidString)"
        #expect(throws: ConfigurationError.self) { try c.validate() }
    }

    /// The whole path with a real browser is in Tests/Console (the viewer logs in this way); here the
    /// refusals over a real socket, and the rule on upgrade requests.
    @Test func theViewerLogsInWithTheCookieOnlyFromItsOwnOrigin() async throws {
        let broker = try await TestBroker.start()
        defer { Task { try? await broker.stop() } }
        let own = "http://127.0.0.1:\(broker.httpPort)"
        let cookie = "\(APIRoutes.cookieName)=\(broker.token)"
        // (This client always sends an Origin of its own too: two Origins, which no browser sends.)
        for headers: HTTPFields in [[.cookie: cookie, .origin: "http://evil.example"], [.origin: own], [.cookie: cookie, .origin: own]] {
            let other = Agent(AgentConnection(now: Agent.now()))
            try await other.connect(.webSocket, port: broker.httpPort, headers: headers)
            try other.with { try $0.authenticate(token: "") }
            guard case .closed(let reason, _, _) = try await other.next(where: { if case .closed = $0 { true } else { false } })
            else { throw Failure() }
            #expect(reason == .authenticationFailed, "\(headers)")
        }
        // A token in `authenticate` still works on the same socket kind.
        let agent = Agent(AgentConnection(now: Agent.now()))
        try await agent.connect(.webSocket, port: broker.httpPort)
        try agent.with { try $0.authenticate(token: broker.token) }
        _ = try await agent.next { if case .authenticated = $0 { true } else { false } }

        let publicURL = try PublicURL(own)
        func upgrade(_ fields: [(String, String)]) -> NIOHTTP1.HTTPHeaders {
            NIOHTTP1.HTTPHeaders([("Host", "127.0.0.1:\(broker.httpPort)")] + fields)
        }
        #expect(WebSocketLogin.browserToken(upgrade([("Cookie", cookie), ("Origin", own)]), publicURL: publicURL) == broker.token)
        #expect(WebSocketLogin.browserToken(upgrade([("Cookie", "theme=dark; " + cookie), ("Origin", own)]), publicURL: publicURL) == broker.token)
        #expect(WebSocketLogin.browserToken(upgrade([("Cookie", cookie), ("Origin", "http://evil.example")]), publicURL: publicURL) == nil)
        #expect(WebSocketLogin.browserToken(upgrade([("Cookie", cookie)]), publicURL: publicURL) == nil)
        #expect(WebSocketLogin.browserToken(upgrade([("Cookie", cookie), ("Origin", own), ("Origin", "http://evil.example")]),
                                            publicURL: publicURL) == nil)
    }

    /// The console offers a mailto: link exactly when the broker says it has no mail relay.
    @Test func emailWithoutAMailRelayIsNotConfigured() async throws {
        let broker = try await TestBroker.start()
        defer { Task { try? await broker.stop() } }
        let link = try await broker.desk.personalLink(broker.token)
        let (status, _, body) = try await SecurityTests.call(broker.httpPort, "POST", "/api/v1/emails", headers: ["Authorization": "Bearer \(broker.token)"],
                                                             json: ["to": "zoe@example.org", "link": link])
        #expect(status == 503)
        #expect(body["error"] as? String == "not-configured")
    }

    @Test func ownOriginRules() {
        #expect(WebSocketLogin.isOwn(origin: "https://support.example.com", publicURL: "https://Support.Example.com/", host: nil))
        #expect(WebSocketLogin.isOwn(origin: "http://127.0.0.1:8080", publicURL: "https://support.example.com", host: "127.0.0.1:8080"))
        #expect(!WebSocketLogin.isOwn(origin: "https://support.example.com.evil.net", publicURL: "https://support.example.com", host: "support.example.com"))
        #expect(!WebSocketLogin.isOwn(origin: "null", publicURL: "https://support.example.com", host: "support.example.com"))
        #expect(!WebSocketLogin.isOwn(origin: "https://evil.example", publicURL: "https://support.example.com", host: nil))
        #expect(WebSocketLogin.origin(of: "https://a.example:8443/base/path?q") == "https://a.example:8443")
    }
}
