// Seeds for the protocol fuzz targets, from real sessions: an end user and an agent, each run by the
// fuzz targets' own driver (ProtocolFuzz.swift), and a broker in memory (like MiniBroker in the tests)
// that pairs them, all moving bytes until nothing moves. What each side received is saved as a script
// of its target: the peers' records as their plaintexts (the driver seals them again on replay, with the
// same keys, so fuzzed session messages get past authentication), the broker's calls as the actions of
// its steps. Each seed is replayed and must give the events the session gave (a warning otherwise).
import Crypto
import Foundation

/// One peer in a seed session: its driver, what it received as steps, and its broker connection.
final class SeedPeer {
    let driver: PeerDriver
    let broker: SeedBrokerSide
    var steps: [FuzzStep] = []
    /// What it received on each transport, as it came (frame seeds).
    var streams: [[UInt8]] = [[]]
    /// Session messages it received (frame seeds: tails).
    var plaintexts: [[UInt8]] = []
    private var helloPending = true
    /// Between a dropped transport and the reconnect: nothing moves.
    var away = false
    /// The host's current answers (`FuzzStep.answer`) and frame variant.
    var answer = 0
    var variant = 0

    init(_ driver: PeerDriver, broker: SeedBrokerSide) {
        self.driver = driver
        self.broker = broker
        driver.recordEvents = true
        driver.outbox = []
        driver.begin()
    }

    func run(_ s: FuzzStep) {
        steps.append(s)
        driver.run(s)
    }

    func takeOutbox() -> [UInt8] {
        defer { driver.outbox = [] }
        return driver.outbox ?? []
    }

    /// Bytes from the broker: the first frame of a transport (the hello the driver feeds itself) left
    /// out, the control frames as raw steps, each record as the plaintext to seal.
    func deliver(_ bytes: [UInt8]) {
        streams[streams.count - 1] += bytes
        var decoder = FrameDecoder(maximumLength: 1 << 24)
        decoder.receive(bytes)
        var raw: [UInt8] = []
        func flush() {
            if !raw.isEmpty { run(FuzzStep(kind: FuzzStep.raw, answer: answer, variant: variant, data: raw)) }
            raw = []
        }
        while let frame = try! decoder.next() {
            if helloPending {
                helloPending = false
                require(frame.bytes == ProtocolFuzz.hello(.broker), "the broker's hello is not the one the driver feeds")
                continue
            }
            guard case .record(let r)? = try? ControlMessage(frame: frame) else { raw += frame.bytes; continue }
            flush()
            guard let key = driver.incomingKey, let next = driver.nextIncomingRecord, next.0 == r.epoch, let plain = open(r, key) else {
                raw += frame.bytes   // stale, or outside a session: as it came
                continue
            }
            if next != (r.epoch, r.counter) {
                FileHandle.standardError.write("seeds: record \(r.counter) of epoch \(r.epoch) is sealed again as \(next)\n".data(using: .utf8)!)
            }
            if plain.first == 0 { plaintexts.append(Array(plain.dropFirst())) }
            run(FuzzStep(kind: FuzzStep.sealed, answer: answer, variant: variant, data: plain))
        }
        flush()
    }

    func act(_ action: Int, hold: Bool = false) {
        run(FuzzStep(kind: FuzzStep.raw, hold: hold, answer: answer, action: action, variant: variant))
    }

    /// The transport drops (the driver's own action, as a host would see it).
    func lose(action: Int) {
        act(action)
        driver.outbox = []
        away = true
    }

    func reconnect() {
        away = false
        helloPending = true
        streams.append([])
        run(FuzzStep(kind: FuzzStep.reconnect, answer: answer, variant: variant))
    }

    /// Opens the records as the peer's own opener does (a new one for a new session's first record).
    private var opener: RecordOpener?
    private var openerKey: SymmetricKey?

    private func open(_ r: SessionRecord, _ key: SymmetricKey) -> [UInt8]? {
        if opener == nil || openerKey != key || (r.epoch == 0 && r.counter == 0) {
            opener = RecordOpener(key: key)
            openerKey = key
        }
        if r.epoch > opener!.epoch { opener!.startEpoch(r.epoch) }
        return (try? opener!.open(r)) ?? nil
    }
}

