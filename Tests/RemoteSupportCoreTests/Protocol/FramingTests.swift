import Foundation
import Testing
@testable import RemoteSupportCore

/// Every control message once, with awkward values.
let sampleControlMessages: [ControlMessage] = {
    let key = try! KeyShare(Array(repeating: 7, count: 32))
    let token = try! ResumeToken(Array(0..<32))
    let id = SessionID(UUID(uuidString: "6F1D8A52-3C1B-4D7E-9A55-0123456789AB")!)
    let agent = AgentInfo(name: "Ånna Ågent", jobTitle: "", organisation: "Example Ltd")
    let user = EndUserInfo(name: "Bob 🙂", machineName: "bob-pc", operatingSystem: "Debian 12")
    return [
        .hello(Hello(versions: 1...3, role: .agent, maximumFrameLength: 1 << 20, features: .all, software: "x")),
        .ping(0), .pong(.max), .close(.protocolError, "bad frame"),
        .join(.link("https://support.example/i/abc?x=1"), user), .join(.connectionID("123 456"), user),
        .joined(id, token, graceSeconds: 60, waitSeconds: 600),
        .connectRequest(agent, mode: .control, agentKey: key), .consent(nil, endUserKey: nil), .consent(.viewOnly, endUserKey: key),
        .authenticate("token"), .authenticated(agentID: "a-1", agent),
        .lobbySession(LobbyEntry(sessionID: id, endUser: user, ticket: "T#1", joinMethod: "invitation", joinedAt: -5)),
        .lobbySessionGone(id, .expired), .connect(id, mode: .viewOnly, agentKey: key),
        .connected(id, mode: .control, endUserKey: key, token, graceSeconds: 1), .connectRefused(id, .notAllowed, ""),
        .record(SessionRecord(epoch: 3, counter: 99, sealed: Array(repeating: 1, count: 40))),
        .resume(token), .resumed(id, epoch: 2), .peerAway(graceSeconds: 30), .peerResumed(epoch: 4),
        .sessionEnded(.endedByAgent, "done"),
    ]
}()

let sampleSessionMessages: [SessionMessage] = {
    let key = try! KeyShare(Array(repeating: 9, count: 32))
    return [
        .start(version: 1, features: .all, senderKey: key, receiverKey: key),
        .screenInfo(generation: 2, width: 1920, height: 1080, format: .rgb565),
        .screenUpdate(generation: 2, sequence: 7, update: [0, 0, 0, 0]),
        .updateAck(sequence: 7), .refresh,
        .cursorShape(hotX: 1, hotY: 2, width: 2, height: 3, rgba: Array(repeating: 255, count: 24)),
        .cursorPosition(x: 10, y: 20),
        .pointer(seq: 1, x: 5, y: 6, buttons: 0b101, wheelX: -1, wheelY: 3),
        .key(seq: 2, keysym: 0xFF0D, down: true), .clipboard(seq: 3, text: "clip ✂"), .chat(seq: 4, text: ""),
        .ack(seq: 4), .access(seq: 5, mode: .control), .pause(seq: 6, paused: true), .end(.endedByEndUser, "bye"),
    ]
}()

