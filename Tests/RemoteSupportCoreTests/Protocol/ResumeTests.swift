import Testing
@testable import RemoteSupportCore

@Suite("Protocol: resume after a dropped connection")
struct ResumeTests {
    static let screen = Scene.desktop(width: 128, height: 80, seed: 11)

    func keys(_ events: [ProtocolEvent]) -> [UInt32] {
        events.compactMap { if case .key(let k, true) = $0 { k } else { nil } }
    }

    @Test func endUserComesBackWithoutConsentAndTheViewerGetsAFullRefresh() throws {
        let h = ProtocolHarness()
        try h.connect(frame: Self.screen)
        let sas = h.agent.shortAuthenticationString
        h.dropEndUser()
        #expect(h.agentEvents.last == .peerAway(graceSeconds: 60))
        #expect(!h.agent.canSendInput)
        #expect(h.endUser.canResume)

        h.endUserEvents = []
        h.agentEvents = []
        try h.resumeEndUser()
        #expect(h.endUserEvents.first.map { if case .resumed = $0 { true } else { false } } == true)
        #expect(!h.endUserEvents.contains { if case .connectRequested = $0 { true } else { false } })
        #expect(h.agentEvents.first == .peerResumed)
        #expect(h.endUserEvents.contains(.readyForFrame))

        // A new screen generation: the viewer resets and gets the whole screen (a fresh zlib stream).
        let changed = Scene.fill(Self.screen, Rect(x: 0, y: 0, width: 9, height: 9), red: 0, green: 255, blue: 0)
        #expect(try h.share(changed))
        #expect(h.agentEvents.contains(.screenInfo(width: 128, height: 80, format: .bgrx8888)))
        #expect(h.agentEvents.last == .screenUpdated([Rect(x: 0, y: 0, width: 128, height: 80)]))
        #expect(screenBytes(h.agent) == changed.bytes)
        #expect(h.agent.shortAuthenticationString == sas)

        // Input flows again.
        h.endUserEvents = []
        try h.agent.sendKey(keysym: 0x31, down: true)
        h.run()
        #expect(keys(h.endUserEvents) == [0x31])
    }

    @Test func inputLostWithTheConnectionIsSentAgainOnce() throws {
        let h = ProtocolHarness()
        try h.connect(frame: Self.screen)
        h.endUserEvents = []
        // The end user's line goes dead without anyone knowing: the broker relays the keys into the void.
        h.endUserLinkUp = false
        for k in UInt32(0x61)...0x65 { try h.agent.sendKey(keysym: k, down: true) }
        h.run()
        #expect(keys(h.endUserEvents).isEmpty)
        h.dropEndUser()
        try h.resumeEndUser()
        #expect(keys(h.endUserEvents) == [0x61, 0x62, 0x63, 0x64, 0x65])
    }

    @Test func inputAppliedButNotAcknowledgedIsNotAppliedTwice() throws {
        let h = ProtocolHarness()
        try h.connect(frame: Self.screen)
        h.endUserEvents = []
        for k in UInt32(0x61)...0x63 { try h.agent.sendKey(keysym: k, down: true) }
        // Deliver the keys to the end user, then drop its line before its acknowledgement leaves.
        h.broker.connections[h.agentConn]!.receive(h.agent.takeOutput(), now: h.now)
        h.broker.process()
        h.endUser.receive(h.broker.connections[h.endUserConn]!.takeOutput(), now: h.now)
        while let e = h.endUser.nextEvent() { h.endUserEvents.append(e) }
        #expect(keys(h.endUserEvents) == [0x61, 0x62, 0x63])
        h.dropEndUser()
        try h.resumeEndUser()
        try h.agent.sendKey(keysym: 0x64, down: true)
        h.run()
        #expect(keys(h.endUserEvents) == [0x61, 0x62, 0x63, 0x64], "\(h.endUserEvents) \(h.agentEvents)")
    }

    @Test func acknowledgementsFromBeforeAResumeAreHarmless() throws {
        let h = ProtocolHarness()
        try h.connect(frame: Self.screen)
        var frame = Self.screen
        for i in 0..<2 {
            frame = Scene.fill(frame, Rect(x: i * 8, y: 0, width: 4, height: 4), red: 99, green: 0, blue: 0)
            #expect(try frame.withView { try h.endUser.shareFrame($0) })
        }
        // The agent applies both updates; its acknowledgements wait in its output when the end user drops.
        h.broker.connections[h.endUserConn]!.receive(h.endUser.takeOutput(), now: h.now)
        h.broker.process()
        h.agent.receive(h.broker.connections[h.agentConn]!.takeOutput(), now: h.now)
        h.dropEndUser()
        try h.resumeEndUser()
        #expect(!h.endUser.isClosed && !h.agent.isClosed)
        #expect(try h.share(frame))
        #expect(screenBytes(h.agent) == frame.bytes)
    }

