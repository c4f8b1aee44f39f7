import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// The agent's login on the broker's HTTP API (`POST /api/v1/login`, docs/broker.md): e-mail and password
/// for a bearer token, which then authenticates the protocol connection. The password is sent once and
/// never printed.
enum BrokerLogin {
    struct Grant: Decodable, Sendable {
        struct Agent: Decodable, Sendable {
            var name: String
        }
        var token: String
        var mustChangePassword: Bool
        var agent: Agent
    }

    /// Why there is no token, in words for the person at the terminal.
    struct Failure: Error, CustomStringConvertible {
        enum Kind { case refused, unreachable }
        /// `refused`: the broker said no (wrong password, slowed down, password change due): the user's
        /// problem, exit status 2. `unreachable`: no usable answer, exit status 1.
        var kind: Kind
        var description: String
    }

    private struct ErrorBody: Decodable {
        var error: String?
        var message: String?
        var retryAfter: Int?
    }

    /// Logs in at `broker` (`http(s)://host[:port]`) and returns the grant of a login that may be used
    /// (one whose password must be changed first is a failure).
    static func login(broker: String, email: String, password: String, tls: TLSConfiguration) async throws(Failure) -> Grant {
        var base = broker
        while base.hasSuffix("/") { base.removeLast() }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(10), read: .seconds(30)))
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let answer: Result<(status: Int, body: [UInt8]), any Error>
        do {
            var request = HTTPClientRequest(url: base + "/api/v1/login")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(Array(try JSONEncoder().encode(["email": email, "password": password])))
            let response = try await client.execute(request, timeout: .seconds(30))
            answer = .success((Int(response.status.code), Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)))
        } catch {
            answer = .failure(error)
        }
        try? await client.shutdown()
        let status: Int, body: [UInt8]
        switch answer {
        case .success(let a): (status, body) = (a.status, a.body)
        case .failure(let error): throw Failure(kind: .unreachable, description: "cannot reach the broker at \(base): \(error)")
        }

        switch status {
        case 200:
            guard let grant = try? JSONDecoder().decode(Grant.self, from: Data(body)) else {
                throw Failure(kind: .unreachable, description: "the broker's login answer is not understood")
            }
            guard !grant.mustChangePassword else {
                throw Failure(kind: .refused, description: "the password of \(email) must be changed first: "
                              + "log in to the console at \(base)/console/ and choose a new one, then try again")
            }
            return grant
        case 401:
            throw Failure(kind: .refused, description: "login refused: wrong e-mail or password")
        case 429:
            let wait = (try? JSONDecoder().decode(ErrorBody.self, from: Data(body)))?.retryAfter
            throw Failure(kind: .refused, description: "too many login attempts: try again"
                          + (wait.map { " in \($0) s" } ?? " later"))
        default:
            let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(body))
            throw Failure(kind: .refused, description: "login refused (HTTP \(status))"
                          + (error?.message.map { ": \($0)" } ?? ""))
        }
    }
}
