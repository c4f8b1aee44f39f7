// protocol-bench: what the wire protocol costs, in memory (no sockets), beside memcpy of the same bytes in
// the same chunk sizes, measured in the same run. Not a test: read the ratios.
//
//   swift run -c release protocol-bench [--seconds S] [--json] [--only TEXT]
//
// 1. baseline: memcpy, and Array(...) (allocate + copy), one chunk per message, of each payload size;
// 2. framing only, no encryption: SessionMessage.bytes split into record frames as the channel does
//    (fragment byte, 16 zero bytes standing in for the tag) -> FrameDecoder -> ControlMessage(frame:) ->
//    reassembly -> SessionMessage(bytes:); and control frames (ping, lobby-session);
// 3. the whole path, encrypted: AgentConnection -> BrokerConnection (agent side) -> relay ->
//    BrokerConnection (end-user side) -> EndUserConnection for input and for clipboard text of exact sizes
//    (the only public way to send an opaque payload), acknowledgements flowing back; and screen updates
//    EndUserConnection.shareFrame -> ... -> AgentConnection through the real codec (ZRLE + zlib), beside the
//    same codec alone on the same frames (the difference is the protocol's share); the broker's part
//    alone (one BrokerConnection receiving record frames, relaying them through the other); and
//    the records' cipher alone (AES-256-GCM, as RecordCipher.swift seals; ChaCha20-Poly1305 beside it)
//    with swift-crypto, seal + open in 32 KiB records, as the encryption floor;
// 4. bytes on the wire per message kind, parsed from the bytes the connections actually produced.
//
// Every case runs for --seconds (default 1) after a short warm-up, in 5 rounds; the fastest round counts.
// Data, keys and tokens come from fixed seeds. --only runs the cases whose "section name" contains TEXT.
// MB = 10^6 bytes. "x memcpy" = time per message / time of memcpy of its payload bytes (same chunk size).

import Crypto
import Foundation
import RemoteSupportCore

// MARK: - Options, clock, helpers

struct Options {
    var seconds = 1.0
    var json = false
    /// Only the cases whose "section name" contains this (for profilers).
    var only: String?
}

nonisolated(unsafe) var onlyFilter: String?

/// Whether the case `label` ("section name") runs.
func selected(_ label: String) -> Bool {
    guard let filter = onlyFilter else { return true }
    return label.lowercased().contains(filter.lowercased())
}

func parseOptions() -> Options {
    var o = Options()
    var args = CommandLine.arguments.dropFirst()
    while let a = args.popFirst() {
        switch a {
        case "--seconds": o.seconds = max(0.05, Double(args.popFirst() ?? "") ?? o.seconds)
        case "--json": o.json = true
        case "--only": o.only = args.popFirst()
        case "-h", "--help":
            print("usage: protocol-bench [--seconds S] [--json] [--only TEXT]")
            exit(0)
        default:
            FileHandle.standardError.write(Data("protocol-bench: unknown argument \(a)\n".utf8))
            exit(2)
        }
    }
    return o
}

@inline(__always) func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Keeps results alive so the optimizer cannot drop the work.
nonisolated(unsafe) var sink: UInt64 = 0

struct Measurement {
    var messages: Int
    var seconds: Double
    var steps: Int
}

/// Rounds per case: each case runs `rounds` times for budget / rounds, and the fastest round counts (on a
/// shared machine it is the least disturbed one).
let roundsPerCase = 5

/// Runs `step` (one unit of work; returns the messages it moved) after a warm-up of a tenth of `budget`,
/// in `rounds` rounds of `budget / rounds` seconds, and returns the fastest round. The clock is read every
/// `stride` steps, the stride doubling while a batch takes under a millisecond. Bounded by `maxSteps` per
/// round too.
func measure(_ budget: Double, rounds: Int = roundsPerCase, warmUp: Bool = true, maxSteps: Int = 200_000_000,
             _ step: () throws -> Int) rethrows -> Measurement {
    if warmUp {
        let w0 = monotonicSeconds()
        repeat { _ = try step() } while monotonicSeconds() - w0 < budget / 10
    }
    var best: Measurement?
    for _ in 0..<rounds {
        var messages = 0, steps = 0, stride = 1
        let t0 = monotonicSeconds()
        var elapsed = 0.0
        while steps < maxSteps {
            let b0 = monotonicSeconds()
            for _ in 0..<stride { messages += try step() }
            steps += stride
            let t = monotonicSeconds()
            elapsed = t - t0
            if elapsed >= budget / Double(rounds) { break }
            if t - b0 < 0.001 { stride *= 2 }
        }
        let m = Measurement(messages: messages, seconds: elapsed, steps: steps)
        if best == nil || m.seconds / Double(m.messages) < best!.seconds / Double(best!.messages) { best = m }
    }
    return best!
}

/// SplitMix64: the fixed-seed source of every byte, key and token here.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ n: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        var i = 0
        while i < n {
            var v = next()
            for _ in 0..<8 where i < n { out[i] = UInt8(truncatingIfNeeded: v); v >>= 8; i += 1 }
        }
        return out
    }
}