/// The broker's side of one peer, across its transports: the steps of the broker target (what it
/// received, and the broker's calls as their actions; answer 2, so the driver answers nothing itself).
final class SeedBrokerSide {
    let flags: UInt8
    private(set) var connection: BrokerConnection
    var steps: [FuzzStep] = []
    var streams: [[UInt8]] = [[]]
    var events: [BrokerEvent] = []
    private var helloPending = true

    init(flags: UInt8, now: UInt64) {
        self.flags = flags
        connection = BrokerConnection(options: ProtocolFuzz.options(flags), now: now)
    }

    func receive(_ bytes: [UInt8], now: UInt64) {
        streams[streams.count - 1] += bytes
        var data = bytes[...]
        if helloPending {
            helloPending = false
            let hello = ProtocolFuzz.hello(flags & 2 == 0 ? .endUser : .agent)
            require(bytes.starts(with: hello), "the peer's hello is not the one the driver feeds")
            data = data.dropFirst(hello.count)
        }
        steps.append(FuzzStep(kind: FuzzStep.raw, answer: 2, data: Array(data)))
        connection.receive(bytes, now: now)
    }

    /// A call of the broker on this connection, logged as an action if it succeeded.
    func call(_ action: BrokerAction, _ body: (BrokerConnection) throws -> Void) {
        guard (try? body(connection)) != nil else { return }
        if let last = steps.last, last.action == 0 {
            steps[steps.count - 1].act |= UInt8(action.rawValue) << 2
        } else {
            steps.append(FuzzStep(kind: FuzzStep.raw, answer: 2, action: action.rawValue))
        }
    }

    func tick(delay: Int, now: UInt64) {
        steps.append(FuzzStep(kind: FuzzStep.raw, delay: delay, tick: true, answer: 2))
        connection.tick(now: now)
    }

    /// The transport is gone; a new one waits for the peer (the broker target's reconnect step).
    func lose(now: UInt64) {
        connection.connectionLost()
    }

    func replace(now: UInt64) {
        steps.append(FuzzStep(kind: FuzzStep.reconnect, answer: 2))
        connection = BrokerConnection(options: ProtocolFuzz.options(flags), now: now)
        helloPending = true
        streams.append([])
    }
}

/// An end user, an agent and a broker pairing them (one session; the broker's rules as in MiniBroker).
final class SeedSession {
    var now = ProtocolFuzz.start
    let flags: UInt8
    let endUser: SeedPeer
    let agent: SeedPeer
    // The session, as the broker keeps it.
    private var joined = false
    private var authenticated = false
    private var connected = false
    private var epoch: UInt32 = 0
    private var pendingConnect = false
    private let endUserToken = ProtocolFuzz.resumeToken
    private let agentToken = try! ResumeToken((0..<32).map { UInt8(200 - $0) })

    init(flags: UInt8 = 0) {
        self.flags = flags
        endUser = SeedPeer(EndUserDriver(flags: flags), broker: SeedBrokerSide(flags: flags, now: now))
        agent = SeedPeer(AgentDriver(flags: flags), broker: SeedBrokerSide(flags: flags | 2, now: now))
    }

    private var peers: [SeedPeer] { [endUser, agent] }
    private func other(_ p: SeedPeer) -> SeedPeer { p === endUser ? agent : endUser }

    /// Moves bytes both ways until nothing moves.
    func run() {
        for _ in 0..<10_000 {
            var moved = false
            for p in peers where !p.away {
                let out = p.takeOutbox()
                if !out.isEmpty { p.broker.receive(out, now: now); moved = true }
            }
            process()
            for p in peers where !p.away {
                let out = p.broker.connection.takeOutput()
                if !out.isEmpty { p.deliver(out); moved = true }
            }
            if !moved { return }
        }
        fatalError("the seed session did not settle")
    }

    func act(_ p: SeedPeer, _ actions: Int...) {
        for a in actions { p.act(a) }
        run()
    }

