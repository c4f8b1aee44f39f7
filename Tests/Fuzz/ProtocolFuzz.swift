// Shared by the wire-protocol fuzz targets (FrameFuzz, EndUserFuzz, AgentFuzz, BrokerFuzz) and by the
// seed maker (Seeds/ProtocolSeeds.swift), which drives the same drivers through a real session, so every
// seed replays exactly as it was recorded. Compiled into the core module (see run.sh): it sees internal
// API (the connections' channels and keys, RecordSealer, RecordOpener).
import Crypto
import Foundation
import NIOCore

// MARK: - Input format of the role targets

/// One input of the `enduser`, `agent` and `broker` targets:
///
///     input := flags:u8 step*
///     step  := op:u8 act:u8 length:u16be data[length]      (a step cut short takes what is left)
///
/// flags: bit 0 set: no hello is fed first (the data must bring its own); clear: the connection gets a
///        valid hello of its peer (broker hello for the end user and the agent; for the broker an end
///        user's hello, or an agent's with bit 1 set), so inputs start past the handshake.
///        bits 2-3: the connection's options (0 default, 1 small records and window, 2 tiny caps on
///        unacknowledged and reassembled messages, 3 short deadlines).
/// op:    bits 0-3: time that passes before the step (`delays`); bit 6: `tick` then (before the data);
///        bit 7: do not take the output after the step (so pointer motion piles up and merges);
///        bits 4-5: kind: 0 the data as received bytes, in one piece; 1 the data is the plaintext of one
///        record (continuation flag byte, then message bytes), sealed by the harness with the key the
///        connection expects and the next counter of its epoch, so fuzzed session messages get past
///        authentication (the broker target gets a record frame with the data as its sealed bytes);
///        2 the data as received bytes, in pieces of 1, 2, 3... bytes; 3 the transport drops and the
///        connection comes back (`connectionLost`, then `reconnect`, and the hello again as the flags
///        say; the broker target gets a new connection), then the data as received bytes.
/// act:   the host's choices during the step: bits 0-1 how it answers requests (the driver's `respond`),
///        bits 2-5 one action after the data (`perform`), bits 6-7 a variant (the end user's frame).
struct FuzzStep: Equatable {
    var op: UInt8
    var act: UInt8
    var data: [UInt8]

    static let raw: UInt8 = 0, sealed: UInt8 = 1, trickle: UInt8 = 2, reconnect: UInt8 = 3

    init(op: UInt8 = 0, act: UInt8 = 0, data: [UInt8] = []) {
        self.op = op
        self.act = act
        self.data = data
    }

    init(kind: UInt8, delay: Int = 0, tick: Bool = false, hold: Bool = false, answer: Int = 0, action: Int = 0,
         variant: Int = 0, data: [UInt8] = []) {
        op = UInt8(delay & 15) | kind << 4 | (tick ? 0x40 : 0) | (hold ? 0x80 : 0)
        act = UInt8(answer & 3) | UInt8(action & 15) << 2 | UInt8(variant & 3) << 6
        self.data = data
    }

    var delay: UInt64 { ProtocolFuzz.delays[Int(op & 15)] }
    var kind: UInt8 { (op >> 4) & 3 }
    var tick: Bool { op & 0x40 != 0 }
    var hold: Bool { op & 0x80 != 0 }
    var answer: Int { Int(act & 3) }
    var action: Int { Int(act >> 2) & 15 }
    var variant: Int { Int(act >> 6) }
}

struct FuzzScript {
    var flags: UInt8
    var steps: [FuzzStep]

    init(flags: UInt8, steps: [FuzzStep]) {
        self.flags = flags
        self.steps = steps
    }

    init?(_ b: UnsafeRawBufferPointer) {
        guard let first = b.first else { return nil }
        flags = first
        steps = []
        var p = 1
        while b.count - p >= 4 {
            let n = Int(b[p + 2]) << 8 | Int(b[p + 3])
            let end = min(b.count, p + 4 + n)
            steps.append(FuzzStep(op: b[p], act: b[p + 1], data: Array(b[(p + 4)..<end])))
            p = end
        }
    }

