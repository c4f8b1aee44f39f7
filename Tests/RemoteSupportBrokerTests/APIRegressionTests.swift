import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import NIOCore
import NIOPosix
@testable import RemoteSupportBroker
import RemoteSupportCore
import Testing

/// What the HTTP API got wrong once (found by schemathesis against Resources/openapi.yaml, see
/// Tests/API/run-schemathesis.sh, or by reading the routes while writing that document), each against a
/// real in-process broker.
@Suite("HTTP API regressions")
struct APIRegressionTests {
    /// A page cursor whose time does not fit the store's Int64 milliseconds crashed the broker (a trap in
    /// `Date.millisecondsSince1970` while the store built its query): now a 400 like any bad cursor.
    @Test func outOfRangePageCursorIsABadRequestNotACrash() async throws {
        try await withBroker { api in
            let token = try await api.adminToken()
            for milliseconds in ["9223372036854775807", "-9223372036854775808", "9223372036854775000"] {
                let (status, body, _) = try await api.request("GET",
                    "/api/v1/sessions?after=\(milliseconds).0b7a3c2e-9f7e-4d1e-8a51-3c4f1b2d6e7f", token: token)
                #expect(status == 400, "after=\(milliseconds)")
                #expect(body["error"] as? String == "invalid-field")
            }
            // A cursor in range still works, and the broker is still up.
            let (status, _, _) = try await api.request("GET", "/api/v1/sessions?after=1700000000000.0b7a3c2e-9f7e-4d1e-8a51-3c4f1b2d6e7f",
                                                       token: token)
            #expect(status == 200)
            #expect(try await api.request("GET", "/health").status == 200)
        }
    }

    /// RFC 3339 allows "t" and "z" in lower case; the time filters refused them (400).
    @Test func lowerCaseRFC3339TimesAreAccepted() async throws {
        try await withBroker { api in
            let token = try await api.adminToken()
            #expect(try await api.request("GET", "/api/v1/sessions?from=2024-01-01t00:00:00z", token: token).status == 200)
            #expect(try await api.request("GET", "/api/v1/audit?since=2024-01-01t00:00:00.5z", token: token).status == 200)
            #expect(try await api.request("GET", "/api/v1/audit?since=2024-01-01x00:00:00z", token: token).status == 400)
        }
    }

    /// A call without usable credentials is 401 with `WWW-Authenticate: Bearer` (RFC 9110 requires the
    /// challenge; the route set it, but the error middleware dropped the HTTPError's headers).
    @Test func unauthenticatedCallsCarryTheBearerChallenge() async throws {
        try await withBroker { api in
            for authorization in [nil, "Basic YWRtaW46YWRtaW4="] {
                // On a plain socket: URLSession (libcurl) acts on 401 challenges itself and may hide them.
                let head = try await rawResponseHead(port: api.port, path: "/api/v1/agents", authorization: authorization)
                #expect(head.hasPrefix("HTTP/1.1 401"), "\(head)")
                #expect(head.lowercased().contains("\r\nwww-authenticate: bearer\r\n"), "\(head)")
                #expect(head.lowercased().contains("\r\ncontent-type: application/json"), "\(head)")
                let (status, body, _) = try await api.request("GET", "/api/v1/agents", authorization: authorization)
                #expect(status == 401)
                #expect(body["message"] is String)
            }
        }
    }
}

/// The status line and headers of a GET, read from a plain socket.
private func rawResponseHead(port: Int, path: String, authorization: String?) async throws -> String {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    return try await channel.executeThenClose { inbound, outbound in
        let auth = authorization.map { "Authorization: \($0)\r\n" } ?? ""
        try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(auth)Connection: close\r\n\r\n"))
        var text = ""
        for try await buffer in inbound {
            text += String(buffer: buffer)
            if let end = text.range(of: "\r\n\r\n") { return String(text[..<end.upperBound]) }
        }
        return text
    }
}

// MARK: Support

/// A broker on loopback with a fresh SQLite store, stopped (and its folder removed) afterwards.
private func withBroker(_ body: (APIClient) async throws -> Void) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("api-regression-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    var configuration = BrokerConfiguration()
    configuration.port = 0
    configuration.protocolPort = 0
    configuration.dataDirectory = folder.path
    configuration.passwordHashing = .testing
    var logger = Logger(label: "api-regression")
    logger.logLevel = .warning
    let broker = try await Broker.start(configuration, logger: logger)
    let client = APIClient(base: "http://127.0.0.1:\(broker.httpPort)", port: broker.httpPort, firstAdmin: broker.firstAdmin)
    do {
        try await body(client)
    } catch {
        try? await broker.stop()
        throw error
    }
    try await broker.stop()
}

private struct APIClient: Sendable {
    let base: String
    let port: Int
    let firstAdmin: (email: String, password: String)?

    /// The first admin's token, after changing the one-time password.
    func adminToken() async throws -> String {
        let admin = try #require(firstAdmin)
        let (loginStatus, login, _) = try await request("POST", "/api/v1/login", json: ["email": admin.email, "password": admin.password])
        try #require(loginStatus == 200)
        let first = try #require(login["token"] as? String)
        let (changeStatus, changed, _) = try await request("POST", "/api/v1/me/password",
                                                           json: ["current": admin.password, "new": "regression test password"],
                                                           token: first)
        try #require(changeStatus == 200)
        return try #require(changed["token"] as? String)
    }

    func request(_ method: String, _ path: String, json: [String: String]? = nil, token: String? = nil,
                 authorization: String? = nil) async throws -> (status: Int, body: [String: Any], headers: [String: String]) {
        // headers: by lowercase name
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        let body = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (http.statusCode, body, headers)
    }
}

/// Findings of the `api` fuzz target (Tests/Fuzz/APIFuzz.swift), kept as tests.
struct APIFuzzFindingTests {
    /// "hTtps://..." is a valid URL (schemes ignore case): accepted, and kept with the scheme in lower case.
    @Test func webhookSchemeIsNormalised() throws {
        #expect(try WebhookRules.validURL("hTtps://hooks.example.com/rs?x=1") == "https://hooks.example.com/rs?x=1")
        #expect(try WebhookRules.validURL("HTTP://h.example/") == "http://h.example/")
    }

    @Test func queryFiltersRefuseWhatTheStoreCannotTake() throws {
        #expect(throws: DomainError(.invalidField)) { try QueryFilters.sessions(["from": "99999-01-01T00:00:00Z"]) }
        #expect(throws: DomainError(.invalidField)) { try QueryFilters.sessions(["limit": "0"]) }
        #expect(throws: DomainError(.invalidField)) { try QueryFilters.audit(["before": "-1"]) }
        #expect(try QueryFilters.sessions(["status": "waiting,ended", "limit": "500"]).limit == 500)
        #expect(QueryFilters.parameters([("a", "1"), ("a", "2")]) == ["a": "1"])
    }

    /// "\r\n" is one Character: a config file with Windows line ends was read as one line.
    @Test func configFileLines() throws {
        #expect(try ConfigFile.parse("# c\nport = 8080\n data-url = \"x y\" \r\n") == ["port": "8080", "data-url": "x y"])
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("port 8080") }
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("= 1") }
        #expect(try ConfigFile.parse("a = 1\r\nb = 2\rc = 3") == ["a": "1", "b": "2", "c": "3"])
    }
}
