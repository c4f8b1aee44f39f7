import Foundation
import Testing
@testable import RemoteSupportCore

@Suite("Protocol: end-to-end encryption and out-of-state messages")
struct SecurityTests {
    static let sessionID = SessionID(UUID(uuidString: "00000000-0000-4000-8000-000000000001")!)

    /// An end user's and an agent's channels with keys agreed, and a link to seal into.
    struct Pair {
        var endUser: SecureChannel
        var agent: SecureChannel
        var link = HopLink(role: .endUser, expectedPeers: [.broker], options: ConnectionOptions(), now: 0)

        init(options: ConnectionOptions = ConnectionOptions()) throws {
            let e = try EphemeralKey(rawRepresentation: Array(repeating: 0x11, count: 32))
            let a = try EphemeralKey(rawRepresentation: Array(repeating: 0x22, count: 32))
            let ek = try SessionKeys(own: e, ownRole: .endUser, peer: a.share, sessionID: SecurityTests.sessionID)
            let ak = try SessionKeys(own: a, ownRole: .agent, peer: e.share, sessionID: SecurityTests.sessionID)
            endUser = SecureChannel(sessionID: SecurityTests.sessionID, keys: ek, role: .endUser, options: options)
            agent = SecureChannel(sessionID: SecurityTests.sessionID, keys: ak, role: .agent, options: options)
            _ = link.takeOutput()
        }

        /// The records the end user's pending messages seal into.
        mutating func recordsFromEndUser() throws -> [SessionRecord] {
            try endUser.flush(into: &link)
            var d = FrameDecoder(maximumLength: 1 << 20)
            d.receive(link.takeOutput())
            var out: [SessionRecord] = []
            while let f = try d.next() {
                if case .record(let r)? = try ControlMessage(frame: f) { out.append(r) }
            }
            return out
        }
    }

    @Test func bothSidesDeriveTheSameKeysAndCode() throws {
        var p = try Pair()
        #expect(p.endUser.keys.shortAuthenticationString == p.agent.keys.shortAuthenticationString)
        let records = try p.recordsFromEndUser()
        #expect(records.count == 1)
        #expect(try p.agent.open(records[0]).map { if case .start = $0 { true } else { false } } == true)
    }

    @Test func alteredRecordsFailAuthentication() throws {
        var p = try Pair()
        let start = try p.recordsFromEndUser()[0]
        for i in [0, start.sealed.count / 2, start.sealed.count - 1] {
            var agent = p.agent
            var bad = start
            bad.sealed[i] ^= 0x40
            #expect(throws: ProtocolError(.cryptoFailure)) { try agent.open(bad) }
        }
        var agent = p.agent
        var shorter = start
        shorter.sealed.removeLast()
        #expect(throws: ProtocolError(.cryptoFailure)) { try agent.open(shorter) }
        // The counter and epoch are bound too: the same bytes under another counter do not open.
        var moved = start
        moved.counter = 1
        #expect(throws: ProtocolError(.cryptoFailure)) { try agent.open(moved) }
    }

    @Test func replayedAndReorderedRecordsCloseTheSession() throws {
        var p = try Pair()
        p.endUser.queue(.chat("one"))
        p.endUser.queue(.chat("two"))
        let records = try p.recordsFromEndUser()
        #expect(records.count == 3)
        var inOrder = p.agent
        for r in records { _ = try inOrder.open(r) }
        #expect(throws: ProtocolError(.cryptoFailure)) { try inOrder.open(records[2]) }   // replay
        var reordered = p.agent
        _ = try reordered.open(records[0])
        #expect(throws: ProtocolError(.cryptoFailure)) { try reordered.open(records[2]) } // skip / reorder
        var future = p.agent
        var r = records[0]
        r.epoch = 1
        #expect(throws: ProtocolError(.cryptoFailure)) { try future.open(r) }
    }

    @Test func recordsOfAnEarlierEpochAreDroppedUnread() throws {
        var p = try Pair()
        let old = try p.recordsFromEndUser()
        p.agent.startEpoch(1)
        #expect(try p.agent.open(old[0]) == nil)
        #expect(p.agent.staleRecords == 1)
    }