func fatal(_ message: String) -> Never {
    FileHandle.standardError.write(Data("protocol-bench: \(message)\n".utf8))
    exit(1)
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
func f(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }
func rate(_ v: Double) -> String {
    if v >= 1e6 { return f(v / 1e6, 2) + "M" }
    if v >= 1e3 { return f(v / 1e3, 1) + "k" }
    return f(v, 0)
}
func size(_ n: Int) -> String {
    if n >= 1024 && n % 1024 == 0 { return "\(n / 1024) KiB" }
    return "\(n) B"
}

/// Per record: frame header 6, record header 12 (epoch, counter), tag 16, fragment byte 1.
let recordOverhead = Frame.headerSize + SessionRecord.headerSize + SessionRecord.tagSize + 1
/// Message bytes per record (ConnectionOptions().recordPayloadSize, as the channel uses it).
let recordPayload = ConnectionOptions().recordPayloadSize

// MARK: - Results

struct Row: Codable {
    var section: String
    var name: String
    /// Application bytes per message (what memcpy copies in the baseline).
    var payloadBytes: Double
    /// Bytes on the sender's hop per message (nil for the baselines and the crypto floor).
    var wireBytes: Double?
    var messages: Int
    var seconds: Double
    var messagesPerSecond: Double
    var nanosecondsPerMessage: Double
    var payloadMBPerSecond: Double
    var wireMBPerSecond: Double?
    var memcpyNanoseconds: Double?
    var timesMemcpy: Double?
    var note: String
}

struct ScreenRow: Codable {
    var target: Int
    var rectangle: String
    var updateBytes: Double
    var wholeNanoseconds: Double
    var codecNanoseconds: Double
    var protocolNanoseconds: Double
    var protocolMBPerSecond: Double
    var protocolTimesMemcpy: Double?
}

struct OverheadRow: Codable {
    var kind: String
    var direction: String
    var payloadBytes: Int
    var messageHeaderBytes: Int
    var records: Int
    var frameHeaderBytes: Int
    var recordHeaderBytes: Int
    var tagBytes: Int
    var fragmentBytes: Int
    var wireBytes: Int
    var relayedBytes: Int?
    var overheadBytes: Int
    var overheadPercent: Double
    var consistent: Bool
}

final class Results {
    var rows: [Row] = []
    var screen: [ScreenRow] = []
    var overhead: [OverheadRow] = []
    var memcpy: [Int: Double] = [:]

    func add(_ section: String, _ name: String, payload: Double, wire: Double?, _ m: Measurement, note: String = "") {
        let ns = m.seconds * 1e9 / Double(m.messages)
        let mps = Double(m.messages) / m.seconds
        let base = memcpy[Int(payload.rounded())]
        rows.append(Row(section: section, name: name, payloadBytes: payload, wireBytes: wire, messages: m.messages,
                        seconds: m.seconds, messagesPerSecond: mps, nanosecondsPerMessage: ns,
                        payloadMBPerSecond: payload * mps / 1e6, wireMBPerSecond: wire.map { $0 * mps / 1e6 },
                        memcpyNanoseconds: base, timesMemcpy: base.map { ns / $0 }, note: note))
    }
}

// MARK: - 1. Baselines

/// memcpy and Array copy of `size`-byte chunks from a hot source (twice the chunk, at least 64 KiB).
func baselines(_ sizes: [Int], _ budget: Double, _ results: Results) {
    var random = SeededRandom(seed: 1)
    for n in sizes.sorted() where results.memcpy[n] == nil && selected("1 baseline memcpy \(size(n))") {
        let sourceSize = max(64 << 10, 2 * n)
        let source = UnsafeMutableRawPointer.allocate(byteCount: sourceSize, alignment: 64)
        let target = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 64)
        random.bytes(sourceSize).withUnsafeBytes { source.copyMemory(from: $0.baseAddress!, byteCount: sourceSize) }
        var offset = 0
        let copy = measure(budget) {
            target.copyMemory(from: source + offset, byteCount: n)
            offset += n
            if offset + n > sourceSize { offset = 0 }
            return 1
        }
        sink &+= UInt64(target.load(as: UInt8.self))
        let ns = copy.seconds * 1e9 / Double(copy.messages)
        results.memcpy[n] = ns
        results.add("1 baseline", "memcpy \(size(n))", payload: Double(n), wire: nil, copy)
        offset = 0
        let array = measure(budget) {
            let a = Array(UnsafeRawBufferPointer(start: source + offset, count: n))
            sink &+= UInt64(a[n - 1])
            offset += n
            if offset + n > sourceSize { offset = 0 }
            return 1
        }
        results.add("1 baseline", "Array copy \(size(n))", payload: Double(n), wire: nil, array, note: "allocate + copy")
        source.deallocate()
        target.deallocate()
    }
}

// MARK: - 2. Framing only

/// A session message through the framing the channel uses, without the encryption: split into records
/// of `recordPayload` message bytes with the fragment byte, a 16-byte zero tag in place of the real one,
/// record frames encoded, then parsed back through FrameDecoder, ControlMessage(frame:), reassembly and
/// SessionMessage(bytes:).
func framingSession(_ name: String, _ message: SessionMessage, payload: Int, _ budget: Double, _ results: Results) throws {
    guard selected("2 framing only \(name)") else { return }
    var decoder = FrameDecoder(maximumLength: ConnectionOptions().maximumFrameLength)
    var counter: UInt64 = 0
    var reassembly: [UInt8] = []
    let zeroTag = [UInt8](repeating: 0, count: SessionRecord.tagSize)
    var wireBytes = 0
    var last: SessionMessage?
    func roundTrip() throws -> Int {
        let m = message.bytes
        var wire: [UInt8] = []
        var offset = 0
        repeat {
            let end = min(offset + recordPayload, m.count)
            var sealed: [UInt8] = []
            sealed.reserveCapacity(end - offset + 1 + zeroTag.count)
            sealed.append(end < m.count ? 1 : 0)
            sealed.append(contentsOf: m[offset..<end])
            sealed.append(contentsOf: zeroTag)
            wire.append(contentsOf: ControlMessage.record(SessionRecord(epoch: 0, counter: counter, sealed: sealed)).frame.bytes)
            counter += 1
            offset = end
        } while offset < m.count
        wireBytes = wire.count
        decoder.receive(wire)
        last = nil
        while let frame = try decoder.next() {
            guard case .record(let record)? = try ControlMessage(frame: frame) else { fatal("not a record frame") }
            let plain = record.sealed.dropLast(SessionRecord.tagSize)
            let more = plain.first! & 1 != 0
            if more || !reassembly.isEmpty {
                reassembly.append(contentsOf: plain.dropFirst())
                if more { continue }
                let bytes = reassembly
                reassembly.removeAll(keepingCapacity: true)
                last = try SessionMessage(bytes: bytes)
            } else {
                last = try SessionMessage(bytes: Array(plain.dropFirst()))
            }
        }
        return 1
    }
    _ = try roundTrip()
    guard last == message else { fatal("framing round trip of \(name) changed the message") }
    let m = try measure(budget, roundTrip)
    results.add("2 framing only", name, payload: Double(payload), wire: Double(wireBytes), m,
                note: "\(wireBytes - payload) B overhead")
}

func framingControl(_ name: String, _ message: ControlMessage, _ budget: Double, _ results: Results) throws {
    guard selected("2 framing only \(name)") else { return }
    var decoder = FrameDecoder()
    let payload = message.frame.payload.count
    var last: ControlMessage?
    func roundTrip() throws -> Int {
        let wire = message.frame.bytes
        decoder.receive(wire)
        guard let frame = try decoder.next() else { fatal("no frame") }
        last = try ControlMessage(frame: frame)
        return 1
    }
    _ = try roundTrip()
    guard last == message else { fatal("framing round trip of \(name) changed the message") }
    let m = try measure(budget, roundTrip)
    results.add("2 framing only", name, payload: Double(payload), wire: Double(payload + Frame.headerSize), m,
                note: "control frame, payload = frame payload")
}

// MARK: - 3. The whole path: an end user, an agent and a relaying broker in memory

enum Hop: String { case agentToBroker, endUserToBroker, brokerToEndUser, brokerToAgent }