    /// The bytes of this script. A step over 65535 bytes is cut in several: the first has the step's
    /// time, tick and kind, the last its action and output hold, the others are raw pieces.
    var bytes: [UInt8] {
        var out: [UInt8] = [flags]
        for s in steps {
            var rest = s.data[...]
            var first = true
            repeat {
                let piece = rest.prefix(0xFFFF)
                rest = rest.dropFirst(piece.count)
                let last = rest.isEmpty
                var op = first ? s.op & 0x7F : (s.kind == FuzzStep.trickle ? FuzzStep.trickle << 4 : 0)
                if last { op |= s.op & 0x80 }
                let act = last ? s.act : (s.act & 0xC3)
                out += [op, act, UInt8(piece.count >> 8), UInt8(piece.count & 0xFF)] + piece
                first = false
            } while !rest.isEmpty
        }
        return out
    }
}

/// `precondition` that says why in an optimized build too (libFuzzer shows it with the stack).
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError(message()) }
}

enum ProtocolFuzz {
    /// What passes before a step, in milliseconds (around the default deadlines: hello 10 s, ping 15 s,
    /// timeout 45 s).
    static let delays: [UInt64] = [0, 1, 10, 100, 1_000, 5_000, 9_999, 10_000, 14_999, 15_000, 30_000, 44_999,
                                   45_000, 60_000, 600_000, 86_400_000]
    static let start: UInt64 = 1_000

    /// The ephemeral keys of the drivers (test data, not secrets): fixed, so runs are reproducible and the
    /// seed sessions' keys are the replay's.
    static let endUserKey = try! EphemeralKey(rawRepresentation: (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 3) })
    static let agentKey = try! EphemeralKey(rawRepresentation: (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 53 &+ 101) })
    static let sessionID = SessionID(UUID(uuid: (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)))
    static let otherSessionID = SessionID(UUID(uuid: (9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9)))
    static let resumeToken = try! ResumeToken((0..<32).map { UInt8($0) })
    static let agentInfo = AgentInfo(name: "Alice Agent", jobTitle: "Support", organisation: "Example Ltd")
    static let endUserInfo = EndUserInfo(name: "Bob", machineName: "bob-pc", operatingSystem: "Linux")
    static let agentToken = "good-token"
    static let joinCode = "123456"

    static func hello(_ role: PeerRole) -> [UInt8] { ControlMessage.hello(Hello(role: role)).frame.bytes }

    static func options(_ flags: UInt8) -> ConnectionOptions {
        var o = ConnectionOptions()
        switch (flags >> 2) & 3 {
        case 1:
            o.recordPayloadSize = 0   // the floor: 1024-byte records
            o.updateWindow = 1
        case 2:
            o.maximumUnacknowledgedMessages = 3
            o.maximumUnacknowledgedBytes = 200
            o.maximumSessionMessage = 600
        case 3:
            o.handshakeTimeout = 10
            o.keepaliveInterval = 100
            o.keepaliveTimeout = 1_000
        default:
            break
        }
        return o
    }

    /// The tiny screen the end user shares: `version` changes its pixels; variant 1 is a size and
    /// variant 2 a format of its own (each starts a new screen generation).
    static func frame(version: Int, variant: Int) -> Framebuffer {
        let (w, h, format): (Int, Int, PixelFormat) = switch variant {
        case 1: (5, 3, .bgrx8888)
        case 2: (4, 3, .rgb565)
        default: (4, 3, .bgrx8888)
        }
        var fb = try! Framebuffer(width: w, height: h, format: format)
        for y in 0..<h {
            for x in 0..<w {
                let v = UInt8(truncatingIfNeeded: (x + y * w) * 40 + version * 77)
                fb.setPixel(x: x, y: y, format.pixel(red: v, green: v &+ 85, blue: (x + version) % 3 == 0 ? 255 : 0))
            }
        }
        return fb
    }
}

// MARK: - What a connection sends must be valid