    /// Time passes and every side ticks.
    func advance(_ delay: Int) {
        now += ProtocolFuzz.delays[delay]
        for p in peers where !p.away {
            p.run(FuzzStep(kind: FuzzStep.raw, delay: delay, tick: true, answer: p.answer, variant: p.variant))
            p.broker.tick(delay: delay, now: now)
        }
        // An away peer's clock runs too: its next step carries the time.
        for p in peers where p.away {
            p.run(FuzzStep(kind: FuzzStep.raw, delay: delay, answer: p.answer, variant: p.variant))
            p.broker.steps.append(FuzzStep(kind: FuzzStep.raw, delay: delay, answer: 2))
        }
        run()
    }

    /// The peer's transport drops, on both ends.
    func lose(_ p: SeedPeer) {
        p.lose(action: p === endUser ? 12 : 10)
        p.broker.lose(now: now)
        process()
        p.broker.replace(now: now)
        run()
    }

    func reconnect(_ p: SeedPeer) {
        p.reconnect()
        run()
    }

    private func process() {
        var progress = true
        while progress {
            progress = false
            for p in peers {
                while let e = p.broker.connection.nextEvent() {
                    p.broker.events.append(e)
                    progress = true
                    handle(e, from: p)
                }
            }
        }
    }

    private var entry: LobbyEntry {
        LobbyEntry(sessionID: ProtocolFuzz.sessionID, endUser: ProtocolFuzz.endUserInfo, ticket: "T-1", joinMethod: "connection-id",
                   joinedAt: 1_700_000_000_000)
    }

    private func handle(_ event: BrokerEvent, from p: SeedPeer) {
        let id = ProtocolFuzz.sessionID
        let b = p.broker
        switch event {
        case .hello:
            break
        case .joinRequested:
            joined = true
            b.call(.acceptJoin) { try $0.acceptJoin(id, resumeToken: endUserToken, graceSeconds: 60, waitSeconds: 600) }
            if authenticated { agent.broker.call(.sendLobby) { try $0.sendLobby(entry) } }
        case .authenticateRequested:
            authenticated = true
            b.call(.acceptAgent) { try $0.acceptAgent(agentID: "agent-1", ProtocolFuzz.agentInfo) }
            if joined && !connected { b.call(.sendLobby) { try $0.sendLobby(entry) } }
        case .resumeRequested(let token):
            if token == endUserToken {
                if connected { epoch += 1 }
                let c = connected
                b.call(c ? .acceptResumeConnected : .acceptResumeWaiting) { try $0.acceptResume(id, epoch: c ? epoch : 0, connected: c) }
                if c && !agent.away { agent.broker.call(.sendPeerResumed) { try $0.sendPeerResumed(epoch: epoch) } }
                if c && agent.away { b.call(.sendPeerAway) { try $0.sendPeerAway(graceSeconds: 60) } }
            } else if token == agentToken {
                epoch += 1
                b.call(.acceptResumeConnected) { try $0.acceptResume(id, epoch: epoch, connected: true) }
                if !endUser.away {
                    endUser.broker.call(.sendPeerResumed) { try $0.sendPeerResumed(epoch: epoch) }
                } else {
                    b.call(.sendPeerAway) { try $0.sendPeerAway(graceSeconds: 60) }
                }
            }
        case .connectRequested(let sid, let mode, let key):
            guard sid == id, joined, !connected, !endUser.away else {
                b.call(.refuseConnect) { try $0.refuseConnect(sid, .notAllowed, "no such waiting session") }
                return
            }
            pendingConnect = true
            endUser.broker.call(.requestConsent) { try $0.requestConsent(ProtocolFuzz.agentInfo, mode: mode, agentKey: key) }
        case .consentAnswered(let mode, let key):
            guard pendingConnect else { return }
            pendingConnect = false
            guard let mode, let key else {
                agent.broker.call(.refuseConnect) { try $0.refuseConnect(id, .consentDeclined, "declined") }
                return
            }
            b.call(.sessionConnected) { try $0.sessionConnected() }
            connected = true
            agent.broker.call(.sendConnected) { try $0.sendConnected(id, mode: mode, endUserKey: key, resumeToken: agentToken, graceSeconds: 60) }
            agent.broker.call(.sendLobbyGone) { try $0.sendLobbyGone(id, .normal) }
        case .record(let r):
            let o = other(p)
            if !o.away, o.broker.connection.isConnected { o.broker.call(.relay) { try $0.relay(r) } }
        case .sessionEndRequested(let reason, let text):
            end(reason, text, except: p)
        case .closed(let reason, _, let byPeer):
            if byPeer && reason == .peerLost {
                if connected, !other(p).away { other(p).broker.call(.sendPeerAway) { try $0.sendPeerAway(graceSeconds: 60) } }
            } else if connected || (p === endUser && reason != .normal) {
                end(reason, "", except: p)
            }
            if p === endUser && !(byPeer && reason == .peerLost) { joined = false }
        }
    }