/// One connected session: EndUserConnection and AgentConnection, each talking to its BrokerConnection,
/// and the broker's part done here (accept, lobby, consent, pairing, relay), as Tests/.../MiniBroker does.
/// `pump` moves bytes until nothing moves, the way a host would.
final class Session {
    let now: UInt64 = 1_000
    let endUser: EndUserConnection
    let agent: AgentConnection
    let brokerEndUser: BrokerConnection
    let brokerAgent: BrokerConnection
    let sessionID: SessionID
    let endUserToken: ResumeToken
    let agentToken: ResumeToken
    let agentInfo = AgentInfo(name: "Alice Agent", jobTitle: "Support", organisation: "Example Ltd")
    let endUserInfo = EndUserInfo(name: "Bob", machineName: "bob-pc", operatingSystem: "Linux")

    private var joined = false, authenticated = false, lobbySent = false
    var lobbyEntry: SessionID?
    var connectRequested = false
    var verified = (endUser: false, agent: false)

    // Counters of what arrived.
    var pointers = 0, keys = 0, clipboards = 0, clipboardBytes = 0, chats = 0, cursorPositions = 0
    var screenUpdates = 0, screenInfos = 0
    var relayed = 0
    /// Bytes each peer sent to the broker.
    var agentBytes = 0, endUserBytes = 0
    /// When set, every chunk moved is recorded with its hop.
    var recording = false
    var tapped: [(Hop, [UInt8])] = []

    init(seed: UInt64, record: Bool = false) throws {
        var random = SeededRandom(seed: seed)
        endUser = EndUserConnection(now: now)
        agent = AgentConnection(now: now)
        brokerEndUser = BrokerConnection(now: now)
        brokerAgent = BrokerConnection(now: now)
        let b = random.bytes(16)
        sessionID = SessionID(UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                                          b[12], b[13], b[14], b[15])))
        endUserToken = .random(using: &random)
        agentToken = .random(using: &random)
        let endUserKey = try EphemeralKey(rawRepresentation: random.bytes(32))
        let agentKey = try EphemeralKey(rawRepresentation: random.bytes(32))
        recording = record

        try endUser.join(.connectionID("123456"), endUserInfo)
        try agent.authenticate(token: "bench-token")
        try pump()
        guard let id = lobbyEntry, id == sessionID else { fatal("setup: no lobby entry") }
        try agent.connect(to: id, mode: .control, key: agentKey)
        try pump()
        guard connectRequested else { fatal("setup: no connect request") }
        try endUser.consent(.control, key: endUserKey)
        try pump()
        guard verified.endUser, verified.agent, agent.canSendInput else { fatal("setup: the session did not start") }
        guard endUser.shortAuthenticationString == agent.shortAuthenticationString else { fatal("setup: SAS differ") }
    }

    private func tap(_ hop: Hop, _ bytes: [UInt8]) { if recording { tapped.append((hop, bytes)) } }

    func pump() throws {
        while true {
            var moved = false
            let a = agent.takeOutput()
            if !a.isEmpty { tap(.agentToBroker, a); agentBytes += a.count; brokerAgent.receive(a, now: now); moved = true }
            let e = endUser.takeOutput()
            if !e.isEmpty { tap(.endUserToBroker, e); endUserBytes += e.count; brokerEndUser.receive(e, now: now); moved = true }
            if moved { try brokerEvents() }
            let toEndUser = brokerEndUser.takeOutput()
            if !toEndUser.isEmpty { tap(.brokerToEndUser, toEndUser); endUser.receive(toEndUser, now: now); moved = true }
            let toAgent = brokerAgent.takeOutput()
            if !toAgent.isEmpty { tap(.brokerToAgent, toAgent); agent.receive(toAgent, now: now); moved = true }
            peerEvents()
            if !moved { return }
        }
    }

    private func offerLobby() throws {
        guard joined, authenticated, !lobbySent else { return }
        lobbySent = true
        try brokerAgent.sendLobby(LobbyEntry(sessionID: sessionID, endUser: endUserInfo, ticket: "T-1",
                                             joinMethod: "connection-id", joinedAt: 1_700_000_000_000))
    }

    private func brokerEvents() throws {
        while let event = brokerEndUser.nextEvent() {
            switch event {
            case .record(let record):
                try brokerAgent.relay(record)
                relayed += 1
            case .hello: break
            case .joinRequested:
                try brokerEndUser.acceptJoin(sessionID, resumeToken: endUserToken, graceSeconds: 60, waitSeconds: 600)
                joined = true
                try offerLobby()
            case .consentAnswered(let mode?, let key?):
                try brokerEndUser.sessionConnected()
                try brokerAgent.sendConnected(sessionID, mode: mode, endUserKey: key, resumeToken: agentToken, graceSeconds: 60)
            default:
                fatal("broker, end-user side: unexpected \(event)")
            }
        }
        while let event = brokerAgent.nextEvent() {
            switch event {
            case .record(let record):
                try brokerEndUser.relay(record)
                relayed += 1
            case .hello: break
            case .authenticateRequested:
                try brokerAgent.acceptAgent(agentID: "agent-1", agentInfo)
                authenticated = true
                try offerLobby()
            case .connectRequested(let id, let mode, let key):
                guard id == sessionID else { fatal("connect to an unknown session") }
                try brokerEndUser.requestConsent(agentInfo, mode: mode, agentKey: key)
            case .sessionEndRequested(let reason, let text):
                try brokerEndUser.sendSessionEnded(reason, text)
            default:
                fatal("broker, agent side: unexpected \(event)")
            }
        }
    }

    private func peerEvents() {
        while let event = endUser.nextEvent() {
            switch event {
            case .pointer: pointers += 1
            case .key: keys += 1
            case .clipboard(let text): clipboards += 1; clipboardBytes += text.utf8.count
            case .chat: chats += 1
            case .connectRequested: connectRequested = true
            case .peerVerified: verified.endUser = true
            case .closed, .peerAway, .peerResumed, .resumed: fatal("end user: unexpected \(event)")
            default: break   // readyForFrame, joined, sessionStarted, sessionEnded
            }
        }
        while let event = agent.nextEvent() {
            switch event {
            case .screenUpdated: screenUpdates += 1
            case .screenInfo: screenInfos += 1
            case .cursorPosition: cursorPositions += 1
            case .lobbySession(let entry): lobbyEntry = entry.sessionID
            case .peerVerified: verified.agent = true
            case .closed, .peerAway, .peerResumed, .resumed, .connectRefused: fatal("agent: unexpected \(event)")
            default: break   // authenticated, sessionStarted, lobbySessionGone, clipboard, chat, cursor shape, access...
            }
        }
    }
}