/// Parses everything a connection sends: whole frames within the limit, each a known control message
/// that parses, nothing after a close frame, and, where the harness knows the keys (peers note them
/// before each call that can seal), records that open in order to session messages that parse.
struct OutputChecker {
    private var decoder: FrameDecoder
    private var closeSent = false
    private var keys: [SymmetricKey] = []
    private var opener: RecordOpener?
    private var reassembly: [UInt8] = []
    private let openRecords: Bool

    init(maximumFrame: Int, openRecords: Bool) {
        decoder = FrameDecoder(maximumLength: maximumFrame)
        self.openRecords = openRecords
    }

    /// A new transport: frames start over; the session's records go on (in a new epoch, after a resume).
    mutating func newTransport() {
        decoder = FrameDecoder(maximumLength: decoder.maximumLength)
        closeSent = false
        reassembly = []
    }

    mutating func note(_ key: SymmetricKey) {
        if !keys.contains(key) { keys.append(key) }
    }

    mutating func check(_ bytes: [UInt8]) {
        decoder.receive(bytes)
        while true {
            let frame: Frame?
            do { frame = try decoder.next() } catch { fatalError("the connection sent a bad frame: \(error)") }
            guard let frame else { return }
            require(!closeSent, "a \(frame.type) frame after the close frame")
            let message: ControlMessage?
            do { message = try ControlMessage(frame: frame) } catch { fatalError("the connection sent a \(frame.type) frame that does not parse: \(error)") }
            guard let message else { fatalError("the connection sent an unknown frame type \(frame.type)") }
            require(message.frame == frame, "the \(frame.type) frame sent is not its message's encoding")
            switch message {
            case .close: closeSent = true
            case .record(let r) where openRecords: open(r)
            default: break
            }
        }
    }

    private mutating func open(_ r: SessionRecord) {
        var plain: [UInt8]?
        if var o = opener {
            if r.epoch > o.epoch { o.startEpoch(r.epoch); reassembly = [] }
            if let p = try? o.open(r) { plain = p; opener = o }
        }
        if plain == nil {
            // The first record of a new session (of a later epoch if it was resumed before it sent any).
            require(r.counter == 0, "record \(r.counter) of epoch \(r.epoch) sent out of order")
            for key in keys.reversed() {
                var o = RecordOpener(key: key)
                if r.epoch > 0 { o.startEpoch(r.epoch) }
                if let p = try? o.open(r) { plain = p; opener = o; reassembly = []; break }
            }
        }
        guard let plain else { fatalError("a record sent opens with none of the session keys") }
        guard let flags = plain.first else { fatalError("an empty record sent") }
        reassembly += plain.dropFirst()
        if flags & 1 != 0 { return }
        defer { reassembly = [] }
        do {
            guard try SessionMessage(bytes: reassembly) != nil else { fatalError("a session message sent with an unknown type") }
        } catch {
            fatalError("a session message sent does not parse: \(error)")
        }
    }
}

// MARK: - The end user's and the agent's drivers

/// Feeds a peer connection the steps of a script, answering its events as a host would, and checks
/// after each step: the connection is closed exactly when one `.closed` event was reported on its
/// current transport (never two), and what it sent is valid (`OutputChecker`).
class PeerDriver {
    let flags: UInt8
    let connection: PeerConnection
    var now = ProtocolFuzz.start
    /// Every event, for the seed maker's replay check.
    var recordEvents = false
    private(set) var events: [ProtocolEvent] = []
    /// Everything sent, for the seed maker (nil: checked and dropped).
    var outbox: [UInt8]? = nil
    private var closedEvents = 0
    private var checker = OutputChecker(maximumFrame: Frame.minimumMaximumLength, openRecords: true)
    /// Seals the records of `sealed` steps as the peer would.
    private var sealer: RecordSealer?
    private var sealerKey: SymmetricKey?
    private var strayCounter: UInt64 = 0
    /// A counter for the host's texts and input.
    var n = 0
    var step = FuzzStep()

    init(connection: PeerConnection, flags: UInt8) {
        self.connection = connection
        self.flags = flags
    }

    /// The introduction (join, authenticate) and the broker's hello.
    func begin() {
        introduce()
        if flags & 1 == 0 { connection.receive(ProtocolFuzz.hello(.broker), now: now) }
        settle()
        takeOutput()
    }

