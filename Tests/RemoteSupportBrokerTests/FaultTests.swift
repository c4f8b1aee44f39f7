import Foundation
@testable import RemoteSupportBroker
import RemoteSupportCore
import RemoteSupportStore
import Testing

/// What goes wrong in the field: a viewer that stops reading, a peer that vanishes or goes silent.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct FaultTests {
    typealias EndUser = ProtocolClient<EndUserConnection>
    typealias Agent = ProtocolClient<AgentConnection>

    static func pairedSession(_ broker: TestBroker, _ transport: EndUser.Transport = .tcp, agentTransport: EndUser.Transport? = nil,
                              agentReceiveBuffer: Int? = nil) async throws -> (EndUser, Agent, SessionID) {
        let grant = try await broker.desk.issueConnectionID(broker.token, address: "127.0.0.1")
        let (endUser, agent, entry) = try await SessionRelayTests.join(broker, transport, credential: .connectionID(grant.code.formatted),
                                                                       agentTransport: agentTransport, agentReceiveBuffer: agentReceiveBuffer)
        try await SessionRelayTests.connect(endUser, agent, entry, adminName: broker.adminName)
        return (endUser, agent, entry.sessionID)
    }

    /// An end user floods records (ignoring flow control) at a viewer that stopped reading: the broker
    /// stops reading from the end user once the viewer's backlog reaches the cap, so its memory for the
    /// session stays bounded however much is sent. The end user on each transport; the viewer on TCP with
    /// a fixed 64 KiB receive buffer, so what the sockets between the broker and the viewer hold does not
    /// depend on the kernel's autotuning (on Linux 6.18 a WebSocket viewer's let a 24 MiB flood vanish
    /// into them before the backlog filled).
    @Test(arguments: [EndUser.Transport.tcp, .webSocket])
    func stalledViewerDoesNotGrowTheBroker(_ transport: EndUser.Transport) async throws {
        let cap = 256 * 1024
        let broker = try await TestBroker.start { $0.hub.relayBufferBytes = cap }
        let (endUser, agent, _) = try await Self.pairedSession(broker, transport, agentTransport: .tcp, agentReceiveBuffer: 64 * 1024)
        agent.readingPaused.withLockedValue { $0 = true }

        // 64 MiB of 16 KiB records over TCP, far more than every buffer on the way can hold (the broker's
        // send buffer to the viewer takes up to tcp_wmem's 4 MiB, the end user's side up to tcp_rmem's
        // maximum). 16 MiB over WebSocket: the client library takes it all at once and masks it on an event
        // loop this process shares (in a debug build, slowly enough to hold up other tests).
        let record = [UInt8](repeating: 0xA5, count: 16 * 1024)
        var flood: [UInt8] = []
        for counter in 1_000..<(transport == .tcp ? 5_096 : 2_024) {
            flood += ControlMessage.record(SessionRecord(epoch: 0, counter: UInt64(counter), sealed: record)).frame.bytes
        }
        endUser.sendRaw(flood)

        // Samples until the backlog has filled to half the cap (how long the flood takes to get through
        // the kernel's buffers depends on the machine's load: up to 60 s, a hang guard), then 2 s more.
        var largest = 0
        var samples = 0, samplesAfterFilling = 0
        while samples < 1_200, samplesAfterFilling < 40 {
            try await Task.sleep(for: .milliseconds(50))
            largest = max(largest, broker.running.hub.largestBacklog)
            samples += 1
            if largest >= cap / 2 { samplesAfterFilling += 1 }
        }
        // The cap plus what one read can bring in (up to a few records) and one WebSocket frame.
        #expect(largest <= cap + 512 * 1024, "largest backlog \(largest) bytes, cap \(cap)")
        #expect(largest >= cap / 2, "the viewer's backlog filled up to about the cap (\(largest)); the end user's last events: \(endUser.pending.suffix(3)); the broker's links:\n\(broker.running.hub.diagnostics)")
        // Over TCP the flood is visibly held back at the end user's side (the broker stopped reading). The
        // WebSocket client library buffers what it is given, so there the process test below measures the
        // broker's memory instead.
        if transport == .tcp {
            #expect(endUser.rawPending > 24 << 20, "only \(flood.count - endUser.rawPending) of \(flood.count) bytes left the end user")
        }
        try await broker.stop()
    }

    /// The same against `rs-broker` as a process, measuring its resident memory: a 16 MiB flood at a
    /// stalled viewer (more than the sockets between the broker and the viewer hold) must not show up in
    /// the broker.
    @Test(arguments: [EndUser.Transport.tcp, .webSocket])
    func stalledViewerDoesNotGrowTheBrokerProcess(_ transport: EndUser.Transport) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rs-broker-stall-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let broker = BrokerProcess(dataDirectory: directory, httpPort: try freeLoopbackPort(), extra: ["--relay-buffer", "262144"])
        try await broker.start()
        defer { _ = broker.terminate() }
        let first = try #require(broker.firstPassword)
        let changed = try await broker.request("POST", "/api/v1/me/password", token: try await broker.login("admin@localhost", first),
                                               body: ["current": first, "new": "a long enough passphrase 42"])
        let token = try #require(changed.json["token"] as? String)
        let issued = try await broker.request("POST", "/api/v1/connection-ids", token: token, body: [:])
        let digits = try #require(issued.json["digits"] as? String)
        let port = transport == .tcp ? broker.protocolPort : broker.httpPort
        // The viewer on TCP with a fixed receive buffer, as in the test above.
        let agent = Agent(AgentConnection(now: Agent.now()))
        try await agent.connect(.tcp, port: broker.protocolPort, receiveBuffer: 64 * 1024)
        try agent.with { try $0.authenticate(token: token) }
        let endUser = EndUser(EndUserConnection(now: EndUser.now()))
        try await endUser.connect(transport, port: port)
        try endUser.with { try $0.join(.connectionID(digits), EndUserInfo(name: "", machineName: "m", operatingSystem: "os")) }
        guard case .lobbySession(let entry) = try await agent.next(where: { if case .lobbySession = $0 { true } else { false } }) else {
            throw Failure()
        }
        try await SessionRelayTests.connect(endUser, agent, entry, adminName: "Administrator")
        agent.readingPaused.withLockedValue { $0 = true }
        let before = broker.residentBytes
        let record = [UInt8](repeating: 0xA5, count: 16 * 1024)
        var flood: [UInt8] = []
        for counter in 1_000..<2_024 {
            flood += ControlMessage.record(SessionRecord(epoch: 0, counter: UInt64(counter), sealed: record)).frame.bytes
        }
        endUser.sendRaw(flood)
        var peak = before
        for _ in 0..<40 {
            try await Task.sleep(for: .milliseconds(100))
            peak = max(peak, broker.residentBytes)
        }
        let growth = peak - before
        print("stalled viewer over \(transport): broker RSS \(before >> 10) KiB -> peak \(peak >> 10) KiB, flood left at the sender \(endUser.rawPending >> 10) KiB")
        #expect(growth < 4 << 20, "the broker grew \(growth >> 10) KiB for a 16 MiB flood")
    }

    /// An end user whose connection drops without a word: the agent is told it is away, and when the grace
    /// period passes the session ends as lost, in the store too, and its connection is freed.
    @Test func vanishedPeerIsFreedAfterTheGrace() async throws {
        let broker = try await TestBroker.start { $0.hub.graceSeconds = 1 }
        let (endUser, agent, id) = try await Self.pairedSession(broker)
        endUser.drop()
        guard case .peerAway(let grace) = try await agent.next(where: { if case .peerAway = $0 { true } else { false } }) else { throw Failure() }
        #expect(grace == 1)
        guard case .sessionEnded(let reason, _) = try await agent.next(where: { if case .sessionEnded = $0 { true } else { false } })
        else { throw Failure() }
        #expect(reason == .peerLost)
        let stored = try await SessionRelayTests.storeStatus(broker, id, .ended)
        if case .ended(_, _, let why, _) = stored.state { #expect(why == .connectionLost) }
        #expect(broker.running.hub.sessionCounts == (0, 0))
        try await broker.stop()
    }

    /// A viewer that stops answering altogether (no bytes, no close): its keepalive deadline closes it,
    /// the end user is told it is away, and after the grace the session ends and both links are gone.
    @Test func silentViewerTimesOut() async throws {
        let broker = try await TestBroker.start { c in
            c.hub.graceSeconds = 1
            c.hub.connection.keepaliveInterval = 300
            c.hub.connection.keepaliveTimeout = 1_000
        }
        let (endUser, agent, id) = try await Self.pairedSession(broker)
        agent.frozen.withLockedValue { $0 = true }
        _ = try await endUser.next { if case .peerAway = $0 { true } else { false } }
        guard case .sessionEnded(let reason, _) = try await endUser.next(where: { if case .sessionEnded = $0 { true } else { false } })
        else { throw Failure() }
        #expect(reason == .peerLost)
        _ = try await SessionRelayTests.storeStatus(broker, id, .ended)
        // Both connections are gone from the broker: the viewer's by its deadline, the end user's after the end.
        var count = broker.running.hub.connectionCount
        for _ in 0..<200 where count > 0 {
            try await Task.sleep(for: .milliseconds(50))
            count = broker.running.hub.connectionCount
        }
        #expect(count == 0)
        try await broker.stop()
    }

    /// An end user who drops and comes back within the grace resumes the same session: the agent sees it
    /// away then back, and screen updates flow again.
    @Test func endUserResumes() async throws {
        let broker = try await TestBroker.start { $0.hub.graceSeconds = 30 }
        let (endUser, agent, id) = try await Self.pairedSession(broker)
        try await SessionRelayTests.screens(endUser, agent)
        endUser.drop()
        await endUser.waitUntilFinished()
        _ = try await agent.next { if case .peerAway = $0 { true } else { false } }
        #expect(endUser.peer.canResume)
        let back = EndUser(endUser.peer)
        try back.with { try $0.reconnect(now: EndUser.now()) }
        try await back.connect(.tcp, port: broker.tcpPort)
        _ = try await back.next { if case .resumed = $0 { true } else { false } }
        _ = try await agent.next { if case .peerResumed = $0 { true } else { false } }
        try await SessionRelayTests.screens(back, agent)
        #expect(try await broker.session(id)?.state.status == .connected)
        try await broker.stop()
    }
}