@Suite("Protocol: frames and messages")
struct FramingTests {
    @Test(arguments: sampleControlMessages)
    func controlMessagesRoundTrip(_ message: ControlMessage) throws {
        let frame = message.frame
        #expect(try ControlMessage(frame: frame) == message)
        // Fields appended by a later version are ignored.
        var longer = frame
        longer.payload += [1, 2, 3]
        if message.type != .record { #expect(try ControlMessage(frame: longer) == message) }
        // Every truncation is an error, never a crash or a different message.
        for n in 0..<frame.payload.count {
            var cut = frame
            cut.payload = Array(frame.payload.prefix(n))
            if case .record = message, n >= SessionRecord.headerSize + SessionRecord.tagSize { continue }
            #expect(throws: ProtocolError.self) { try ControlMessage(frame: cut) }
        }
    }

    @Test(arguments: sampleSessionMessages)
    func sessionMessagesRoundTrip(_ message: SessionMessage) throws {
        let bytes = message.bytes
        #expect(try SessionMessage(bytes: bytes) == message)
        #expect(try SessionMessage(bytes: bytes + [9, 9]) == message || message.type == .screenUpdate)
        for n in 0..<bytes.count {
            if message.type == .screenUpdate && n >= 10 { continue }  // the update runs to the end
            if message.type == .refresh && n >= 2 { continue }
            #expect(throws: ProtocolError.self) { try SessionMessage(bytes: Array(bytes.prefix(n))) }
        }
    }

    @Test func textIsCappedAtACharacterAndLosesItsNULs() throws {
        let close = ControlMessage.close(.normal, "a\0b" + String(repeating: "é", count: 200))
        guard case .close(_, let text)? = try ControlMessage(frame: close.frame) else { Issue.record("not a close"); return }
        #expect(text == "ab" + String(repeating: "é", count: 127))   // 2 + 127 * 2 = 256 bytes
        #expect(try SessionMessage(bytes: SessionMessage.chat(seq: 1, text: "x\0y").bytes) == .chat(seq: 1, text: "xy"))
    }

    @Test func decoderGivesTheSameFramesAtEverySplitPoint() throws {
        var stream: [UInt8] = []
        for m in sampleControlMessages { stream += m.frame.bytes }
        let expected = sampleControlMessages.map(\.frame)
        for split in 0...stream.count {
            var d = FrameDecoder(maximumLength: 1 << 16)
            var got: [Frame] = []
            d.receive(stream[..<split])
            while let f = try d.next() { got.append(f) }
            d.receive(stream[split...])
            while let f = try d.next() { got.append(f) }
            #expect(got == expected, "split at \(split)")
            #expect(d.bufferedCount == 0)
        }
    }

    @Test func partialFrameConsumesNothing() throws {
        var d = FrameDecoder()
        let bytes = ControlMessage.ping(5).frame.bytes
        d.receive(bytes.dropLast())
        #expect(try d.next() == nil)
        #expect(d.bufferedCount == bytes.count - 1)
        d.receive(bytes.suffix(1))
        #expect(try d.next() == ControlMessage.ping(5).frame)
    }

    @Test(arguments: [UInt32(0), 1])
    func lengthUnderTwoIsMalformed(_ length: UInt32) {
        var d = FrameDecoder()
        var w = WireWriter()
        w.u32(length)
        d.receive(w.bytes + [1, 0])
        #expect(throws: ProtocolError(.protocolError)) { try d.next() }
        // And it stays failed.
        d.receive(ControlMessage.ping(1).frame.bytes)
        #expect(throws: ProtocolError.self) { try d.next() }
    }

    @Test(arguments: [UInt32(65_601), UInt32(1 << 24), UInt32.max])
    func lengthOverTheLimitIsRefusedBeforeBuffering(_ length: UInt32) {
        var d = FrameDecoder(maximumLength: 65_600)
        var w = WireWriter()
        w.u32(length)
        d.receive(w.bytes)
        #expect(throws: ProtocolError(.tooLarge)) { try d.next() }
    }

    @Test func lengthAtTheLimitIsAccepted() throws {
        var d = FrameDecoder(maximumLength: 65_600)
        let frame = Frame(.record, payload: Array(repeating: 0, count: 65_598))
        d.receive(frame.bytes)
        #expect(try d.next() == frame)
    }

    @Test func stringLengthFieldsAtTheirLimits() throws {
        // A u16 text length of 0, of its cap, over its cap, and 65535.
        func join(nameLength: Int, declared: UInt16) -> Frame {
            var w = WireWriter()
            w.u8(2); w.string("123456")
            w.u16(declared); w.append(Array(repeating: UInt8(ascii: "a"), count: nameLength))
            w.string("pc"); w.string("")
            return Frame(.join, payload: w.bytes)
        }
        #expect(try ControlMessage(frame: join(nameLength: 0, declared: 0)) != nil)
        #expect(try ControlMessage(frame: join(nameLength: 400, declared: 400)) != nil)
        #expect(throws: ProtocolError(.tooLarge)) { try ControlMessage(frame: join(nameLength: 401, declared: 401)) }
        #expect(throws: ProtocolError(.tooLarge)) { try ControlMessage(frame: join(nameLength: 10, declared: .max)) }
        // A u32 clipboard length of 2^32 - 1.
        var w = WireWriter()
        w.u8(SessionMessageType.clipboard.rawValue); w.u8(0); w.u32(1); w.u32(.max)
        #expect(throws: ProtocolError(.tooLarge)) { try SessionMessage(bytes: w.bytes) }
        // A cursor of 65535 x 65535.
        var c = WireWriter()
        c.u8(SessionMessageType.cursorShape.rawValue); c.u8(0); c.u16(0); c.u16(0); c.u16(.max); c.u16(.max)
        #expect(throws: ProtocolError(.tooLarge)) { try SessionMessage(bytes: c.bytes) }
        // Text that is not UTF-8, or holds a NUL.
        var t = WireWriter()
        t.u8(SessionMessageType.chat.rawValue); t.u8(0); t.u32(1); t.u16(2); t.append([0xC3, 0x28])
        #expect(throws: ProtocolError(.protocolError)) { try SessionMessage(bytes: t.bytes) }
        var z = WireWriter()
        z.u8(SessionMessageType.chat.rawValue); z.u8(0); z.u32(1); z.u16(1); z.append([0])
        #expect(throws: ProtocolError(.protocolError)) { try SessionMessage(bytes: z.bytes) }
    }

    @Test func unknownTypesAreSkippedOnlyWhenOptional() throws {
        #expect(try ControlMessage(frame: Frame(FrameType(rawValue: 0x7F), flags: Frame.optionalFlag, payload: [1])) == nil)
        #expect(try SessionMessage(bytes: [0x7F, Frame.optionalFlag, 1]) == nil)
        #expect(throws: ProtocolError(.protocolError)) { try SessionMessage(bytes: [0x7F, 0, 1]) }

        let broker = BrokerConnection(now: 0)
        broker.receive(ControlMessage.hello(Hello(role: .endUser)).frame.bytes, now: 0)
        broker.receive(Frame(FrameType(rawValue: 0x7F), flags: Frame.optionalFlag).bytes, now: 0)
        broker.receive(ControlMessage.join(.connectionID("123456"), EndUserInfo(name: "", machineName: "pc", operatingSystem: "")).frame.bytes, now: 0)
        #expect(broker.nextEvent().map { if case .hello = $0 { true } else { false } } == true)
        #expect(broker.nextEvent().map { if case .joinRequested = $0 { true } else { false } } == true)
        broker.receive(Frame(FrameType(rawValue: 0x7E)).bytes, now: 0)
        #expect(broker.nextEvent().map { if case .closed(.protocolError, _, false) = $0 { true } else { false } } == true)
    }

    @Test func versionNegotiation() throws {
        let ours = Hello(role: .broker)
        #expect(try ours.negotiate(with: Hello(versions: 1...5, role: .endUser)) == 1)
        #expect(throws: ProtocolError(.unsupportedVersion)) { try ours.negotiate(with: Hello(versions: 2...3, role: .endUser)) }

        // A newer client that only speaks 2+ is closed with the reason, as the first thing it reads.
        let broker = BrokerConnection(now: 0)
        _ = broker.takeOutput()
        broker.receive(ControlMessage.hello(Hello(versions: 2...2, role: .endUser)).frame.bytes, now: 0)
        #expect(broker.nextEvent().map { if case .closed(.unsupportedVersion, _, false) = $0 { true } else { false } } == true)
        var d = FrameDecoder()
        d.receive(broker.takeOutput())
        #expect(try ControlMessage(frame: try #require(try d.next())).map { if case .close(.unsupportedVersion, _) = $0 { true } else { false } } == true)
    }

    @Test func helloMustComeFirstAndOnce() {
        let broker = BrokerConnection(now: 0)
        broker.receive(ControlMessage.ping(1).frame.bytes, now: 0)
        #expect(broker.nextEvent().map { if case .closed(.protocolError, _, false) = $0 { true } else { false } } == true)

        let twice = BrokerConnection(now: 0)
        let hello = ControlMessage.hello(Hello(role: .agent)).frame.bytes
        twice.receive(hello + hello, now: 0)
        _ = twice.nextEvent()
        #expect(twice.nextEvent().map { if case .closed(.protocolError, _, false) = $0 { true } else { false } } == true)

        // A peer claiming to be a broker cannot connect to a broker.
        let wrong = BrokerConnection(now: 0)
        wrong.receive(ControlMessage.hello(Hello(role: .broker)).frame.bytes, now: 0)
        #expect(wrong.nextEvent().map { if case .closed(.protocolError, _, false) = $0 { true } else { false } } == true)
    }
}