func inputCases(_ budget: Double, _ results: Results) throws {
    let section = "3 whole path"
    // Pointer motion, taken (sealed and sent) after every event: nothing to merge.
    if selected("3 whole path pointer, 1 per takeOutput") {
        let s = try Session(seed: 10)
        var i = 0
        let bytes0 = s.agentBytes
        let m = try measure(budget) {
            i += 1
            guard try s.agent.sendPointer(x: i % 1920, y: (i / 7) % 1080, buttons: 0) else { fatal("input refused") }
            try s.pump()
            return 1
        }
        guard s.pointers == i else { fatal("pointer: \(i) sent, \(s.pointers) arrived") }
        results.add(section, "pointer, 1 per takeOutput", payload: 10, wire: Double(s.agentBytes - bytes0) / Double(i), m,
                    note: "agent->end user, + ack back each time")
    }
    if selected("3 whole path key, 1 per takeOutput") {
        let s = try Session(seed: 11)
        var i = 0
        let bytes0 = s.agentBytes
        let m = try measure(budget) {
            i += 1
            guard try s.agent.sendKey(keysym: 0x61 + UInt32(i / 2 % 26), down: i % 2 == 1) else { fatal("input refused") }
            try s.pump()
            return 1
        }
        guard s.keys == i else { fatal("key: \(i) sent, \(s.keys) arrived") }
        results.add(section, "key, 1 per takeOutput", payload: 5, wire: Double(s.agentBytes - bytes0) / Double(i), m,
                    note: "agent->end user, + ack back each time")
    }
    // 64 events queued before each takeOutput: presses, releases, keys (none mergeable).
    if selected("3 whole path pointer+key, 64 per takeOutput") {
        let s = try Session(seed: 12)
        var sent = 0
        let bytes0 = s.agentBytes
        let m = try measure(budget) {
            for j in 0..<64 {
                switch j % 4 {
                case 0: _ = try s.agent.sendPointer(x: j, y: j, buttons: 1)
                case 1: _ = try s.agent.sendPointer(x: j, y: j, buttons: 0)
                case 2: _ = try s.agent.sendKey(keysym: 0x41, down: true)
                default: _ = try s.agent.sendKey(keysym: 0x41, down: false)
                }
            }
            sent += 64
            try s.pump()
            return 64
        }
        guard s.pointers + s.keys == sent else { fatal("mix: \(sent) sent, \(s.pointers + s.keys) arrived") }
        results.add(section, "pointer+key, 64 per takeOutput", payload: 7.5, wire: Double(s.agentBytes - bytes0) / Double(sent), m,
                    note: "press/release/key down/up; 1 ack per 64")
    }
    // 64 motions queued before each takeOutput: merged into one message.
    if selected("3 whole path pointer motion x64 merged") {
        let s = try Session(seed: 13)
        var steps = 0
        let bytes0 = s.agentBytes
        let m = try measure(budget) {
            for j in 0..<64 { _ = try s.agent.sendPointer(x: j, y: 2 * j, buttons: 0) }
            steps += 1
            try s.pump()
            return 64
        }
        guard s.pointers == steps else { fatal("merge: \(steps) flushes, \(s.pointers) pointer events arrived") }
        results.add(section, "pointer motion x64 merged", payload: 10, wire: Double(s.agentBytes - bytes0) / Double(steps * 64), m,
                    note: "per event queued; 1 of 64 goes out")
    }
}

/// Clipboard text of `n` bytes, agent -> end user: the real path for an opaque payload of an exact size.
func clipboardCase(_ n: Int, _ budget: Double, _ results: Results) throws {
    guard selected("3 whole path clipboard \(size(n))") else { return }
    var random = SeededRandom(seed: UInt64(20 + n))
    let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,".utf8)
    let text = String(decoding: (0..<n).map { _ in letters[Int(random.next() % UInt64(letters.count))] }, as: UTF8.self)
    let s = try Session(seed: UInt64(30 + n))
    var sent = 0
    let bytes0 = s.agentBytes
    let m = try measure(budget) {
        try s.agent.sendClipboard(text)
        sent += 1
        try s.pump()
        return 1
    }
    guard s.clipboards == sent, s.clipboardBytes == sent * n else { fatal("clipboard \(n): \(sent) sent, \(s.clipboards) arrived") }
    results.add("3 whole path", "clipboard \(size(n))", payload: Double(n), wire: Double(s.agentBytes - bytes0) / Double(sent), m,
                note: "agent->end user, opaque text, + ack back")
}

/// The broker's share: record frames the agent sealed, fed again and again to the agent-side
/// BrokerConnection (it never reads records, so the same bytes do), relayed to the end-user side and taken
/// as output there. Per message: FrameDecoder, ControlMessage(frame:), the event, relay, frame encoding.
func relayCase(_ name: String, payload: Int, _ budget: Double, _ results: Results,
               _ send: (AgentConnection) throws -> Void) throws {
    guard selected("3 broker relay \(name)") else { return }
    let s = try Session(seed: UInt64(90 + payload))
    try send(s.agent)
    let bytes = s.agent.takeOutput()
    let records = try frames(bytes)
    guard !records.isEmpty, records.allSatisfy({ $0.0 == .record }) else { fatal("relay \(name): not only records") }
    let m = try measure(budget) {
        s.brokerAgent.receive(bytes, now: s.now)
        while let event = s.brokerAgent.nextEvent() {
            guard case .record(let record) = event else { fatal("relay \(name): \(event)") }
            try s.brokerEndUser.relay(record)
        }
        guard s.brokerEndUser.takeOutput().count == bytes.count else { fatal("relay \(name): output differs") }
        return 1
    }
    results.add("3 broker relay", name, payload: Double(payload), wire: Double(bytes.count), m,
                note: "receive, parse, relay, take output; \(records.count) record\(records.count == 1 ? "" : "s")")
}

