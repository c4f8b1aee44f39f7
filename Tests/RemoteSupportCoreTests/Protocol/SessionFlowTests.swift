import Testing
@testable import RemoteSupportCore

@Suite("Protocol: a whole session in memory")
struct SessionFlowTests {
    static let screen = Scene.desktop(width: 160, height: 96, seed: 5)

    @Test func joinConsentShareInputAndEnd() throws {
        let h = ProtocolHarness()
        try h.connect(mode: .control, frame: Self.screen)

        #expect(h.endUserEvents.contains { if case .joined = $0 { true } else { false } })
        #expect(h.endUserEvents.contains(.connectRequested(AgentInfo(name: "Alice Agent", jobTitle: "Support", organisation: "Example Ltd"), mode: .control)))
        #expect(h.agentEvents.contains { if case .authenticated(let id, _) = $0 { id == "agent-1" } else { false } })
        let sas = h.endUser.shortAuthenticationString
        #expect(sas != nil && sas == h.agent.shortAuthenticationString)
        #expect(sas?.count == 7)
        #expect(h.agentEvents.contains(.screenInfo(width: 160, height: 96, format: .bgrx8888)))
        #expect(screenBytes(h.agent) == Self.screen.bytes)

        // A change goes as an incremental update.
        let changed = Scene.fill(Self.screen, Rect(x: 10, y: 10, width: 30, height: 20), red: 200, green: 0, blue: 0)
        #expect(try h.share(changed))
        #expect(screenBytes(h.agent) == changed.bytes)
        #expect(h.agentEvents.last == .screenUpdated([Rect(x: 10, y: 10, width: 30, height: 20)]))

        // Input reaches the end user, in order.
        h.endUserEvents = []
        #expect(try h.agent.sendPointer(x: 5, y: 6, buttons: 1))
        #expect(try h.agent.sendPointer(x: 5, y: 6, buttons: 0, wheelY: -2))
        #expect(try h.agent.sendKey(keysym: 0x61, down: true))
        #expect(try h.agent.sendKey(keysym: 0x61, down: false))
        try h.agent.sendClipboard("from the agent ✓")
        try h.endUser.sendClipboard("from the end user")
        try h.endUser.sendChat("hello")
        try h.endUser.sendCursorPosition(x: 12, y: 13)
        h.run()
        #expect(h.endUserEvents == [
            .pointer(x: 5, y: 6, buttons: 1, wheelX: 0, wheelY: 0),
            .pointer(x: 5, y: 6, buttons: 0, wheelX: 0, wheelY: -2),
            .key(keysym: 0x61, down: true), .key(keysym: 0x61, down: false),
            .clipboard("from the agent ✓"),
        ])
        #expect(h.agentEvents.suffix(3) == [.clipboard("from the end user"), .chat("hello"), .cursorPosition(x: 12, y: 13)])

        // The end user ends it: the agent learns why, end to end, once, and is back in the lobby.
        h.agentEvents = []
        h.endUser.endSession()
        h.run()
        #expect(h.agentEvents == [.sessionEnded(.endedByEndUser, "")])
        #expect(h.endUser.isClosed)
        #expect(!h.agent.isClosed)
        #expect(h.broker.endedReasons == [.endedByEndUser])
        #expect(try h.agent.sendKey(keysym: 1, down: true) == false)
        #expect(throws: ProtocolError(.notAllowed)) { try h.agent.sendChat("anyone?") }
    }

    @Test func agentEndsAndConnectsAgainLater() throws {
        let h = ProtocolHarness()
        try h.connect(frame: Self.screen)
        h.endUserEvents = []
        try h.agent.endSession()
        h.run()
        #expect(h.endUserEvents.first == .sessionEnded(.endedByAgent, ""))
        #expect(h.endUserEvents.filter { if case .sessionEnded = $0 { true } else { false } }.count == 1)
        #expect(h.agentEvents.last == .sessionEnded(.endedByAgent, ""))
        #expect(!h.agent.isClosed)
        #expect(h.broker.endedReasons == [.endedByAgent])
    }

    @Test func viewOnlyUntilControlIsGranted() throws {
        let h = ProtocolHarness()
        try h.connect(mode: .viewOnly, frame: Self.screen)
        #expect(!h.agent.canSendInput)
        #expect(try h.agent.sendKey(keysym: 0x41, down: true) == false)
        try h.endUser.setAccess(.control)
        h.run()
        #expect(h.agentEvents.last == .accessChanged(.control))
        h.endUserEvents = []
        #expect(try h.agent.sendKey(keysym: 0x41, down: true))
        h.run()
        #expect(h.endUserEvents == [.key(keysym: 0x41, down: true)])

        // Taken back: input on its way is refused by the end user's side, not only by the agent's.
        try h.endUser.setAccess(.viewOnly)
        #expect(try h.agent.sendKey(keysym: 0x42, down: true))
        h.run()
        #expect(h.endUserEvents == [.key(keysym: 0x41, down: true)])
        #expect(h.endUser.refusedInputEvents == 1)
    }

    @Test func declinedConsentLeavesTheEndUserWaiting() throws {
        let h = ProtocolHarness()
        try h.endUser.join(.link("https://support.example/i/abc"), EndUserInfo(name: "Bob", machineName: "pc", operatingSystem: ""))
        try h.agent.authenticate(token: "good-token")
        h.run()
        guard case .lobbySession(let entry)? = h.agentEvents.last else { Issue.record("no lobby entry"); return }
        #expect(entry.joinMethod == "invitation")
        try h.agent.connect(to: entry.sessionID)
        h.run()
        try h.endUser.consent(nil)
        h.run()
        #expect(h.agentEvents.last == .connectRefused(entry.sessionID, .consentDeclined, "declined"))
        try h.agent.connect(to: entry.sessionID, mode: .viewOnly)
        h.run()
        try h.endUser.consent(.viewOnly)
        h.run()
        #expect(h.agentEvents.contains { if case .sessionStarted(_, .viewOnly, _) = $0 { true } else { false } })
    }

    @Test func refusedJoinAndTokenCloseWithTheirReasons() throws {
        let h = ProtocolHarness()
        try h.endUser.join(.connectionID("999999"), EndUserInfo(name: "", machineName: "pc", operatingSystem: ""))
        try h.agent.authenticate(token: "bad")
        h.run()
        #expect(h.endUserEvents == [.closed(.joinRefused, "unknown code", byPeer: true)])
        #expect(h.agentEvents == [.closed(.authenticationFailed, "bad token", byPeer: true)])
        #expect(!h.endUser.canResume)
        #expect(throws: ProtocolError(.notAllowed)) { try h.endUser.reconnect(now: 5) }
    }

    @Test func flowControlKeepsAtMostTheWindowInFlight() throws {
        let h = ProtocolHarness()
        try h.connect(frame: Self.screen)
        var frame = Self.screen
        var sent = 0
        // The agent's acknowledgements are not delivered until run(): the window fills up.
        for i in 0..<10 {
            frame = Scene.fill(frame, Rect(x: i * 10, y: 0, width: 8, height: 8), red: UInt8(i * 20), green: 9, blue: 9)
            if try frame.withView({ try h.endUser.shareFrame($0) }) { sent += 1 }
        }
        #expect(sent == 2)
        #expect(!h.endUser.canShareFrame)
        h.endUserEvents = []
        h.run()
        #expect(h.endUserEvents.contains(.readyForFrame))
        // The next update carries every change made meanwhile.
        #expect(try h.share(frame))
        #expect(screenBytes(h.agent) == frame.bytes)
    }

    @Test func pointerMotionIsMergedWhileTheLinkIsBusy() throws {
        let h = ProtocolHarness()
        try h.connect(frame: Self.screen)
        h.endUserEvents = []
        for x in 0..<100 { try h.agent.sendPointer(x: x, y: 1, buttons: 0) }
        try h.agent.sendPointer(x: 100, y: 1, buttons: 1)
        for x in 101..<110 { try h.agent.sendPointer(x: x, y: 1, buttons: 1) }
        h.run()
        #expect(h.endUserEvents == [
            .pointer(x: 99, y: 1, buttons: 0, wheelX: 0, wheelY: 0),
            .pointer(x: 100, y: 1, buttons: 1, wheelX: 0, wheelY: 0),
            .pointer(x: 109, y: 1, buttons: 1, wheelX: 0, wheelY: 0),
        ])
    }

    @Test func bigUpdatesTravelInPiecesAndReassemble() throws {
        var options = ConnectionOptions()
        options.recordPayloadSize = 1024
        let h = ProtocolHarness(endUserOptions: options)
        let noisy = Scene.desktop(width: 300, height: 200, seed: 9)
        try h.connect(frame: noisy)
        #expect(screenBytes(h.agent) == noisy.bytes)
        #expect(h.broker.relayedRecords > 50)
    }

    @Test func pausedSharingSendsNothingAndRefusesInput() throws {
        let h = ProtocolHarness()
        try h.connect(frame: Self.screen)
        try h.endUser.setPaused(true)
        h.run()
        #expect(h.agentEvents.last == .paused(true))
        #expect(!h.agent.canSendInput)
        #expect(try h.share(Scene.fill(Self.screen, Rect(x: 0, y: 0, width: 4, height: 4), red: 1, green: 2, blue: 3)) == false)
        h.endUserEvents = []
        try h.endUser.setPaused(false)
        h.run()
        #expect(h.endUserEvents.contains(.readyForFrame))
        #expect(h.agentEvents.last == .paused(false))
    }
}
