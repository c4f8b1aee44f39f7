import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import RemoteSupportBroker
import RemoteSupportCore
import Testing

/// The HTTP side's defences: the login cookie's attributes and CSRF rule, every API call authenticated,
/// admin calls authorised, security headers on pages, rate-limited logins.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SecurityTests {
    static func call(_ port: Int, _ method: String, _ path: String, headers: [String: String] = [:],
                     json: [String: Any]? = nil) async throws -> (Int, [String: String], [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.httpShouldHandleCookies = false
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession(configuration: .ephemeral).data(for: request)
        let http = response as! HTTPURLResponse
        var out: [String: String] = [:]
        for (k, v) in http.allHeaderFields { if let k = k as? String, let v = v as? String { out[k.lowercased()] = v } }
        return (http.statusCode, out, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    @Test func cookieNeedsTheCSRFHeaderForChanges() async throws {
        let broker = try await TestBroker.start()
        let port = broker.httpPort
        let (status, headers, _) = try await Self.call(port, "POST", "/api/v1/login",
                                                       json: ["email": "admin@localhost", "password": TestBroker.password])
        #expect(status == 200)
        let cookie = try #require(headers["set-cookie"])
        #expect(cookie.hasPrefix("rs_login="))
        #expect(cookie.contains("HttpOnly"))
        #expect(cookie.contains("SameSite=Strict"))
        let value = String(cookie.split(separator: ";")[0])

        // Reading with the cookie is fine; a change without the header is refused, with it allowed.
        #expect(try await Self.call(port, "GET", "/api/v1/me", headers: ["Cookie": value]).0 == 200)
        let (refused, _, refusal) = try await Self.call(port, "POST", "/api/v1/connection-ids", headers: ["Cookie": value], json: [:])
        #expect(refused == 403)
        #expect(refusal["error"] as? String == "forbidden")
        #expect(try await Self.call(port, "POST", "/api/v1/connection-ids", headers: ["Cookie": value, "X-Requested-By": "console"],
                                    json: [:]).0 == 201)
        // No credentials, or a made-up token: 401 everywhere.
        for path in ["/api/v1/me", "/api/v1/lobby", "/api/v1/sessions", "/api/v1/agents", "/api/v1/audit", "/api/v1/webhooks"] {
            let (status, _, body) = try await Self.call(port, "GET", path)
            #expect(status == 401, "\(path)")
            #expect(body["error"] as? String == "unauthenticated", "\(path)")
            #expect(try await Self.call(port, "GET", path, headers: ["Authorization": "Bearer made-up"]).0 == 401, "\(path)")
        }
        try await broker.stop()
    }

    @Test func adminCallsNeedAnAdmin() async throws {
        let broker = try await TestBroker.start()
        let agentToken = try await LobbyTests.addAgent(broker, "dee@example.com", "Dee")
        let bearer = ["Authorization": "Bearer \(agentToken)"]
        for (method, path) in [("GET", "/api/v1/agents"), ("GET", "/api/v1/audit"), ("GET", "/api/v1/webhooks")] {
            #expect(try await Self.call(broker.httpPort, method, path, headers: bearer).0 == 403, "\(path)")
        }
        #expect(try await Self.call(broker.httpPort, "POST", "/api/v1/agents", headers: bearer,
                                    json: ["email": "x@example.com", "name": "X"]).0 == 403)
        #expect(try await Self.call(broker.httpPort, "GET", "/api/v1/me", headers: bearer).0 == 200)
        try await broker.stop()
    }

    @Test func pagesCarrySecurityHeaders() async throws {
        let broker = try await TestBroker.start()
        for path in ["/", "/health", "/join/nobody"] {
            let (_, headers, _) = try await Self.call(broker.httpPort, "GET", path)
            #expect(headers["content-security-policy"]?.contains("default-src 'self'") == true, "\(path)")
            #expect(headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true, "\(path)")
            #expect(headers["x-frame-options"] == "DENY", "\(path)")
            #expect(headers["x-content-type-options"] == "nosniff", "\(path)")
            #expect(headers["referrer-policy"] == "no-referrer", "\(path)")
        }
        try await broker.stop()
    }

    @Test func loginsAreRateLimitedPerAddress() async throws {
        let broker = try await TestBroker.start()
        var limited: (Int, [String: String])?
        for _ in 0..<40 {
            let (status, headers, body) = try await Self.call(broker.httpPort, "POST", "/api/v1/login",
                                                              json: ["email": "admin@localhost", "password": "wrong password"])
            if status == 429 {
                limited = (status, headers)
                #expect(body["error"] as? String == "rate-limited")
                break
            }
            #expect(status == 401)
        }
        let (_, headers) = try #require(limited, "40 wrong passwords in a row are never all answered")
        #expect(Int(headers["retry-after"] ?? "") ?? 0 >= 1)
        let metrics = String(decoding: broker.running.hub.metrics.exposition(), as: UTF8.self)
        #expect(metrics.contains("rs_rate_limited_total{what=\"login\"}"))
        try await broker.stop()
    }
}