    @Test func aKeyMismatchIsCaughtByTheStartMessage() throws {
        // The broker hands the agent a different end-user key than the one the end user uses.
        let e = try EphemeralKey(rawRepresentation: Array(repeating: 0x11, count: 32))
        let a = try EphemeralKey(rawRepresentation: Array(repeating: 0x22, count: 32))
        let mallory = try EphemeralKey(rawRepresentation: Array(repeating: 0x33, count: 32))
        let ek = try SessionKeys(own: e, ownRole: .endUser, peer: a.share, sessionID: Self.sessionID)
        let ak = try SessionKeys(own: a, ownRole: .agent, peer: mallory.share, sessionID: Self.sessionID)
        #expect(ek.shortAuthenticationString != ak.shortAuthenticationString)
        var eu = SecureChannel(sessionID: Self.sessionID, keys: ek, role: .endUser, options: ConnectionOptions())
        var ag = SecureChannel(sessionID: Self.sessionID, keys: ak, role: .agent, options: ConnectionOptions())
        var link = HopLink(role: .endUser, expectedPeers: [.broker], options: ConnectionOptions(), now: 0)
        _ = link.takeOutput()
        try eu.flush(into: &link)
        var d = FrameDecoder()
        d.receive(link.takeOutput())
        guard case .record(let r)? = try ControlMessage(frame: try #require(try d.next())) else { Issue.record("no record"); return }
        #expect(throws: ProtocolError(.cryptoFailure)) { try ag.open(r) }
    }

    @Test func lowOrderKeysAreRefused() throws {
        let e = try EphemeralKey(rawRepresentation: Array(repeating: 0x11, count: 32))
        let zero = try KeyShare(Array(repeating: 0, count: 32))
        #expect(throws: ProtocolError(.cryptoFailure)) { try SessionKeys(own: e, ownRole: .endUser, peer: zero, sessionID: Self.sessionID) }
    }

    @Test func reliableMessagesAreAppliedOnceAndGapsAreErrors() throws {
        var p = try Pair()
        _ = try p.agent.open(try p.recordsFromEndUser()[0])
        p.endUser.queue(.chat("a"))
        p.endUser.queue(.chat("b"))
        let records = try p.recordsFromEndUser()
        #expect(try p.agent.open(records[0]) == .chat(seq: 1, text: "a"))
        #expect(try p.agent.open(records[1]) == .chat(seq: 2, text: "b"))
        // A resume: both move to epoch 1; the end user resends what was not acknowledged.
        p.endUser.startEpoch(1)
        p.agent.startEpoch(1)
        let resent = try p.recordsFromEndUser()
        var delivered: [SessionMessage] = []
        for r in resent { if let m = try p.agent.open(r) { delivered.append(m) } }
        #expect(delivered.isEmpty, "\(delivered)")
        #expect(p.agent.receivedSequence == 2)
    }

    @Test func tooManyUnacknowledgedMessagesOverload() throws {
        var options = ConnectionOptions()
        options.maximumUnacknowledgedMessages = 3
        var p = try Pair(options: options)
        for i in 0..<4 { p.endUser.queue(.chat("\(i)")) }
        #expect(throws: ProtocolError(.overloaded)) { try p.recordsFromEndUser() }
    }

    @Test func oversizedReassemblyIsRefused() throws {
        var options = ConnectionOptions()
        options.recordPayloadSize = 1024
        options.maximumSessionMessage = 4096
        var p = try Pair(options: options)
        _ = try p.agent.open(try p.recordsFromEndUser()[0])
        p.endUser.queue(.screenUpdate(generation: 1, sequence: 1, update: Array(repeating: 0, count: 5000)))
        let records = try p.recordsFromEndUser()
        #expect(records.count == 5)
        #expect(throws: ProtocolError(.tooLarge)) { for r in records { _ = try p.agent.open(r) } }
    }

    // MARK: Messages illegal in their state

    static func helloFromBroker() -> [UInt8] { ControlMessage.hello(Hello(role: .broker)).frame.bytes }

    @Test(arguments: [
        ControlMessage.lobbySession(LobbyEntry(sessionID: sessionID, endUser: EndUserInfo(name: "", machineName: "", operatingSystem: ""),
                                               ticket: "", joinMethod: "", joinedAt: 0)),
        .authenticated(agentID: "x", AgentInfo(name: "", jobTitle: "", organisation: "")),
        .connectRequest(AgentInfo(name: "", jobTitle: "", organisation: ""), mode: .control, agentKey: try! KeyShare(Array(repeating: 1, count: 32))),
        .record(SessionRecord(epoch: 0, counter: 0, sealed: Array(repeating: 0, count: 16))),
        .peerResumed(epoch: 1), .sessionEnded(.normal, ""), .join(.connectionID("1"), EndUserInfo(name: "", machineName: "", operatingSystem: "")),
    ])
    func endUserRefusesWhatItsStateDoesNotAllow(_ message: ControlMessage) throws {
        let e = EndUserConnection(now: 0)
        try e.join(.connectionID("123456"), EndUserInfo(name: "", machineName: "pc", operatingSystem: ""))
        e.receive(Self.helloFromBroker() + message.frame.bytes, now: 1)
        #expect(e.nextEvent().map { if case .closed(.protocolError, _, false) = $0 { true } else { false } } == true)
        #expect(e.isClosed)
        // The close frame with the reason is the last output.
        var d = FrameDecoder()
        d.receive(e.takeOutput())
        var last: ControlMessage?
        while let f = try d.next() { last = try ControlMessage(frame: f) }
        #expect(last.map { if case .close(.protocolError, _) = $0 { true } else { false } } == true)
    }

    @Test(arguments: [
        ControlMessage.joined(sessionID, try! ResumeToken(Array(repeating: 1, count: 32)), graceSeconds: 1, waitSeconds: 1),
        .connected(sessionID, mode: .control, endUserKey: try! KeyShare(Array(repeating: 1, count: 32)),
                   try! ResumeToken(Array(repeating: 1, count: 32)), graceSeconds: 1),
        .connectRefused(sessionID, .normal, ""), .consent(nil, endUserKey: nil), .resumed(sessionID, epoch: 1),
    ])
    func agentRefusesWhatItsStateDoesNotAllow(_ message: ControlMessage) {
        let a = AgentConnection(now: 0)
        try? a.authenticate(token: "t")
        a.receive(Self.helloFromBroker() + message.frame.bytes, now: 1)
        #expect(a.nextEvent().map { if case .closed(.protocolError, _, false) = $0 { true } else { false } } == true)
    }

    @Test func brokerRefusesRecordsBeforeASessionAndJoinsFromAgents() {
        let fromEndUser = BrokerConnection(now: 0)
        fromEndUser.receive(ControlMessage.hello(Hello(role: .endUser)).frame.bytes
                            + ControlMessage.record(SessionRecord(epoch: 0, counter: 0, sealed: Array(repeating: 0, count: 16))).frame.bytes, now: 0)
        _ = fromEndUser.nextEvent()
        #expect(fromEndUser.nextEvent().map { if case .closed(.protocolError, _, false) = $0 { true } else { false } } == true)

        let agent = BrokerConnection(now: 0)
        agent.receive(ControlMessage.hello(Hello(role: .agent)).frame.bytes
                      + ControlMessage.join(.connectionID("123456"), EndUserInfo(name: "", machineName: "", operatingSystem: "")).frame.bytes, now: 0)
        _ = agent.nextEvent()
        #expect(agent.nextEvent().map { if case .closed(.protocolError, _, false) = $0 { true } else { false } } == true)
        #expect(throws: ProtocolError(.notAllowed)) { try agent.acceptAgent(agentID: "x", AgentInfo(name: "", jobTitle: "", organisation: "")) }
    }

    // MARK: Time

    @Test func keepalivePingsAQuietLineAndClosesADeadOne() throws {
        let h = ProtocolHarness()
        try h.connect(frame: Scene.desktop(width: 32, height: 32, seed: 1))
        #expect(h.agent.nextWakeup == h.now + 15_000)
        h.now += 15_000
        h.agent.tick(now: h.now)
        for (_, b) in h.broker.connections { b.tick(now: h.now) }
        h.endUser.tick(now: h.now)
        h.run()
        #expect(!h.agent.isClosed && !h.endUser.isClosed)
        // Pongs came back: the next deadline moved on.
        #expect(h.agent.nextWakeup == h.now + 15_000)
        // A broker that goes silent: the agent gives up after the keepalive timeout.
        h.agentLinkUp = false
        h.now += 45_000
        h.agent.tick(now: h.now)
        #expect(h.agent.nextEvent() == .closed(.timeout, "nothing received for 45000 ms", byPeer: false))
        #expect(h.agent.canResume)
    }

    @Test func brokerClosesAPeerThatNeverIntroducesItself() {
        let b = BrokerConnection(now: 0)
        b.receive(ControlMessage.hello(Hello(role: .endUser)).frame.bytes, now: 10)
        _ = b.nextEvent()
        #expect(b.nextWakeup == 10_000)
        b.tick(now: 10_000)
        #expect(b.nextEvent().map { if case .closed(.timeout, _, false) = $0 { true } else { false } } == true)
    }
}