    func run(_ script: FuzzScript) {
        begin()
        for s in script.steps { run(s) }
    }

    func run(_ s: FuzzStep) {
        step = s
        now += s.delay
        if s.tick {
            connection.tick(now: now)
            settle()
        }
        switch s.kind {
        case FuzzStep.sealed:
            connection.receive(sealedRecord(s.data), now: now)
        case FuzzStep.trickle:
            var p = 0, size = 1
            while p < s.data.count {
                let end = min(s.data.count, p + size)
                connection.receive(Array(s.data[p..<end]), now: now)
                p = end
                size = size % 8 + 1
            }
        case FuzzStep.reconnect:
            settle()
            connection.connectionLost(now: now)
            settle()
            if (try? connection.reconnect(now: now)) != nil {
                closedEvents = 0
                checker.newTransport()
                noteKeys()
                if flags & 1 == 0 { connection.receive(ProtocolFuzz.hello(.broker), now: now) }
            }
            connection.receive(s.data, now: now)
        default:
            connection.receive(s.data, now: now)
        }
        settle()
        noteKeys()
        perform(s.action)
        settle()
        if !s.hold { takeOutput() }
        require(closedEvents <= 1, "two closed events for one connection")
        require(connection.isClosed == (closedEvents == 1),
                     connection.isClosed ? "the connection closed without a closed event" : "a closed event, but the connection is open")
    }

    /// Polls every event and answers it.
    func settle() {
        while let e = connection.nextEvent() {
            if recordEvents { events.append(e) }
            switch e {
            case .closed: closedEvents += 1
            case .sessionStarted: sealer = nil
            default: break
            }
            noteKeys()
            respond(to: e)
        }
    }

    func takeOutput() {
        noteKeys()
        let out = connection.takeOutput()
        settle()   // a failure while sealing is reported as an event
        checker.check(out)
        outbox? += out
    }

    private func noteKeys() {
        guard let keys = connection.channel?.keys else { return }
        checker.note(connection.role == .endUser ? keys.endUserToAgent : keys.agentToEndUser)
    }

    /// The key records from the peer are sealed with now, if there is a session.
    var incomingKey: SymmetricKey? {
        guard let keys = connection.channel?.keys else { return nil }
        return connection.role == .endUser ? keys.agentToEndUser : keys.endUserToAgent
    }

    /// Where the next sealed record lands: (epoch, counter).
    var nextIncomingRecord: (UInt32, UInt64)? {
        guard let c = connection.channel else { return nil }
        guard let sealer, sealerKey == incomingKey, sealer.epoch <= c.epoch else { return (c.epoch, 0) }
        return sealer.epoch == c.epoch ? (c.epoch, sealer.counter) : (c.epoch, 0)
    }

    /// A record frame of `plain`, sealed as the peer would seal its next record (outside a session,
    /// with a key nobody has).
    func sealedRecord(_ plain: [UInt8]) -> [UInt8] {
        guard let c = connection.channel, let key = incomingKey else {
            strayCounter += 1
            return ControlMessage.record(SessionRecord(epoch: 0, counter: strayCounter, sealed: plain + [UInt8](repeating: 0, count: 16))).frame.bytes
        }
        if sealer == nil || sealerKey != key || sealer!.epoch > c.epoch {
            sealer = RecordSealer(key: key)
            sealerKey = key
        }
        if c.epoch > sealer!.epoch { sealer!.startEpoch(c.epoch) }
        return ControlMessage.record(sealer!.seal(plain)).frame.bytes
    }

    // For the roles.
    func introduce() {}
    func respond(to event: ProtocolEvent) {}
    func perform(_ action: Int) {}
}

final class EndUserDriver: PeerDriver {
    let endUser: EndUserConnection
    /// The shared screen's content: a new version on action 9.
    private var version = 0

    init(flags: UInt8) {
        endUser = EndUserConnection(options: ProtocolFuzz.options(flags), now: ProtocolFuzz.start)
        super.init(connection: endUser, flags: flags)
    }

    override func introduce() {
        try! endUser.join(.connectionID(ProtocolFuzz.joinCode), ProtocolFuzz.endUserInfo)
    }