/// The records' cipher alone on a message of `n` bytes, cut as the channel cuts it: seal and open every
/// record with swift-crypto. AES-256-GCM is what RecordCipher.swift uses; ChaCha20-Poly1305 (its cipher
/// before) is measured beside it for comparison.
func cryptoFloor(_ n: Int, chacha: Bool, _ budget: Double, _ results: Results) throws {
    let cipher = chacha ? "ChaCha20-Poly1305" : "AES-256-GCM"
    guard selected("3 crypto floor \(cipher) \(size(n))") else { return }
    var random = SeededRandom(seed: UInt64(40 + n))
    let key = SymmetricKey(data: random.bytes(32))
    let message = random.bytes(n + 10)   // + the clipboard/screen-update header
    var pieces: [[UInt8]] = []
    var offset = 0
    repeat {
        let end = min(offset + recordPayload, message.count)
        var piece: [UInt8] = [end < message.count ? 1 : 0]
        piece.append(contentsOf: message[offset..<end])
        pieces.append(piece)
        offset = end
    } while offset < message.count
    var counter: UInt64 = 0
    let m = try measure(budget) {
        for piece in pieces {
            var nonce = [UInt8](repeating: 0, count: 12)
            withUnsafeBytes(of: counter.bigEndian) { for i in 0..<8 { nonce[4 + i] = $0[i] } }
            counter += 1
            if chacha {
                let box = try ChaChaPoly.seal(piece, using: key, nonce: try ChaChaPoly.Nonce(data: nonce))
                sink &+= UInt64(try ChaChaPoly.open(box, using: key).count)
            } else {
                let box = try AES.GCM.seal(piece, using: key, nonce: try AES.GCM.Nonce(data: nonce))
                sink &+= UInt64(try AES.GCM.open(box, using: key).count)
            }
        }
        return 1
    }
    results.add("3 crypto floor", "\(cipher) \(size(n))", payload: Double(n), wire: nil, m,
                note: "seal+open, \(pieces.count) record\(pieces.count == 1 ? "" : "s"), swift-crypto only\(chacha ? " (comparison)" : "")")
}

// MARK: Screen updates through the real codec

let screenWidth = 640, screenHeight = 480
let screenOrigin = (x: 40, y: 24)

/// Random pixels (B, G, R, X=0), `count` patches of `w` x `h`.
func noisePatches(_ w: Int, _ h: Int, count: Int, seed: UInt64) -> [[UInt8]] {
    var random = SeededRandom(seed: seed)
    return (0..<count).map { _ in
        var p = random.bytes(w * h * 4)
        for i in stride(from: 3, to: p.count, by: 4) { p[i] = 0 }
        return p
    }
}

func baseFrame() throws -> Framebuffer {
    var fb = try Framebuffer(width: screenWidth, height: screenHeight, format: .bgrx8888)
    for y in 0..<screenHeight {
        for x in 0..<screenWidth {
            let i = (y * screenWidth + x) * 4
            fb.bytes[i] = UInt8(x & 0xF0); fb.bytes[i + 1] = UInt8(y & 0xF0); fb.bytes[i + 2] = 0x40
        }
    }
    return fb
}

func paste(_ patch: [UInt8], _ w: Int, _ h: Int, into fb: inout Framebuffer) {
    let stride = fb.stride
    fb.bytes.withUnsafeMutableBytes { dst in
        patch.withUnsafeBytes { src in
            for row in 0..<h {
                (dst.baseAddress! + (screenOrigin.y + row) * stride + screenOrigin.x * 4)
                    .copyMemory(from: src.baseAddress! + row * w * 4, byteCount: w * 4)
            }
        }
    }
}

/// An encoder and decoder configured as the connections configure theirs (default options, ZRLE, Raw,
/// CopyRect), having sent the base frame.
final class CodecTwin {
    let encoder: UpdateEncoder
    let decoder: UpdateDecoder
    init(_ base: Framebuffer) throws {
        encoder = try UpdateEncoder(width: screenWidth, height: screenHeight, sourceFormat: .bgrx8888, clientFormat: .bgrx8888)
        encoder.setEncodings([.zrle, .raw, .copyRect])
        decoder = try UpdateDecoder(width: screenWidth, height: screenHeight, format: .bgrx8888)
        let first = try base.withView { try encoder.encode($0, incremental: false) }
        _ = try decoder.apply(first.message)
    }
    /// Encodes and decodes `fb`; returns the update's size.
    func step(_ fb: Framebuffer) throws -> Int {
        let u = try fb.withView { try encoder.encode($0, incremental: true) }
        _ = try decoder.apply(u.message)
        return u.message.count
    }
}

func shape(_ pixels: Int) -> (Int, Int) {
    let w = min(512, max(1, Int(Double(pixels).squareRoot().rounded(.up))))
    return (w, max(1, (pixels + w - 1) / w))
}

/// The changed rectangle of random pixels whose ZRLE update is close to `target` bytes.
func calibrate(_ target: Int) throws -> (w: Int, h: Int, mean: Double) {
    var pixels = max(1, (target - 24) / 3)
    var best: (w: Int, h: Int, mean: Double) = (1, 1, 0)
    for _ in 0..<8 {
        let (w, h) = shape(pixels)
        var fb = try baseFrame()
        let twin = try CodecTwin(fb)
        var total = 0
        let patches = noisePatches(w, h, count: 16, seed: 99)
        for p in patches { paste(p, w, h, into: &fb); total += try twin.step(fb) }
        let mean = Double(total) / Double(patches.count)
        if best.mean == 0 || abs(mean - Double(target)) < abs(best.mean - Double(target)) { best = (w, h, mean) }
        if abs(mean - Double(target)) / Double(target) < 0.03 { break }
        pixels = max(1, Int((Double(pixels) * (Double(target) - 24) / max(1, mean - 24)).rounded()))
    }
    return best
}