    @Test func aConsentLostWithTheConnectionIsAskedForAgain() throws {
        let h = ProtocolHarness()
        try h.endUser.join(.connectionID("123456"), EndUserInfo(name: "Bob", machineName: "pc", operatingSystem: ""))
        try h.agent.authenticate(token: "good-token")
        h.run()
        guard case .lobbySession(let entry)? = h.agentEvents.last else { Issue.record("no lobby entry"); return }
        try h.agent.connect(to: entry.sessionID)
        h.run()
        // The end user consents, but its line dies before the consent leaves.
        h.endUserLinkUp = false
        try h.endUser.consent(.control)
        h.run()
        h.dropEndUser()
        h.endUserEvents = []
        try h.resumeEndUser()
        #expect(!h.endUser.isClosed, "\(h.endUserEvents)")
        #expect(h.endUserEvents.contains { if case .connectRequested = $0 { true } else { false } })
        try h.endUser.consent(.control)
        h.run()
        #expect(try h.share(Self.screen))
        #expect(screenBytes(h.agent) == Self.screen.bytes)
    }

    @Test func recordsInFlightWhenASessionEndsAreDroppedNotErrors() throws {
        let h = ProtocolHarness()
        try h.connect(frame: Self.screen)
        // The end user streams an update and a chat line; the agent ends before they reach it.
        #expect(try Scene.fill(Self.screen, Rect(x: 0, y: 0, width: 50, height: 50), red: 1, green: 1, blue: 1)
                    .withView { try h.endUser.shareFrame($0) })
        try h.endUser.sendChat("still there?")
        h.broker.connections[h.endUserConn]!.receive(h.endUser.takeOutput(), now: h.now)
        h.broker.process()
        try h.agent.endSession()
        h.run()
        #expect(!h.agent.isClosed, "\(h.agentEvents)")
        #expect(h.agent.droppedRecords > 0)
        #expect(!h.agentEvents.contains(.chat("still there?")))

        // The other way: the agent types while the end user ends; the broker drops the late records.
        let h2 = ProtocolHarness()
        try h2.connect(frame: Self.screen)
        try h2.agent.sendKey(keysym: 0x61, down: true)
        let late = h2.agent.takeOutput()
        h2.endUser.endSession()
        h2.run()
        h2.broker.connections[h2.agentConn]!.receive(late, now: h2.now)
        h2.run()
        #expect(!h2.agent.isClosed, "\(h2.agentEvents)")
        #expect(h2.broker.connections[h2.agentConn]!.droppedRecords == 1)
    }

    @Test func agentComesBackToo() throws {
        let h = ProtocolHarness()
        try h.connect(frame: Self.screen)
        h.dropAgent()
        #expect(h.endUserEvents.last == .peerAway(graceSeconds: 60))
        #expect(!h.endUser.canShareFrame)
        h.agentEvents = []
        try h.resumeAgent()
        #expect(h.agentEvents.first.map { if case .resumed = $0 { true } else { false } } == true)
        #expect(h.endUserEvents.last == .readyForFrame)
        #expect(try h.share(Self.screen))
        #expect(screenBytes(h.agent) == Self.screen.bytes)
        h.endUserEvents = []
        try h.agent.sendChat("back")
        h.run()
        #expect(h.endUserEvents == [.chat("back")])
    }

    @Test func bothDropAndComeBackInEitherOrder() throws {
        let h = ProtocolHarness()
        try h.connect(frame: Self.screen)
        h.dropAgent()
        h.dropEndUser()
        try h.resumeAgent()
        try h.resumeEndUser()
        #expect(try h.share(Self.screen))
        #expect(screenBytes(h.agent) == Self.screen.bytes)
        h.endUserEvents = []
        try h.agent.sendKey(keysym: 0x7A, down: true)
        h.run()
        #expect(keys(h.endUserEvents) == [0x7A])
    }

    @Test func waitingEndUserResumesIntoTheLobby() throws {
        let h = ProtocolHarness()
        try h.endUser.join(.connectionID("123456"), EndUserInfo(name: "Bob", machineName: "pc", operatingSystem: ""))
        h.run()
        h.dropEndUser()
        try h.resumeEndUser()
        #expect(h.endUserEvents.last.map { if case .resumed = $0 { true } else { false } } == true)
        try h.agent.authenticate(token: "good-token")
        h.run()
        #expect(h.agentEvents.contains { if case .lobbySession = $0 { true } else { false } })
    }

    @Test func unknownResumeTokenIsRefused() throws {
        let h = ProtocolHarness()
        try h.connect(frame: Self.screen)
        h.dropEndUser()
        h.broker.slots.removeAll()
        try h.resumeEndUser()
        #expect(h.endUserEvents.last == .closed(.resumeRefused, "unknown token", byPeer: true))
        #expect(!h.endUser.canResume)
    }
}