    /// answer: 0 consent with control, 1 view only, 2 decline, 3 no answer. variant: the frame shared on
    /// `.readyForFrame` (3: none).
    override func respond(to event: ProtocolEvent) {
        switch event {
        case .connectRequested:
            switch step.answer {
            case 0: try? endUser.consent(.control, key: ProtocolFuzz.endUserKey)
            case 1: try? endUser.consent(.viewOnly, key: ProtocolFuzz.endUserKey)
            case 2: try? endUser.consent(nil)
            default: break
            }
        case .readyForFrame:
            if step.variant != 3 { share() }
        default:
            break
        }
    }

    private func share() {
        let fb = ProtocolFuzz.frame(version: version, variant: step.variant)
        fb.withView { _ = try? endUser.shareFrame($0) }
    }

    override func perform(_ action: Int) {
        n += 1
        switch action {
        case 1: try? endUser.sendChat("chat \(n) ✓")
        case 2: try? endUser.sendClipboard(String(repeating: "clip \(n) ", count: (n % 5) * 60))
        case 3: try? endUser.setAccess(.viewOnly)
        case 4: try? endUser.setAccess(.control)
        case 5: try? endUser.setPaused(true)
        case 6: try? endUser.setPaused(false)
        case 7: try? endUser.sendCursorShape(hotX: 1, hotY: 0, width: 2, height: 2, rgba: (0..<16).map { UInt8($0 * 16) })
        case 8: try? endUser.sendCursorPosition(x: n * 3, y: -n)
        case 9:
            version += 1
            share()
        case 10: endUser.endSession()
        case 11: endUser.close(.normal, "bye")
        case 12: endUser.connectionLost(now: now)
        case 13: endUser.close(.shuttingDown)
        case 14: try? endUser.consent(.control, key: ProtocolFuzz.endUserKey)
        case 15: try? endUser.join(.link("https://example.com/j/x"), ProtocolFuzz.endUserInfo)
        default: break
        }
    }
}

final class AgentDriver: PeerDriver {
    let agent: AgentConnection
    private var lastLobby: SessionID?

    init(flags: UInt8) {
        agent = AgentConnection(options: ProtocolFuzz.options(flags), now: ProtocolFuzz.start)
        super.init(connection: agent, flags: flags)
    }

    override func introduce() {
        try! agent.authenticate(token: ProtocolFuzz.agentToken)
    }

    /// answer: connect to a session of the lobby with 0 control, 1 view only, 2 not at all, 3 an odd mode
    /// to another session.
    override func respond(to event: ProtocolEvent) {
        guard case .lobbySession(let entry) = event else { return }
        lastLobby = entry.sessionID
        switch step.answer {
        case 0: try? agent.connect(to: entry.sessionID, mode: .control, key: ProtocolFuzz.agentKey)
        case 1: try? agent.connect(to: entry.sessionID, mode: .viewOnly, key: ProtocolFuzz.agentKey)
        case 3: try? agent.connect(to: ProtocolFuzz.otherSessionID, mode: AccessMode(rawValue: 9), key: ProtocolFuzz.agentKey)
        default: break
        }
    }

    override func perform(_ action: Int) {
        n += 1
        switch action {
        case 1: try? agent.sendChat("chat \(n) ✓")
        case 2: try? agent.sendClipboard(String(repeating: "clip \(n) ", count: (n % 5) * 60))
        case 3: _ = try? agent.sendPointer(x: n, y: n * 2, buttons: 0)
        case 4: _ = try? agent.sendPointer(x: n, y: n, buttons: UInt16(n % 3 + 1))
        case 5: _ = try? agent.sendPointer(x: n, y: n, buttons: 0, wheelX: -1, wheelY: n % 4)
        case 6:
            _ = try? agent.sendKey(keysym: 0x61 + UInt32(n % 26), down: true)
            _ = try? agent.sendKey(keysym: 0x61 + UInt32(n % 26), down: false)
        case 7: try? agent.requestRefresh()
        case 8: try? agent.endSession()
        case 9: agent.close(.normal, "bye")
        case 10: agent.connectionLost(now: now)
        case 11: if let lastLobby { try? agent.connect(to: lastLobby, mode: .control, key: ProtocolFuzz.agentKey) }
        case 12: for i in 0..<5 { _ = try? agent.sendPointer(x: n + i, y: 7, buttons: i == 3 ? 1 : 0) }
        case 13: try? agent.authenticate(token: "again")
        case 14: _ = try? agent.sendPointer(x: -5, y: 1 << 40, buttons: 0xFFFF, wheelX: Int.min, wheelY: Int.max)
        case 15: agent.close(.shuttingDown)
        default: break
        }
    }
}