func screenCase(_ target: Int, _ w: Int, _ h: Int, _ budget: Double, _ results: Results) throws {
    guard selected("3 whole path screen update ~\(size(target))") else { return }
    // Enough different patches that zlib's 32 KiB window never sees one again.
    let count = max(8, min(4096, (4 * 32 * 1024) / max(1, w * h * 3) + 1))
    let patches = noisePatches(w, h, count: count, seed: UInt64(50 + target))

    // The codec alone on the same frames.
    var fb = try baseFrame()
    let twin = try CodecTwin(fb)
    var k = 0, updateBytes = 0
    func codecStep() throws -> Int {
        paste(patches[k % count], w, h, into: &fb)
        k += 1
        updateBytes += try twin.step(fb)
        return 1
    }

    // The whole path: shareFrame -> record -> broker -> relay -> broker -> AgentConnection (decode, ack back).
    let s = try Session(seed: UInt64(60 + target))
    var frame = try baseFrame()
    guard try frame.withView({ try s.endUser.shareFrame($0) }) else { fatal("the first frame was not shared") }
    try s.pump()
    let updates0 = s.screenUpdates, bytes0 = s.endUserBytes
    var shared = 0
    func wholeStep() throws -> Int {
        paste(patches[shared % count], w, h, into: &frame)
        shared += 1
        guard try frame.withView({ try s.endUser.shareFrame($0) }) else { fatal("frame \(shared) not shared (window full?)") }
        try s.pump()
        return 1
    }
    // Rounds of the two alternate, so that both see the same machine; the fastest round of each counts.
    _ = try measure(budget / 10, rounds: 1, warmUp: false, codecStep)
    _ = try measure(budget / 10, rounds: 1, warmUp: false, wholeStep)
    var codec = Measurement(messages: 1, seconds: .infinity, steps: 0), whole = codec
    for _ in 0..<roundsPerCase {
        let c = try measure(budget / Double(roundsPerCase), rounds: 1, warmUp: false, codecStep)
        if c.seconds / Double(c.messages) < codec.seconds / Double(codec.messages) { codec = c }
        let w = try measure(budget / Double(roundsPerCase), rounds: 1, warmUp: false, wholeStep)
        if w.seconds / Double(w.messages) < whole.seconds / Double(whole.messages) { whole = w }
    }
    let mean = Double(updateBytes) / Double(k)
    guard s.screenUpdates - updates0 == shared else { fatal("screen: \(shared) shared, \(s.screenUpdates - updates0) applied") }
    guard let screen = s.agent.screen,
          UnsafeRawBufferPointer(start: screen.pixels, count: screen.stride * screen.height).elementsEqual(frame.bytes) else {
        fatal("screen \(target): the agent's framebuffer differs from the end user's frame")
    }
    let wire = Double(s.endUserBytes - bytes0) / Double(shared)
    let label = "screen update ~\(size(target)) (\(w)x\(h))"
    results.add("3 whole path", label, payload: mean, wire: wire, whole, note: "end user->agent, ZRLE codec included, + updateAck")
    results.add("3 codec alone", label, payload: mean, wire: nil, codec, note: "UpdateEncoder.encode + UpdateDecoder.apply")
    let wholeNs = whole.seconds * 1e9 / Double(whole.messages)
    let codecNs = codec.seconds * 1e9 / Double(codec.messages)
    let protocolNs = wholeNs - codecNs
    results.screen.append(ScreenRow(target: target, rectangle: "\(w)x\(h)", updateBytes: mean, wholeNanoseconds: wholeNs,
                                    codecNanoseconds: codecNs, protocolNanoseconds: protocolNs,
                                    protocolMBPerSecond: mean / protocolNs * 1e3,
                                    protocolTimesMemcpy: results.memcpy[Int(mean.rounded())].map { protocolNs / $0 }))
}

// MARK: - 4. Bytes on the wire per message kind

/// The frames in `bytes`: (type, whole frame size).
func frames(_ bytes: [UInt8]) throws -> [(FrameType, Int)] {
    var decoder = FrameDecoder(maximumLength: ConnectionOptions().maximumFrameLength)
    decoder.receive(bytes)
    var out: [(FrameType, Int)] = []
    while let frame = try decoder.next() { out.append((frame.type, frame.payload.count + Frame.headerSize)) }
    guard decoder.bufferedCount == 0 else { fatal("a partial frame in the output") }
    return out
}

func overheadRows(_ shapes: [(w: Int, h: Int, mean: Double)], _ results: Results) throws {
    let s = try Session(seed: 70, record: true)
    let setup = s.tapped
    func capture(_ body: () throws -> Void) throws -> [(Hop, [UInt8])] {
        s.tapped = []
        try body()
        try s.pump()
        return s.tapped
    }
    /// Adds a row for the session message that crossed `from` (and its relay on `to`): records and sizes
    /// parsed from the captured bytes, `payload` given by the caller, `expected` the message's own bytes.
    func row(_ kind: String, _ direction: String, payload: Int, expected: SessionMessage?, _ chunks: [(Hop, [UInt8])],
             from: Hop, to: Hop, skip: Int = 0, records wanted: Int? = nil) throws {
        let sent = try chunks.filter { $0.0 == from }.flatMap { try frames($0.1) }.filter { $0.0 == .record }
        let relayed = try chunks.filter { $0.0 == to }.flatMap { try frames($0.1) }.filter { $0.0 == .record }
        let count = wanted ?? (sent.count - skip)
        let mine = Array(sent.dropFirst(skip).prefix(count))
        guard !mine.isEmpty else { fatal("\(kind): no record captured") }
        let wire = mine.reduce(0) { $0 + $1.1 }
        var relayedWire: Int?
        if relayed.count >= skip + count { relayedWire = relayed.dropFirst(skip).prefix(count).reduce(0) { $0 + $1.1 } }
        let messageBytes = wire - mine.count * recordOverhead
        let consistent = expected.map { $0.bytes.count == messageBytes } ?? true
        results.overhead.append(OverheadRow(
            kind: kind, direction: direction, payloadBytes: payload, messageHeaderBytes: messageBytes - payload,
            records: mine.count, frameHeaderBytes: mine.count * Frame.headerSize, recordHeaderBytes: mine.count * SessionRecord.headerSize,
            tagBytes: mine.count * SessionRecord.tagSize, fragmentBytes: mine.count, wireBytes: wire, relayedBytes: relayedWire,
            overheadBytes: wire - payload, overheadPercent: 100 * Double(wire - payload) / Double(wire),
            consistent: consistent && (relayedWire == nil || relayedWire == wire)))
    }

    // start: version 2 + features 8 + both keys 64 = 74 B, the first record each way (captured during setup).
    let someKey = try KeyShare([UInt8](repeating: 1, count: KeyShare.size))
    let start = SessionMessage.start(version: 1, features: .all, senderKey: someKey, receiverKey: someKey)
    try row("start", "end user->agent", payload: 74, expected: start, setup, from: .endUserToBroker, to: .brokerToAgent, records: 1)
    try row("start", "agent->end user", payload: 74, expected: start, setup, from: .agentToBroker, to: .brokerToEndUser, records: 1)
    // pointer: x, y, buttons, wheel x, wheel y = 10 B of content; the end user's ack comes back.
    var chunks = try capture { _ = try s.agent.sendPointer(x: 100, y: 200, buttons: 1) }
    try row("pointer", "agent->end user", payload: 10, expected: .pointer(seq: 1, x: 100, y: 200, buttons: 1, wheelX: 0, wheelY: 0),
            chunks, from: .agentToBroker, to: .brokerToEndUser)
    try row("ack (reliable)", "end user->agent", payload: 4, expected: .ack(seq: 1), chunks, from: .endUserToBroker, to: .brokerToAgent)
    chunks = try capture { _ = try s.agent.sendKey(keysym: 0x61, down: true) }
    try row("key", "agent->end user", payload: 5, expected: .key(seq: 2, keysym: 0x61, down: true), chunks,
            from: .agentToBroker, to: .brokerToEndUser)
    let chat = "Hello, can you see my screen now?"
    chunks = try capture { try s.agent.sendChat(chat) }
    try row("chat (\(chat.utf8.count) B text)", "agent->end user", payload: chat.utf8.count,
            expected: .chat(seq: 3, text: chat), chunks, from: .agentToBroker, to: .brokerToEndUser)
    var random = SeededRandom(seed: 71)
    for n in [64, 1024, 16 << 10, 256 << 10] {
        let text = String(decoding: random.bytes(n).map { 0x61 + $0 % 26 }, as: UTF8.self)
        let seq = UInt32(4 + [64, 1024, 16 << 10, 256 << 10].firstIndex(of: n)!)
        chunks = try capture { try s.agent.sendClipboard(text) }
        try row("clipboard \(size(n))", "agent->end user", payload: n, expected: .clipboard(seq: seq, text: text), chunks,
                from: .agentToBroker, to: .brokerToEndUser)
    }
    chunks = try capture { try s.endUser.sendCursorPosition(x: 10, y: 20) }
    try row("cursor position", "end user->agent", payload: 4, expected: .cursorPosition(x: 10, y: 20), chunks,
            from: .endUserToBroker, to: .brokerToAgent)
    let rgba = random.bytes(32 * 32 * 4)
    chunks = try capture { try s.endUser.sendCursorShape(hotX: 1, hotY: 1, width: 32, height: 32, rgba: rgba) }
    try row("cursor shape 32x32", "end user->agent", payload: rgba.count,
            expected: .cursorShape(hotX: 1, hotY: 1, width: 32, height: 32, rgba: rgba), chunks, from: .endUserToBroker, to: .brokerToAgent)
    chunks = try capture { try s.endUser.setAccess(.control) }
    try row("access", "end user->agent", payload: 1, expected: .access(seq: 1, mode: .control), chunks,
            from: .endUserToBroker, to: .brokerToAgent)

    // Screen updates: sizes from a codec twin fed the same frames in step.
    var fb = try baseFrame()
    let twin = try CodecTwin(fb)
    chunks = try capture { guard try fb.withView({ try s.endUser.shareFrame($0) }) else { fatal("first frame not shared") } }
    // The first share sends screen info, then the full update.
    let info = SessionMessage.screenInfo(generation: 1, width: UInt16(screenWidth), height: UInt16(screenHeight), format: .bgrx8888)
    try row("screen info", "end user->agent", payload: 24, expected: info, chunks, from: .endUserToBroker, to: .brokerToAgent,
            records: 1)
    var sequence: UInt32 = 1
    for (target, shape) in zip([64, 1024, 16 << 10, 256 << 10], shapes) {
        let (w, h) = (shape.w, shape.h)
        let patch = noisePatches(w, h, count: 1, seed: UInt64(80 + target))[0]
        paste(patch, w, h, into: &fb)
        let update = try fb.withView { try twin.encoder.encode($0, incremental: true) }.message
        sequence += 1
        chunks = try capture { guard try fb.withView({ try s.endUser.shareFrame($0) }) else { fatal("frame not shared") } }
        try row("screen update \(update.count) B", "end user->agent", payload: update.count,
                expected: .screenUpdate(generation: 1, sequence: sequence, update: update), chunks,
                from: .endUserToBroker, to: .brokerToAgent)
        if target == 64 {
            try row("update ack", "agent->end user", payload: 4, expected: .updateAck(sequence: sequence), chunks,
                    from: .agentToBroker, to: .brokerToEndUser)
        }
    }
    // end: reason 2 B; header = type, flags, text length (the text is empty). The broker's session-ended
    // control frame follows it on the agent's hop (not counted here).
    // After the screen updates: a refresh makes the next update a full one.
    chunks = try capture { try s.agent.requestRefresh() }
    try row("refresh", "agent->end user", payload: 0, expected: .refresh, chunks, from: .agentToBroker, to: .brokerToEndUser)
    chunks = try capture { try s.agent.endSession() }
    try row("end", "agent->end user", payload: 2, expected: .end(.endedByAgent, ""), chunks, from: .agentToBroker, to: .brokerToEndUser)
}