    private func end(_ reason: CloseReason, _ text: String, except p: SeedPeer) {
        connected = false
        let o = other(p)
        if !o.away { o.broker.call(.sendSessionEnded) { try $0.sendSessionEnded(reason, text) } }
    }
}

enum ProtocolSeeds {
    /// The sessions the seeds come from.
    static func sessions() -> [(String, SeedSession)] {
        var out: [(String, SeedSession)] = []

        // Join, lobby, connect with control, the first screen; input, chat, clipboard, cursor, access and
        // pause both ways; a new screen size and format; pings; the agent ends, the end user closes.
        let full = SeedSession()
        full.run()
        full.act(full.agent, 3, 4, 5, 6, 1, 2, 7)
        full.agent.act(12, hold: true)
        full.act(full.agent, 3)
        full.act(full.endUser, 9, 1, 2, 7, 8, 3)
        full.act(full.agent, 4, 6)
        full.act(full.endUser, 4, 5, 6)
        full.endUser.variant = 1
        full.act(full.endUser, 9)
        full.endUser.variant = 2
        full.act(full.endUser, 9)
        full.endUser.variant = 0
        full.advance(9)
        full.act(full.agent, 8)
        full.act(full.endUser, 11)
        out.append(("full", full))

        // The end user declines, then accepts view only; the agent gets control later; the end user ends.
        let declined = SeedSession()
        declined.endUser.answer = 2
        declined.run()
        declined.endUser.answer = 1
        declined.act(declined.agent, 11)
        declined.act(declined.agent, 4, 1)
        declined.act(declined.endUser, 4)
        declined.act(declined.agent, 4, 6)
        declined.act(declined.endUser, 10)
        out.append(("declined", declined))

        // Both sides drop and resume (new epochs, reliable messages sent again), with chat while away.
        let resume = SeedSession()
        resume.run()
        resume.act(resume.agent, 1, 3)
        resume.lose(resume.endUser)
        resume.act(resume.agent, 1, 2)
        resume.reconnect(resume.endUser)
        resume.act(resume.endUser, 9, 1)
        resume.lose(resume.agent)
        resume.act(resume.endUser, 1, 9)
        resume.reconnect(resume.agent)
        resume.act(resume.agent, 4, 1)
        resume.act(resume.agent, 8)
        resume.act(resume.endUser, 11)
        out.append(("resume", resume))

        // A connect to another session is refused; then the right one; the end user pauses and ends.
        let refused = SeedSession()
        refused.agent.answer = 3
        refused.run()
        refused.agent.answer = 0
        refused.act(refused.agent, 11)
        refused.act(refused.endUser, 5)
        refused.act(refused.agent, 3, 7)
        refused.act(refused.endUser, 6, 10)
        out.append(("refused", refused))

        // Small records (messages in pieces) and a window of one update.
        let small = SeedSession(flags: 4)
        small.run()
        for _ in 0..<4 { small.act(small.agent, 2) }
        for _ in 0..<4 { small.act(small.endUser, 2, 9) }
        small.act(small.endUser, 7, 10)
        out.append(("small-records", small))

        // Nobody connects: pings after 15 s, the waiting session outlives them, then silence times out.
        let idle = SeedSession()
        idle.agent.answer = 2
        idle.run()
        idle.advance(9)
        idle.advance(5)
        idle.advance(12)
        out.append(("idle", idle))
        return out
    }

