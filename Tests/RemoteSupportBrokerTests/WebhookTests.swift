import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
@testable import RemoteSupportBroker
import RemoteSupportCore
import RemoteSupportSQLite
import RemoteSupportStore
import ServiceLifecycle
import Synchronization
import Testing

/// The webhook dispatcher against a real HTTP receiver on loopback, over a SupportDesk on a fresh SQLite
/// store. Waits are hang guards (generous), never timing assertions: the machines are slow and shared.
@Suite struct WebhookTests {
    /// Milliseconds instead of seconds, so retries happen within a test.
    static let fast = WebhookPolicy(attempts: 5, firstDelay: .milliseconds(20), maximumDelay: .milliseconds(200),
                                    connectTimeout: .seconds(5), requestTimeout: .seconds(10))

    // MARK: Delivery

    @Test func waitingEventArrivesSigned() async throws {
        try await withFixture { f in
            let (hook, secret) = try await f.dispatcher.add(url: f.receiver.url("a"), events: nil, by: f.admin, address: "127.0.0.1")
            #expect(secret.count == 64 && secret.allSatisfy(\.isHexDigit))
            #expect(hook.events == ["session.waiting", "session.connected", "session.cancelled", "session.ended"])
            let session = try f.session(ticket: "INC-42")
            f.dispatcher.publish(.waiting(session))

            try await eventually { f.receiver.requests("a").count == 1 }
            let r = try #require(f.receiver.requests("a").first)
            #expect(r.method == "POST")
            #expect(r.header("Content-Type") == "application/json")
            #expect(r.header("User-Agent") == "rs-broker/\(Broker.version)")
            #expect(r.header("X-RS-Event") == "session.waiting")
            let timestamp = try #require(r.header("X-RS-Timestamp"))
            let seconds = try #require(Int64(timestamp))
            #expect(abs(seconds - Int64(Date().timeIntervalSince1970)) < 600)
            // The receiver's check: HMAC-SHA256 keyed with the secret over "<timestamp>.<body>".
            let expected = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + r.body,
                                                           using: SymmetricKey(data: Array(secret.utf8)))
            #expect(r.header("X-RS-Signature") == "sha256=" + expected.map { String(format: "%02x", $0) }.joined())

            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
            #expect(json["event"] as? String == "session.waiting")
            #expect(json["id"] as? String == r.header("X-RS-Delivery"))
            #expect(UUID(uuidString: r.header("X-RS-Delivery") ?? "") != nil)
            #expect((json["time"] as? String).flatMap(parseRFC3339) != nil)
            let body = try #require(json["session"] as? [String: Any])
            #expect(body["id"] as? String == session.id.description)
            #expect(body["ticket"] as? String == "INC-42")
            #expect(body["status"] as? String == "waiting")
            #expect((body["endUser"] as? [String: Any])?["name"] as? String == "Lei")
            #expect(json["agent"] == nil)
            #expect(!String(decoding: r.body, as: UTF8.self).contains(secret))
        }
    }

    @Test func eventsFilterIsHonoured() async throws {
        try await withFixture { f in
            _ = try await f.dispatcher.add(url: f.receiver.url("ended"), events: ["session.ended"], by: f.admin, address: "")
            _ = try await f.dispatcher.add(url: f.receiver.url("all"), events: [], by: f.admin, address: "")
            let session = try f.session()
            f.dispatcher.publish(.waiting(session))
            f.dispatcher.publish(.connected(session, agent: f.admin))
            f.dispatcher.publish(.ended(session.id, reason: "agent-left"))

            try await eventually { f.receiver.requests("all").count == 3 && f.receiver.requests("ended").count == 1 }
            #expect(Set(f.receiver.requests("all").compactMap { $0.header("X-RS-Event") })
                        == ["session.waiting", "session.connected", "session.ended"])
            let ended = try #require(f.receiver.requests("ended").first)
            #expect(ended.header("X-RS-Event") == "session.ended")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(ended.body)) as? [String: Any])
            let body = try #require(json["session"] as? [String: Any])
            #expect(body["id"] as? String == session.id.description)
            #expect(body["reason"] as? String == "agent-left")

            let connected = try #require(f.receiver.requests("all").first { $0.header("X-RS-Event") == "session.connected" })
            let connectedJSON = try #require(try JSONSerialization.jsonObject(with: Data(connected.body)) as? [String: Any])
            #expect((connectedJSON["agent"] as? [String: Any])?["id"] as? String == f.admin.id.description)
            // Nothing more arrives for the ended-only hook once the others are through.
            #expect(f.receiver.requests("ended").count == 1)
        }
    }

    @Test func failuresAreRetriedUnderTheSameDeliveryID() async throws {
        try await withFixture { f in
            f.receiver.fail("flaky", times: 2, with: 500)
            _ = try await f.dispatcher.add(url: f.receiver.url("flaky"), events: nil, by: f.admin, address: "")
            f.dispatcher.publish(.cancelled(SessionID(), reason: "end-user-left"))

            try await eventually { f.dispatcher.counts.delivered == 1 }
            let attempts = f.receiver.requests("flaky")
            #expect(attempts.count == 3)
            #expect(Set(attempts.compactMap { $0.header("X-RS-Delivery") }).count == 1)
            #expect(Set(attempts.map(\.body)).count == 1)
            #expect(f.dispatcher.counts.failed == 0)
        }
    }

    @Test func goneStopsRetrying() async throws {
        try await withFixture { f in
            f.receiver.fail("gone", times: 100, with: 410)
            _ = try await f.dispatcher.add(url: f.receiver.url("gone"), events: nil, by: f.admin, address: "")
            f.dispatcher.publish(.ended(SessionID(), reason: "agent-left"))
            try await eventually { f.dispatcher.counts.failed == 1 }
            #expect(f.receiver.requests("gone").count == 1)
        }
    }

    @Test func givesUpAfterTheLastAttempt() async throws {
        let policy = WebhookPolicy(attempts: 3, firstDelay: .milliseconds(10), maximumDelay: .milliseconds(50))
        try await withFixture(policy: policy) { f in
            f.receiver.fail("down", times: 100, with: 503)
            _ = try await f.dispatcher.add(url: f.receiver.url("down"), events: nil, by: f.admin, address: "")
            f.dispatcher.publish(.ended(SessionID(), reason: "agent-left"))
            try await eventually { f.dispatcher.counts.failed == 1 }
            #expect(f.receiver.requests("down").count == 3)
        }
    }

    @Test func deadEndpointDoesNotHoldUpAHealthyOne() async throws {
        // Few slots, slow retries and timeouts far past the hang guard: were a refused attempt to hold its slot
        // until a timeout, the healthy hook would starve and the guard would fail the test.
        let policy = WebhookPolicy(attempts: 8, firstDelay: .seconds(1), maximumDelay: .seconds(5), concurrency: 2,
                                   connectTimeout: .seconds(300), requestTimeout: .seconds(300))
        try await withFixture(policy: policy) { f in
            let closed = try await Self.closedPort()
            _ = try await f.dispatcher.add(url: "http://127.0.0.1:\(closed)/dead", events: nil, by: f.admin, address: "")
            _ = try await f.dispatcher.add(url: f.receiver.url("healthy"), events: nil, by: f.admin, address: "")
            for n in 1...5 { f.dispatcher.publish(.waiting(try f.session(ticket: "T-\(n)"))) }

            // Recorded by the receiver, then counted by the dispatcher once it has the answer.
            try await eventually { f.receiver.requests("healthy").count == 5 && f.dispatcher.counts.delivered == 5 }
            #expect(f.dispatcher.counts.retrying > 0 || f.dispatcher.counts.failed > 0)
        }
    }

    @Test func fullQueueDropsTheOldest() async throws {
        let policy = WebhookPolicy(attempts: 1, queueCapacity: 3)
        try await withFixture(policy: policy, running: false) { f in
            _ = try await f.dispatcher.add(url: f.receiver.url("q"), events: nil, by: f.admin, address: "")
            for n in 1...5 { f.dispatcher.publish(.waiting(try f.session(ticket: "Q-\(n)"))) }  // returns at once
            #expect(f.dispatcher.counts.dropped == 2)
            #expect(f.dispatcher.counts.queued == 3)

            try await f.run {
                try await eventually { f.receiver.requests("q").count == 3 }
            }
            let tickets = try f.receiver.requests("q").map { r in
                let json = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
                return (json["session"] as? [String: Any])?["ticket"] as? String ?? ""
            }
            #expect(Set(tickets) == ["Q-3", "Q-4", "Q-5"])
        }
    }

    @Test func backoffDoublesUpToTheCap() {
        let policy = WebhookPolicy.standard
        #expect((1...10).map { policy.delay(after: $0) }
                    == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300].map { Duration.seconds($0) })
        #expect(policy.attempts == 8 && policy.queueCapacity == 10_000 && policy.concurrency == 16)
    }

    // MARK: Registry

    @Test func hooksSurviveAReload() async throws {
        try await withFixture(running: false) { f in
            let (a, secretA) = try await f.dispatcher.add(url: "https://help.example.com/hooks/rs?token=abc",
                                                          events: ["session.ended", "session.waiting"], by: f.admin, address: "")
            let (b, secretB) = try await f.dispatcher.add(url: "http://127.0.0.1:9/b", events: nil, by: f.admin, address: "")
            #expect(a.events == ["session.waiting", "session.ended"])  // canonical order

            let reloaded = WebhookDispatcher(desk: f.desk, logger: f.logger)
            try await reloaded.load()
            let listed = try await reloaded.list()
            #expect(listed == [a, b])
            let json = try JSONEncoder().encode(WebhookListBody(webhooks: listed.map(WebhookBody.init)))
            let text = String(decoding: json, as: UTF8.self)
            #expect(!text.contains(secretA) && !text.contains(secretB) && !text.contains("secret"))
            // The store keeps the secret: a reloaded dispatcher signs with the same one.
            let stored = try StoredWebhooks.decode(try await f.desk.store.setting("webhooks"))
            #expect(stored.map(\.secret) == [secretA, secretB])
        }
    }

    @Test func invalidRegistrationsAreRejected() async throws {
        try await withFixture(running: false) { f in
            let bad = ["", "example.com/hook", "/relative", "ftp://example.com/x", "javascript:alert(1)", "http://",
                       "https:///path", "http://user:pw@example.com/x", "https://token@example.com/x",
                       "http://exa mple.com/", "http://example.com/\n", "http://example.com/" + String(repeating: "x", count: 2048)]
            for url in bad {
                let error = await #expect(throws: DomainError.self, "\(url)") {
                    try await f.dispatcher.add(url: url, events: nil, by: f.admin, address: "")
                }
                #expect(error?.code == .invalidField, "\(url)")
            }
            let unknown = await #expect(throws: DomainError.self) {
                try await f.dispatcher.add(url: "https://example.com/x", events: ["session.waiting", "session.exploded"],
                                           by: f.admin, address: "")
            }
            #expect(unknown?.code == .invalidField)
            #expect(try await f.dispatcher.list().isEmpty)

            _ = try await f.dispatcher.add(url: "HTTPS://Example.com:8443/x", events: nil, by: f.admin, address: "")
            for n in 2...WebhookRules.maximumHooks {
                _ = try await f.dispatcher.add(url: "https://example.com/\(n)", events: nil, by: f.admin, address: "")
            }
            let tooMany = await #expect(throws: DomainError.self) {
                try await f.dispatcher.add(url: "https://example.com/51", events: nil, by: f.admin, address: "")
            }
            #expect(tooMany?.code == .conflict)
            #expect(try await f.dispatcher.list().count == WebhookRules.maximumHooks)
        }
    }

    @Test func removeWorksAndIsAudited() async throws {
        try await withFixture { f in
            let (hook, _) = try await f.dispatcher.add(url: f.receiver.url("r"), events: nil, by: f.admin, address: "10.1.2.3")
            try await f.dispatcher.remove(id: hook.id, by: f.admin, address: "10.1.2.4")
            #expect(try await f.dispatcher.list().isEmpty)
            let missing = await #expect(throws: DomainError.self) {
                try await f.dispatcher.remove(id: hook.id, by: f.admin, address: "")
            }
            #expect(missing?.code == .notFound)

            let added = try await f.desk.store.auditEvents(AuditQuery(action: AuditAction(rawValue: "webhook.added")))
            let removed = try await f.desk.store.auditEvents(AuditQuery(action: AuditAction(rawValue: "webhook.removed")))
            #expect(added.count == 1 && removed.count == 1)
            #expect(added.first?.subject == hook.url && added.first?.address == "10.1.2.3")
            #expect(removed.first?.subject == hook.url && removed.first?.address == "10.1.2.4")
            #expect(removed.first?.actor.agentID == f.admin.id)

            // A removed hook gets nothing.
            f.dispatcher.publish(.ended(SessionID(), reason: "agent-left"))
            #expect(f.dispatcher.counts.queued == 0)
            #expect(f.receiver.requests("r").isEmpty)
        }
    }

    // MARK: Fixture

    struct Fixture {
        let desk: SupportDesk
        let admin: Agent
        let dispatcher: WebhookDispatcher
        let receiver: WebhookReceiver
        let logger: Logger

        func session(ticket: String? = nil) throws -> SupportSession {
            SupportSession(agentID: admin.id, joinMethod: .personalLink, joinReference: nil, ticket: ticket, invitedName: nil,
                           endUser: try EndUserDetails(name: "Lei", machineName: "PC-7", operatingSystem: "Linux", address: "10.0.0.9"),
                           created: Date())
        }

        /// Runs the dispatcher around `body`, then stops it (as the broker's shutdown does).
        func run(_ body: () async throws -> Void) async throws {
            let task = Task { await dispatcher.run() }
            do {
                try await body()
            } catch {
                task.cancel()
                await task.value
                throw error
            }
            task.cancel()
            await task.value
        }
    }

    /// A desk over a fresh SQLite store, the first admin, a receiver, and a dispatcher (running unless told).
    func withFixture(policy: WebhookPolicy = fast, running: Bool = true, _ body: (Fixture) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rs-webhooks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteStore(path: folder.appendingPathComponent("test.sqlite").path)
        defer { try? store.close() }
        let desk = try SupportDesk(store: store, configuration: .init(publicURL: try PublicURL("http://127.0.0.1:1"),
                                                                      passwordHashing: .testing))
        let (admin, _) = try #require(try await desk.bootstrap())
        let level = ProcessInfo.processInfo.environment["RS_TEST_LOG"].flatMap(Logger.Level.init(rawValue:))
        var logger = Logger(label: "webhook-test")
        logger.logLevel = level ?? .error
        var quiet = Logger(label: "webhook-receiver")
        quiet.logLevel = level ?? .critical  // its shutdown on cancellation logs errors that are no fault
        try await WebhookReceiver.serve(logger: quiet) { receiver in
            let dispatcher = WebhookDispatcher(desk: desk, logger: logger, policy: policy)
            try await dispatcher.load()
            let fixture = Fixture(desk: desk, admin: admin, dispatcher: dispatcher, receiver: receiver, logger: logger)
            if running {
                try await fixture.run { try await body(fixture) }
            } else {
                try await body(fixture)
            }
        }
    }

    /// A loopback port nothing listens on (bound a moment ago, then closed): connections are refused.
    static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        return port
    }
}

