import Testing
@testable import RemoteSupportCore

/// `BrokerConnection.cutRecordFrame` / `takeRecordFrame`: the relay forwards a record's bytes as they came,
/// and only when the state machine would have relayed it; a record split over reads is known from its
/// header.
@Suite("Protocol: the relay's fast path")
struct RelayFastPathTests {
    /// A connected session with the agent's next output (one pointer event: a record frame) not yet
    /// delivered.
    func sessionWithPendingInput() throws -> (ProtocolHarness, [UInt8]) {
        let h = ProtocolHarness()
        try h.connect(mode: .control)
        #expect(try h.agent.sendPointer(x: 5, y: 6, buttons: 1))
        let bytes = h.agent.takeOutput()
        #expect(!bytes.isEmpty)
        return (h, bytes)
    }

    @Test func aWholeRecordIsForwardedAsItCame() throws {
        let (h, bytes) = try sessionWithPendingInput()
        let broker = h.broker.connections[h.agentConn]!
        let size = bytes.withUnsafeBytes { broker.takeRecordFrame($0, now: h.now) }
        #expect(size == bytes.count, "one record frame, all of it")
        #expect(bytes[4] == FrameType.record.rawValue)
        // Forwarded unchanged to the end user, it is the same input.
        h.endUser.receive(bytes, now: h.now)
        var got: [ProtocolEvent] = []
        while let e = h.endUser.nextEvent() { got.append(e) }
        #expect(got.contains(.pointer(x: 5, y: 6, buttons: 1, wheelX: 0, wheelY: 0)))
        #expect(broker.nextEvent() == nil, "nothing went through the state machine")
    }

    @Test func anythingElseGoesThroughReceive() throws {
        let (h, bytes) = try sessionWithPendingInput()
        let broker = h.broker.connections[h.agentConn]!
        func take(_ b: [UInt8]) -> Int? { b.withUnsafeBytes { broker.takeRecordFrame($0, now: h.now) } }
        #expect(take(Array(bytes.dropLast())) == nil, "truncated")
        #expect(take(Array(bytes.prefix(5))) == nil, "shorter than a header")
        #expect(take(ControlMessage.ping(7).frame.bytes) == nil, "not a record")
        var flagged = bytes
        flagged[5] = 1
        #expect(take(flagged) == nil, "flags set")
        var tiny = ControlMessage.record(SessionRecord(epoch: 0, counter: 1, sealed: [1, 2, 3])).frame.bytes
        #expect(take(tiny) == nil, "shorter than a record's header and tag")
        tiny[0] = 0xFF
        #expect(take(tiny) == nil, "over the maximum frame length")
        // A partial frame buffered in the decoder: the next bytes must complete it through receive.
        broker.receive(Array(bytes.prefix(3)), now: h.now)
        #expect(take(Array(bytes.dropFirst(3))) == nil)
    }

    /// A record frame cut anywhere: the header alone tells its size, fewer bytes than a header ask for
    /// more; the frame put together from its pieces is the same input.
    @Test func aSplitRecordIsKnownByItsHeader() throws {
        let (h, bytes) = try sessionWithPendingInput()
        let broker = h.broker.connections[h.agentConn]!
        func cut(_ b: ArraySlice<UInt8>) -> BrokerConnection.RecordFrameCut? { Array(b).withUnsafeBytes { broker.cutRecordFrame($0, now: h.now) } }
        for split in 1..<bytes.count {
            #expect(cut(bytes.prefix(split)) == (split < Frame.headerSize ? .tooShort : .record(size: bytes.count)), "cut at \(split)")
        }
        #expect(cut(bytes[...]) == .record(size: bytes.count))
        #expect(cut([]) == nil, "nothing to cut")
        #expect(cut(ControlMessage.ping(7).frame.bytes[...]) == nil, "not a record")
        #expect(broker.nextEvent() == nil, "nothing went through the state machine")
        h.endUser.receive(bytes, now: h.now)
        var got: [ProtocolEvent] = []
        while let e = h.endUser.nextEvent() { got.append(e) }
        #expect(got.contains(.pointer(x: 5, y: 6, buttons: 1, wheelX: 0, wheelY: 0)))
    }

    @Test func notBeforeTheSessionIsConnected() throws {
        let h = ProtocolHarness()
        let record = ControlMessage.record(SessionRecord(epoch: 0, counter: 0, sealed: [UInt8](repeating: 0, count: 40))).frame.bytes
        let broker = h.broker.connections[h.endUserConn]!
        #expect(record.withUnsafeBytes { broker.takeRecordFrame($0, now: h.now) } == nil)
        #expect(record.prefix(3).withUnsafeBytes { broker.cutRecordFrame($0, now: h.now) } == nil, "not even a short one")
    }
}