// MARK: - The broker's driver

/// What a broker host does to one connection (the `act` action of the broker target's steps, and what
/// the seed maker's broker logs of its calls).
enum BrokerAction: Int {
    case none = 0, acceptJoin, acceptAgent, acceptResumeConnected, acceptResumeWaiting, requestConsent,
         sessionConnected, sendConnected, refuseConnect, relay, sendPeerAway, sendPeerResumed, sendSessionEnded,
         sendLobby, sendLobbyGone, close
}

/// Feeds a broker connection a peer's steps, answering its events as a broker would (answer 0 accepts,
/// 1 refuses, 2 ignores: the steps' actions say what to do; 3 accepts differently), with the same
/// checks as `PeerDriver`.
final class BrokerDriver {
    let flags: UInt8
    private(set) var connection: BrokerConnection
    var now = ProtocolFuzz.start
    var recordEvents = false
    private(set) var events: [BrokerEvent] = []
    private var closedEvents = 0
    private var checker = OutputChecker(maximumFrame: Int(Hello(role: .broker).maximumFrameLength), openRecords: false)
    private var lastRecord = SessionRecord(epoch: 0, counter: 0, sealed: [UInt8](repeating: 0x5A, count: 20))
    private var epoch: UInt32 = 0
    private var counter: UInt64 = 0
    private var step = FuzzStep()

    init(flags: UInt8) {
        self.flags = flags
        connection = BrokerConnection(options: ProtocolFuzz.options(flags), now: now)
    }

    private var peerHello: [UInt8] { ProtocolFuzz.hello(flags & 2 == 0 ? .endUser : .agent) }

    func begin() {
        if flags & 1 == 0 { connection.receive(peerHello, now: now) }
        settle()
        takeOutput()
    }

    func run(_ script: FuzzScript) {
        begin()
        for s in script.steps { run(s) }
    }

    func run(_ s: FuzzStep) {
        step = s
        now += s.delay
        if s.tick {
            connection.tick(now: now)
            settle()
        }
        switch s.kind {
        case FuzzStep.sealed:
            counter += 1
            connection.receive(ControlMessage.record(SessionRecord(epoch: epoch, counter: counter, sealed: s.data)).frame.bytes, now: now)
        case FuzzStep.trickle:
            var p = 0, size = 1
            while p < s.data.count {
                let end = min(s.data.count, p + size)
                deliver(Array(s.data[p..<end]))
                p = end
                size = size % 8 + 1
            }
        case FuzzStep.reconnect:
            settle()
            connection.connectionLost()
            settle()
            cutter = RecordFrameCutter()
            connection = BrokerConnection(options: ProtocolFuzz.options(flags), now: now)
            closedEvents = 0
            checker.newTransport()
            if flags & 1 == 0 { connection.receive(peerHello, now: now) }
            settle()
            connection.receive(s.data, now: now)
        default:
            deliver(s.data)
        }
        settle()
        perform(BrokerAction(rawValue: s.action)!)
        settle()
        if !s.hold { takeOutput() }
        require(closedEvents <= 1, "two closed events for one connection")
        require(connection.isClosed == (closedEvents == 1),
                     connection.isClosed ? "the connection closed without a closed event" : "a closed event, but the connection is open")
    }

    /// Received bytes as the broker's host takes them (PeerChannelHandler): through the relay's fast path
    /// (`RecordFrameCutter`, the broker's own), record frames cut off unread, the rest to `receive`.
    private var cutter = RecordFrameCutter()