/// Polls `condition` until it holds; fails the test after `limit` (a hang guard, not a timing assertion).
private func eventually(_ limit: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation,
                _ condition: () -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while !condition() {
        guard clock.now < deadline else {
            Issue.record("condition not met within \(limit)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// An HTTP server on 127.0.0.1 (a free port) that records every POST to /hooks/<name> and answers 200,
/// or a chosen status for the first n requests to a name.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        let method: String
        /// By lowercased name.
        let headers: [String: String]
        let body: [UInt8]

        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    let port: Int
    private let received = Mutex<[String: [Received]]>([:])
    private let failures = Mutex<[String: (times: Int, status: Int)]>([:])

    private init(port: Int) { self.port = port }

    func url(_ name: String) -> String { "http://127.0.0.1:\(port)/hooks/\(name)" }
    func requests(_ name: String) -> [Received] { received.withLock { $0[name] ?? [] } }
    func fail(_ name: String, times: Int, with status: Int) { failures.withLock { $0[name] = (times, status) } }

    private func record(_ name: String, _ request: Received) -> HTTPResponse.Status {
        received.withLock { $0[name, default: []].append(request) }
        return failures.withLock { f -> HTTPResponse.Status in
            guard let failure = f[name], failure.times > 0 else { return .ok }
            f[name] = (failure.times - 1, failure.status)
            return HTTPResponse.Status(code: failure.status)
        }
    }

    /// Serves for the duration of `body`.
    static func serve(logger: Logger, _ body: (WebhookReceiver) async throws -> Void) async throws {
        let holder = Mutex<WebhookReceiver?>(nil)
        let (ports, portInput) = AsyncStream.makeStream(of: Int.self)
        let router = Router()
        router.post("hooks/:name") { request, context -> Response in
            let name = try context.parameters.require("name")
            let bytes = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName, default: ""] += field.value }
            let received = Received(method: request.method.rawValue, headers: headers, body: Array(buffer: bytes))
            let status = holder.withLock { $0 }?.record(name, received) ?? .serviceUnavailable
            return Response(status: status)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  portInput.yield(channel.localAddress?.port ?? 0)
                                  portInput.finish()
                              },
                              logger: logger)
        // Stopped by a graceful shutdown, as the broker stops its own server, not by cancelling it.
        let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let server = Task { try await services.run() }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        let receiver = WebhookReceiver(port: port)
        holder.withLock { $0 = receiver }
        var failure: (any Error)?
        do {
            guard port > 0 else { throw CancellationError() }
            try await body(receiver)
        } catch {
            failure = error
        }
        await services.triggerGracefulShutdown()
        try await server.value
        if let failure { throw failure }
    }
}