// MARK: - Main

nonisolated(unsafe) var loadAverage = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?
    .split(separator: " ").prefix(3).joined(separator: " ") ?? "?"

func machine() -> String {
    let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("model name") }?
        .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
    return "\(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores"
}

func printTables(_ results: Results, _ options: Options) {
    print("protocol-bench: \(machine()); \(f(options.seconds, 2)) s per case; MB = 10^6 B; one thread, in memory")
    print("payload = application bytes per message; wire = bytes per message on the sender's hop;")
    print("x memcpy = time per message / memcpy of the payload bytes in one chunk of that size")
    print("each case: warm-up, then \(roundsPerCase) rounds of \(f(options.seconds / Double(roundsPerCase), 2)) s, the fastest round counts; "
          + "load average at start: \(loadAverage)")
    var section = ""
    for r in results.rows {
        if r.section != section {
            section = r.section
            print("")
            print("== \(section)")
            print(pad("case", 38) + lpad("payload B", 10) + lpad("wire B", 9) + lpad("msgs/s", 10) + lpad("ns/msg", 11)
                  + lpad("MB/s", 9) + lpad("x memcpy", 10) + "  note")
        }
        let payload = r.payloadBytes == r.payloadBytes.rounded() ? "\(Int(r.payloadBytes))" : f(r.payloadBytes)
        print(pad(r.name, 38) + lpad(payload, 10) + lpad(r.wireBytes.map { f($0, $0 >= 1000 ? 0 : 1) } ?? "-", 9)
              + lpad(rate(r.messagesPerSecond), 10) + lpad(f(r.nanosecondsPerMessage), 11)
              + lpad(f(r.payloadMBPerSecond, r.payloadMBPerSecond < 10 ? 2 : 0), 9)
              + lpad(r.timesMemcpy.map { f($0, $0 < 10 ? 2 : 0) } ?? "-", 10) + "  " + r.note)
    }
    print("")
    print("== screen updates: the protocol's share (whole path - codec alone, per update)")
    print(pad("update", 30) + lpad("bytes", 9) + lpad("whole us", 10) + lpad("codec us", 10) + lpad("protocol us", 13)
          + lpad("proto MB/s", 12) + lpad("x memcpy", 10))
    for r in results.screen {
        print(pad("~\(size(r.target)) (\(r.rectangle))", 30) + lpad(f(r.updateBytes, 0), 9) + lpad(f(r.wholeNanoseconds / 1e3, 2), 10)
              + lpad(f(r.codecNanoseconds / 1e3, 2), 10) + lpad(f(r.protocolNanoseconds / 1e3, 2), 13)
              + lpad(f(r.protocolMBPerSecond, 0), 12) + lpad(r.protocolTimesMemcpy.map { f($0, 0) } ?? "-", 10))
    }
    print("")
    print("== 4 bytes on the wire per message (parsed from the connections' output; relay hop in 'relayed')")
    print("   per record: frame header \(Frame.headerSize) + record header \(SessionRecord.headerSize) + tag \(SessionRecord.tagSize)"
          + " + fragment byte 1 = \(recordOverhead) B; message header = type + flags + fixed fields (seq, generation...)")
    print(pad("kind", 26) + pad("direction", 17) + lpad("payload", 8) + lpad("msg hdr", 8) + lpad("recs", 5) + lpad("frame", 6)
          + lpad("rec hdr", 8) + lpad("tag", 5) + lpad("frag", 5) + lpad("wire B", 8) + lpad("relayed", 8) + lpad("overhead", 9)
          + lpad("ovh %", 7) + "  check")
    for r in results.overhead {
        print(pad(r.kind, 26) + pad(r.direction, 17) + lpad("\(r.payloadBytes)", 8) + lpad("\(r.messageHeaderBytes)", 8)
              + lpad("\(r.records)", 5) + lpad("\(r.frameHeaderBytes)", 6) + lpad("\(r.recordHeaderBytes)", 8)
              + lpad("\(r.tagBytes)", 5) + lpad("\(r.fragmentBytes)", 5) + lpad("\(r.wireBytes)", 8)
              + lpad(r.relayedBytes.map { "\($0)" } ?? "-", 8) + lpad("\(r.overheadBytes)", 9) + lpad(f(r.overheadPercent), 7)
              + "  " + (r.consistent ? "ok" : "MISMATCH"))
    }
    let ping = ControlMessage.ping(1).frame.bytes.count
    print("control frames: ping/pong \(ping) B (header \(Frame.headerSize) + 8); a record frame adds \(Frame.headerSize + SessionRecord.headerSize) B"
          + " around the sealed bytes; the broker relays records unchanged (relayed = wire)")
}