    func deliver(_ input: [UInt8]) {
        let pieces = cutter.take(ByteBuffer(bytes: input), startCutting: true, cut: { connection.cutRecordFrame($0, now: now) },
                                 noteReceived: { connection.noteReceived(now: now) })
        checkCut(pieces.records.flatMap { Array(buffer: $0) })
        for bytes in pieces.forReceive { connection.receive(Array(buffer: bytes), now: now) }
    }

    /// What the fast path cut off: whole record frames only, as the other side will parse them; the host
    /// relays each as it would the state machine's `.record` event (so a seed replays to the same events).
    private func checkCut(_ bytes: [UInt8]) {
        var decoder = FrameDecoder(maximumLength: Int(Hello(role: .broker).maximumFrameLength))
        decoder.receive(bytes)
        while decoder.bufferedCount > 0 {
            guard let frame = try? decoder.next(), case .record(let record)? = try? ControlMessage(frame: frame) else {
                return require(false, "the fast path cut off something that is not whole record frames")
            }
            if recordEvents { events.append(.record(record)) }
            respond(to: .record(record))
        }
    }

    func settle() {
        while let e = connection.nextEvent() {
            if recordEvents { events.append(e) }
            respond(to: e)
        }
    }

    func takeOutput() {
        checker.check(connection.takeOutput())
    }

    private func respond(to event: BrokerEvent) {
        let answer = step.answer
        switch event {
        case .closed:
            closedEvents += 1
        case .joinRequested:
            switch answer {
            case 0: perform(.acceptJoin)
            case 1: connection.close(.joinRefused, "unknown code")
            case 3: perform(.acceptJoin); perform(.requestConsent)
            default: break
            }
        case .authenticateRequested:
            switch answer {
            case 0: perform(.acceptAgent)
            case 1: connection.close(.authenticationFailed, "bad token")
            case 3: perform(.acceptAgent); perform(.sendLobby)
            default: break
            }
        case .resumeRequested:
            switch answer {
            case 0: perform(.acceptResumeConnected)
            case 1: connection.close(.resumeRefused, "unknown token")
            case 3: perform(.acceptResumeWaiting)
            default: break
            }
        case .connectRequested:
            switch answer {
            case 0: perform(.sendConnected)
            case 1: perform(.refuseConnect)
            case 3: try? connection.sendConnected(ProtocolFuzz.otherSessionID, mode: AccessMode(rawValue: 0), endUserKey: ProtocolFuzz.endUserKey.share,
                                                  resumeToken: ProtocolFuzz.resumeToken, graceSeconds: 0)
            default: break
            }
        case .consentAnswered(let mode, _):
            if answer == 0 || answer == 3, mode != nil { perform(.sessionConnected) }
        case .record(let r):
            lastRecord = r
            if answer == 0 { perform(.relay) }
        case .hello, .sessionEndRequested:
            break
        }
    }

    private func perform(_ action: BrokerAction) {
        let c = connection, id = ProtocolFuzz.sessionID
        switch action {
        case .none: break
        case .acceptJoin: try? c.acceptJoin(id, resumeToken: ProtocolFuzz.resumeToken, graceSeconds: 60, waitSeconds: 600)
        case .acceptAgent: try? c.acceptAgent(agentID: "agent-1", ProtocolFuzz.agentInfo)
        case .acceptResumeConnected: epoch += 1; try? c.acceptResume(id, epoch: epoch, connected: true)
        case .acceptResumeWaiting: try? c.acceptResume(id, epoch: 0, connected: false)
        case .requestConsent: try? c.requestConsent(ProtocolFuzz.agentInfo, mode: .control, agentKey: ProtocolFuzz.agentKey.share)
        case .sessionConnected: try? c.sessionConnected()
        case .sendConnected:
            try? c.sendConnected(id, mode: .control, endUserKey: ProtocolFuzz.endUserKey.share, resumeToken: ProtocolFuzz.resumeToken, graceSeconds: 60)
        case .refuseConnect: try? c.refuseConnect(id, .consentDeclined, "declined")
        case .relay: try? c.relay(lastRecord)
        case .sendPeerAway: try? c.sendPeerAway(graceSeconds: 60)
        case .sendPeerResumed: epoch += 1; try? c.sendPeerResumed(epoch: epoch)
        case .sendSessionEnded: try? c.sendSessionEnded(.endedByAgent, "done")
        case .sendLobby:
            try? c.sendLobby(LobbyEntry(sessionID: id, endUser: ProtocolFuzz.endUserInfo, ticket: "T-1", joinMethod: "connection-id",
                                        joinedAt: 1_700_000_000_000))
        case .sendLobbyGone: try? c.sendLobbyGone(id, .normal)
        case .close: c.close(.normal, "bye")
        }
    }
}

