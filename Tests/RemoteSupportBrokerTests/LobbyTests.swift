import Foundation
import NIOCore
import NIOPosix
@testable import RemoteSupportBroker
import RemoteSupportCore
import RemoteSupportStore
import Testing

/// The live lobby: who sees a waiting end user (the agent whose link or code it used, and admins), over
/// the protocol and the console's event stream, and when it goes.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct LobbyTests {
    typealias EndUser = ProtocolClient<EndUserConnection>
    typealias Agent = ProtocolClient<AgentConnection>

    /// A second, non-admin agent past the default password; returns its token.
    static func addAgent(_ broker: TestBroker, _ email: String, _ name: String) async throws -> String {
        let (_, password) = try await broker.desk.createAgent(broker.token, email: email, name: name, address: "127.0.0.1")
        let first = try await broker.desk.login(email: email, password: password, address: "127.0.0.1")
        return try await broker.desk.changePassword(first.token.text, current: password, new: TestBroker.password, address: "127.0.0.1").token.text
    }

    static func agent(_ broker: TestBroker, _ token: String) async throws -> Agent {
        let agent = Agent(AgentConnection(now: Agent.now()))
        try await agent.connect(.tcp, port: broker.tcpPort)
        try agent.with { try $0.authenticate(token: token) }
        _ = try await agent.next { if case .authenticated = $0 { true } else { false } }
        return agent
    }

    @Test func onlyTheAddresseeAndAdminsSeeAWaitingSession() async throws {
        let broker = try await TestBroker.start()
        let bTokens = try await Self.addAgent(broker, "bea@example.com", "Bea")
        let cTokens = try await Self.addAgent(broker, "cid@example.com", "Cid")
        let admin = try await Self.agent(broker, broker.token)
        let bea = try await Self.agent(broker, bTokens)
        let cid = try await Self.agent(broker, cTokens)

        // The console's stream for Bea, as a browser would open it.
        let stream = try await EventStream.open(port: broker.httpPort, path: "/api/v1/lobby/events", token: bTokens)

        let grant = try await broker.desk.issueConnectionID(bTokens, ticket: "B-1", address: "127.0.0.1")
        let endUser = EndUser(EndUserConnection(now: EndUser.now()))
        try await endUser.connect(.tcp, port: broker.tcpPort)
        try endUser.with { try $0.join(.connectionID(grant.code.formatted), EndUserInfo(name: "Gil", machineName: "gil-pc", operatingSystem: "Linux")) }
        guard case .joined(let id) = try await endUser.next(where: { if case .joined = $0 { true } else { false } }) else { throw Failure() }
        for agent in [admin, bea] {
            guard case .lobbySession(let entry) = try await agent.next(where: { if case .lobbySession = $0 { true } else { false } }) else {
                throw Failure()
            }
            #expect(entry.sessionID == id)
            #expect(entry.ticket == "B-1")
        }
        let waiting = try await stream.next(event: "session.waiting")
        #expect(waiting.contains(id.description))
        #expect(waiting.contains("\"ticket\":\"B-1\""))

        // Cid may not see it: no entry arrives, and his HTTP lobby is empty while Bea's has it.
        try await Task.sleep(for: .milliseconds(300))
        #expect(!cid.pending.contains { if case .lobbySession = $0 { true } else { false } })
        #expect(try await broker.desk.lobby(cTokens).isEmpty)
        #expect(try await broker.desk.lobby(bTokens).map(\.id) == [id])

        // Cid cannot connect to it either.
        try cid.with { try $0.connect(to: id, mode: .control) }
        guard case .connectRefused(_, let reason, _) = try await cid.next(where: { if case .connectRefused = $0 { true } else { false } })
        else { throw Failure() }
        #expect(reason == .notAllowed)

        // The end user leaves: gone for both who saw it, and on the stream.
        endUser.with { $0.close(.normal, "") }
        for agent in [admin, bea] {
            guard case .lobbySessionGone(let gone, _) = try await agent.next(where: { if case .lobbySessionGone = $0 { true } else { false } })
            else { throw Failure() }
            #expect(gone == id)
        }
        #expect(try await stream.next(event: "session.gone").contains(id.description))
        await stream.close()

        // The metrics count what happened.
        let metrics = String(decoding: broker.running.hub.metrics.exposition(), as: UTF8.self)
        #expect(metrics.contains("rs_connections_total"))
        try await broker.stop()
    }

    @Test func streamStartsWithWhatIsWaitingAndNeedsAValidLogin() async throws {
        let broker = try await TestBroker.start()
        let grant = try await broker.desk.issueConnectionID(broker.token, address: "127.0.0.1")
        let endUser = EndUser(EndUserConnection(now: EndUser.now()))
        try await endUser.connect(.webSocket, port: broker.httpPort)
        try endUser.with { try $0.join(.connectionID(grant.code.formatted), EndUserInfo(name: "", machineName: "h", operatingSystem: "os")) }
        guard case .joined(let id) = try await endUser.next(where: { if case .joined = $0 { true } else { false } }) else { throw Failure() }

        let stream = try await EventStream.open(port: broker.httpPort, path: "/api/v1/lobby/events", token: broker.token)
        #expect(try await stream.next(event: "session.waiting").contains(id.description))
        await stream.close()

        let refused = try await EventStream.open(port: broker.httpPort, path: "/api/v1/lobby/events", token: "nope")
        #expect(try await refused.head().hasPrefix("HTTP/1.1 401"))
        await refused.close()
        try await broker.stop()
    }
}

/// A server-sent-events reader on a plain socket (what a browser's EventSource does).
final class EventStream: @unchecked Sendable {
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var text = ""

    private init(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, _ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.channel = channel
        self.iterator = iterator
    }

    static func open(port: Int, path: String, token: String) async throws -> EventStream {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        try await channel.outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer \(token)\r\n\r\n"))
        return EventStream(channel, channel.inbound.makeAsyncIterator())
    }

    private func read() async throws {
        guard let buffer = try await iterator.next() else { throw Failure("the stream ended: \(text)") }
        text += String(buffer: buffer)
    }

    /// The status line and headers.
    func head() async throws -> String {
        while !text.contains("\r\n\r\n") { try await read() }
        return String(text[..<text.range(of: "\r\n\r\n")!.lowerBound])
    }

    /// The data of the next event named `name` (earlier events are skipped).
    func next(event name: String) async throws -> String {
        while true {
            if let range = text.range(of: "event: \(name)\n") {
                while text[range.upperBound...].range(of: "\n\n") == nil { try await read() }
                let rest = text[range.upperBound...]
                let end = rest.range(of: "\n\n")!
                let data = String(rest[..<end.lowerBound])
                text = String(rest[end.upperBound...])
                return data
            }
            try await read()
        }
    }

    func close() async { try? await channel.channel.close() }
}