struct Report: Codable {
    var machine: String
    var loadAverageAtStart: String
    var roundsPerCase: Int
    var secondsPerCase: Double
    var throughput: [Row]
    var screen: [ScreenRow]
    var overhead: [OverheadRow]
}

func main() throws {
    let options = parseOptions()
    onlyFilter = options.only
    let budget = options.seconds
    let results = Results()
    let opaque = [64, 1024, 16 << 10, 256 << 10]
    if !options.json { FileHandle.standardError.write(Data("protocol-bench: calibrating screen updates...\n".utf8)) }
    let shapes = try opaque.map { try calibrate($0) }

    let lobby = LobbyEntry(sessionID: SessionID(UUID(uuid: (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16))),
                           endUser: EndUserInfo(name: "Bob Example", machineName: "bob-laptop", operatingSystem: "Ubuntu 24.04"),
                           ticket: "INC-12345", joinMethod: "connection-id", joinedAt: 1_700_000_000_000)
    let lobbyPayload = ControlMessage.lobbySession(lobby).frame.payload.count
    if !options.json { FileHandle.standardError.write(Data("protocol-bench: baselines...\n".utf8)) }
    // The screen updates' sizes are known once the codec ran: their baselines come after them.
    baselines(Array(Set([4, 5, 8, 10, lobbyPayload] + opaque)), budget, results)

    if !options.json { FileHandle.standardError.write(Data("protocol-bench: framing...\n".utf8)) }
    try framingControl("ping (control)", .ping(0x0123_4567_89AB_CDEF), budget, results)
    try framingControl("lobby-session (control)", .lobbySession(lobby), budget, results)
    try framingSession("pointer", .pointer(seq: 7, x: 640, y: 360, buttons: 1, wheelX: 0, wheelY: 0), payload: 10, budget, results)
    try framingSession("key", .key(seq: 8, keysym: 0x61, down: true), payload: 5, budget, results)
    try framingSession("update ack", .updateAck(sequence: 9), payload: 4, budget, results)
    var random = SeededRandom(seed: 2)
    for n in opaque {
        try framingSession("screen update \(size(n)) (opaque)", .screenUpdate(generation: 1, sequence: 3, update: random.bytes(n)),
                           payload: n, budget, results)
    }

    if !options.json { FileHandle.standardError.write(Data("protocol-bench: whole path...\n".utf8)) }
    try inputCases(budget, results)
    for n in opaque { try clipboardCase(n, budget, results) }
    for (n, s) in zip(opaque, shapes) { try screenCase(n, s.w, s.h, budget, results) }
    for n in opaque { try cryptoFloor(n, chacha: false, budget, results) }
    for n in opaque { try cryptoFloor(n, chacha: true, budget, results) }
    try relayCase("pointer record", payload: 10, budget, results) { _ = try $0.sendPointer(x: 1, y: 2, buttons: 0) }
    for n in opaque {
        let text = String(repeating: "x", count: n)
        try relayCase("clipboard \(size(n)) records", payload: n, budget, results) { try $0.sendClipboard(text) }
    }
    // Baselines for the screen updates' measured mean sizes (ratios use the nearest byte).
    let missing = results.rows.map { Int($0.payloadBytes.rounded()) }.filter { results.memcpy[$0] == nil }
    if !missing.isEmpty { baselines(Array(Set(missing)), budget, results) }

    if selected("4 overhead") {
        if !options.json { FileHandle.standardError.write(Data("protocol-bench: bytes on the wire...\n".utf8)) }
        try overheadRows(shapes, results)
    }

    // Rows measured before their baseline existed get their ratio now; baselines first in the table.
    for i in results.rows.indices where results.rows[i].memcpyNanoseconds == nil && results.rows[i].section != "1 baseline" {
        if let base = results.memcpy[Int(results.rows[i].payloadBytes.rounded())] {
            results.rows[i].memcpyNanoseconds = base
            results.rows[i].timesMemcpy = results.rows[i].nanosecondsPerMessage / base
        }
    }
    for i in results.screen.indices {
        let r = results.screen[i]
        if let base = results.memcpy[Int(r.updateBytes.rounded())] { results.screen[i].protocolTimesMemcpy = r.protocolNanoseconds / base }
    }
    let order = ["1 baseline", "2 framing only", "3 whole path", "3 broker relay", "3 crypto floor", "3 codec alone"]
    results.rows = order.flatMap { s in results.rows.filter { $0.section == s } }
    // Baselines by size, memcpy before Array copy.
    let baselineRows = results.rows.prefix { $0.section == "1 baseline" }
    results.rows.replaceSubrange(0..<baselineRows.count, with: baselineRows.enumerated().sorted {
        ($0.element.payloadBytes, $0.offset) < ($1.element.payloadBytes, $1.offset)
    }.map(\.element))

    if options.json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let report = Report(machine: machine(), loadAverageAtStart: loadAverage, roundsPerCase: roundsPerCase, secondsPerCase: budget, throughput: results.rows, screen: results.screen,
                            overhead: results.overhead)
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    } else {
        printTables(results, options)
    }
    if sink == 42 { print("") }
}

try main()