// MARK: - The frame target

/// One input of the `frame` target:
///
///     byte 0: bits 0-2 the number n of piece sizes that follow, bits 3-4 the decoder's limit
///             (65600, 262400, 16, 2); then n bytes, the sizes of the pieces the stream is fed in,
///             used in turn (0: all that is left); then the stream.
///
/// Every frame the decoder returns must be the stream's bytes at that point, and its control message,
/// if it parses, must survive a re-encoding; the stream's tail (from where the decoder stopped) and
/// every frame's payload are parsed as session messages, with the same round trip.
enum FrameFuzz {
    static let limits = [Frame.minimumMaximumLength, Frame.minimumMaximumLength * 4, 16, 2]

    static func run(_ b: UnsafeRawBufferPointer) {
        guard let first = b.first else { return }
        let n = Int(first & 7)
        guard b.count > n else { return }
        let sizes = b[1..<(1 + n)].map(Int.init)
        let stream = Array(b[(1 + n)...])
        var decoder = FrameDecoder(maximumLength: limits[Int(first >> 3) & 3])
        var fed = 0, consumed = 0, piece = 0
        var failed = false
        while fed < stream.count, !failed {
            let size = sizes.isEmpty || sizes[piece % sizes.count] == 0 ? stream.count - fed : sizes[piece % sizes.count]
            piece += 1
            let end = min(stream.count, fed + size)
            stream[fed..<end].withUnsafeBytes { decoder.receive($0) }
            fed = end
            while true {
                let frame: Frame?
                do {
                    frame = try decoder.next()
                } catch {
                    failed = true
                    do { _ = try decoder.next(); fatalError("the decoder forgot its error") } catch {}
                    break
                }
                guard let frame else { break }
                let bytes = frame.bytes
                require(bytes.count <= fed - consumed && bytes[...] == stream[consumed..<(consumed + bytes.count)],
                             "the frame returned is not the stream's next bytes")
                require(bytes.count - 4 <= decoder.maximumLength, "a frame over the limit")
                consumed += bytes.count
                control(frame)
                session(frame.payload)
            }
            if !failed {
                require(decoder.bufferedCount == fed - consumed, "the decoder holds \(decoder.bufferedCount) bytes, not \(fed - consumed)")
            }
        }
        session(Array(stream[consumed...]))
    }

    static func control(_ frame: Frame) {
        guard let message = try? ControlMessage(frame: frame) else { return }
        let again = message.frame
        require(again.type == frame.type && again.flags == 0, "\(message) encodes as a \(again.type) frame")
        do {
            guard let parsed = try ControlMessage(frame: again) else { fatalError("\(message) re-encoded is unknown") }
            require(parsed == message, "\(message) re-encoded parses to \(parsed)")
            require(parsed.frame == again, "\(message) does not encode the same twice")
        } catch {
            fatalError("\(message) re-encoded does not parse: \(error)")
        }
    }

    static func session(_ bytes: [UInt8]) {
        guard let message = try? SessionMessage(bytes: bytes) else { return }
        let again = message.bytes
        require(again.first == message.type.rawValue, "\(message) encodes as type \(again.first ?? 0)")
        do {
            guard let parsed = try SessionMessage(bytes: again) else { fatalError("\(message) re-encoded is unknown") }
            require(parsed == message, "\(message) re-encoded parses to \(parsed)")
            require(parsed.bytes == again, "\(message) does not encode the same twice")
        } catch {
            fatalError("\(message) re-encoded does not parse: \(error)")
        }
    }
}