    static func write(to dir: String) throws {
        for t in ["frame", "enduser", "agent", "broker"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(t)", withIntermediateDirectories: true)
        }
        func save(_ target: String, _ name: String, _ bytes: [UInt8]) {
            _ = FileManager.default.createFile(atPath: "\(dir)/\(target)/seed-\(name)", contents: Data(bytes))
        }
        func warn(_ text: String) { FileHandle.standardError.write("seeds: \(text)\n".data(using: .utf8)!) }
        var count = 0
        for (name, session) in sessions() {
            let e = FuzzScript(flags: session.flags, steps: session.endUser.steps).bytes
            let a = FuzzScript(flags: session.flags, steps: session.agent.steps).bytes
            let be = FuzzScript(flags: session.endUser.broker.flags, steps: session.endUser.broker.steps).bytes
            let ba = FuzzScript(flags: session.agent.broker.flags, steps: session.agent.broker.steps).bytes
            save("enduser", name, e)
            save("agent", name, a)
            save("broker", "\(name)-enduser", be)
            save("broker", "\(name)-agent", ba)
            count += 4

            // Each replays as it was recorded.
            let replayE = EndUserDriver(flags: session.flags)
            replayE.recordEvents = true
            e.withUnsafeBytes { replayE.run(FuzzScript($0)!) }
            if replayE.events != session.endUser.driver.events {
                warn("\(name): the end user's seed replays to \(replayE.events.count) events, not the session's \(session.endUser.driver.events.count)")
            }
            let replayA = AgentDriver(flags: session.flags)
            replayA.recordEvents = true
            a.withUnsafeBytes { replayA.run(FuzzScript($0)!) }
            if replayA.events != session.agent.driver.events {
                warn("\(name): the agent's seed replays to \(replayA.events.count) events, not the session's \(session.agent.driver.events.count)")
            }
            for (side, bytes) in [(session.endUser.broker, be), (session.agent.broker, ba)] {
                let replay = BrokerDriver(flags: side.flags)
                replay.recordEvents = true
                bytes.withUnsafeBytes { replay.run(FuzzScript($0)!) }
                if replay.events != side.events {
                    warn("\(name): a broker seed replays to \(replay.events.count) events, not the session's \(side.events.count)")
                }
            }
            print("\(name): end user \(session.endUser.driver.events.count) events, agent \(session.agent.driver.events.count)")
            if ProcessInfo.processInfo.environment["SEEDS_VERBOSE"] != nil {
                for (who, events) in [("end user", session.endUser.driver.events.map { "\($0)" }), ("agent", session.agent.driver.events.map { "\($0)" }),
                                      ("broker (end user)", session.endUser.broker.events.map { "\($0)" }),
                                      ("broker (agent)", session.agent.broker.events.map { "\($0)" })] {
                    print("  \(who):")
                    for e in events { print("    \(e.prefix(150))") }
                }
            }

            // Frame seeds: every stream as it came, in one piece and in pieces, and session messages
            // (alone, and as the tail of a stream).
            let streams = (session.endUser.streams + session.agent.streams + session.endUser.broker.streams
                + session.agent.broker.streams).filter { !$0.isEmpty }
            let messages = session.endUser.plaintexts + session.agent.plaintexts
            for (i, s) in streams.enumerated() {
                save("frame", "\(name)-\(i)", [0] + s)
                save("frame", "\(name)-\(i)-pieces", [3, 1, 7, 0] + s)
                if let m = messages.dropFirst(i).first { save("frame", "\(name)-\(i)-tail", [0x08] + s + m) }
                count += 3
            }
            for (i, m) in Set(messages).sorted(by: { $0.lexicographicallyPrecedes($1) }).enumerated() {
                save("frame", "\(name)-message-\(i)", [0] + m)
                count += 1
            }
        }
        print("wrote \(count) protocol seeds to \(dir)")
    }
}
