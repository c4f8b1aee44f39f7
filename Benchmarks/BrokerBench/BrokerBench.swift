import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RemoteSupportCore

/// broker-bench: measures a running rs-broker beside nginx's stream proxy and websockify on loopback.
/// Benchmarks/BrokerBench/run.sh starts everything and calls the subcommands; each prints a table and
/// writes its figures as JSON (`--json`).
@main
struct BrokerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker-bench",
        abstract: "rs-broker relay, idle-connection and lobby benchmarks (see Benchmarks/BrokerBench/run.sh).",
        subcommands: [Relay.self, Idle.self, Lobby.self, Sink.self])
}

func writeJSON(_ value: some Encodable, to path: String?) throws {
    guard let path else { return }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(value).write(to: URL(fileURLWithPath: path))
}

func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
    s.count >= n ? s : right ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count)
}

func fmt(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }

// MARK: 1. Relay

struct Relay: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Relay throughput and round trips: direct, nginx, broker TCP, websockify, broker WebSocket.")

    @Option(help: "Broker's protocol (TCP) port.") var protocolPort: Int
    @Option(help: "Broker's HTTP/WebSocket port.") var httpPort: Int
    @Option(parsing: .unconditional, help: "Agent token (password already changed).") var token: String
    @Option(help: "A connection ID for the TCP session.") var connectionID: String
    @Option(help: "The personal link (the WebSocket session joins with it).") var link: String
    @Option(help: "Port of the in-process sink (nginx and websockify point at it).") var sinkPort: Int
    @Option(help: "nginx stream proxy port (-> sink); 0 skips.") var nginxPort = 0
    @Option(help: "websockify port (-> sink); 0 skips.") var websockifyPort = 0
    @Option(name: .customLong("proxy"), help: "Another TCP proxy in front of the sink, measured like nginx: NAME=PORT (repeatable; NAME joins the cases).")
    var proxies: [String] = []
    @Option(help: "Seconds per measurement.") var duration = 3.0
    @Option(help: "Rounds, each over every case in turn: the ratios are the median of the rounds' (this machine's noise moves whole rounds).")
    var rounds = 3
    @Option(help: "Sealed bytes per bulk record.") var recordSize = 16384
    @Option(help: "Which cases, comma-separated (broker-ws-tcp: the end user over WebSocket, the agent over TCP, as websockify's pair is).")
    var cases = "direct,nginx,broker-tcp,websockify,broker-ws,broker-ws-tcp"
    @Option(help: "Which measurements, comma-separated (bulk, rtt): for profiling one of them.") var workloads = "bulk,rtt"
    @Option(help: "Write the figures here as JSON.") var json: String?

    struct CaseResult: Codable {
        var name: String
        var transport: String
        var endUserToAgent: BulkResult
        var agentToEndUser: BulkResult
        var roundTrips: RoundTripResult
        var pingsAnswered: Int
    }

    struct Output: Codable {
        var recordBytes: Int
        var secondsPerMeasurement: Double
        /// The last round's figures.
        var cases: [CaseResult]
        /// The median over the rounds of each round's ratio.
        var ratios: [String: [String: Double]]
        var rounds: [Round]
    }

    struct Round: Codable {
        var cases: [CaseResult]
        var ratios: [String: [String: Double]]
    }

    /// The pairs compared; each proxy given with --proxy is compared with nginx too.
    var ratioPairs: [(String, String)] { Self.standardPairs + proxies.compactMap { $0.split(separator: "=").first.map { (String($0), "nginx") } } }
    static let standardPairs = [("broker-tcp", "nginx"), ("broker-ws", "websockify"), ("broker-ws-tcp", "websockify"), ("nginx", "direct"),
                             ("broker-tcp", "direct")]
    /// What each ratio divides, by its key in the JSON.
    static let measures: [(key: String, value: @Sendable (CaseResult) -> Double)] = [
        ("endUserToAgent", { $0.endUserToAgent.megabytesPerSecond }),
        ("agentToEndUser", { $0.agentToEndUser.megabytesPerSecond }),
        ("roundTripsPerSecond", { $0.roundTrips.perSecond }),
        ("p50Latency", { $0.roundTrips.p50Microseconds }),
        ("p99Latency", { $0.roundTrips.p99Microseconds }),
    ]

    func run() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        let listener = try Listener(port: sinkPort)
        defer { listener.close() }
        var counter: UInt64 = 1_000_000
        var done: [Round] = []
        for round in 1...rounds {
            if rounds > 1 { print("round \(round) of \(rounds)") }
            let results = try runCases(listener: listener, round: round, counter: &counter)
            done.append(Round(cases: results, ratios: ratios(results)))
            if round < rounds { print("") }
        }
        var ratios: [String: [String: Double]] = [:]
        for (a, b) in ratioPairs {
            let key = "\(a)/\(b)"
            let each = done.compactMap { $0.ratios[key] }
            guard !each.isEmpty else { continue }
            ratios[key] = Dictionary(uniqueKeysWithValues: Self.measures.map { m in (m.key, median(each.map { $0[m.key]! })) })
        }
        let results = done.last!.cases

        print("")
        print("Relay of one session, \(recordSize)-byte records for bulk, 64-byte records for round trips, \(fmt(duration)) s each"
              + (rounds > 1 ? "; round \(rounds) of \(rounds)" : ""))
        print(pad("case", 15) + pad("transport", 15) + pad("EU->A MB/s", 12, right: true) + pad("A->EU MB/s", 12, right: true)
              + pad("RT/s", 10, right: true) + pad("p50 us", 9, right: true) + pad("p99 us", 9, right: true) + pad("complete", 10, right: true))
        for r in results {
            print(pad(r.name, 15) + pad(r.transport, 15) + pad(fmt(r.endUserToAgent.megabytesPerSecond), 12, right: true)
                  + pad(fmt(r.agentToEndUser.megabytesPerSecond), 12, right: true) + pad(fmt(r.roundTrips.perSecond, 0), 10, right: true)
                  + pad(fmt(r.roundTrips.p50Microseconds), 9, right: true) + pad(fmt(r.roundTrips.p99Microseconds), 9, right: true)
                  + pad(r.endUserToAgent.complete && r.agentToEndUser.complete ? "yes" : "no", 10, right: true))
        }
        print("")
        print("Ratios, each the median of \(rounds) rounds' (min-max after it); throughput and round trips/s: higher is better for the "
              + "first; latency: lower is better")
        print(pad("ratio", 26) + pad("EU->A", 18, right: true) + pad("A->EU", 18, right: true) + pad("RT/s", 18, right: true)
              + pad("p50", 18, right: true) + pad("p99", 18, right: true))
        for (a, b) in ratioPairs {
            let key = "\(a)/\(b)"
            guard let r = ratios[key] else { continue }
            let each = done.compactMap { $0.ratios[key] }
            var line = pad(key, 26)
            for k in Self.measures.map(\.key) {
                let values = each.map { $0[k]! }
                let spread = rounds > 1 ? " (\(fmt(values.min()!, 2))-\(fmt(values.max()!, 2)))" : ""
                line += pad(fmt(r[k]!, 2) + spread, 18, right: true)
            }
            print(line)
        }
        try writeJSON(Output(recordBytes: recordSize, secondsPerMeasurement: duration, cases: results, ratios: ratios, rounds: done), to: json)
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Each round's ratios of the pairs compared.
    func ratios(_ results: [CaseResult]) -> [String: [String: Double]] {
        func find(_ n: String) -> CaseResult? { results.first { $0.name == n } }
        var ratios: [String: [String: Double]] = [:]
        for (a, b) in ratioPairs {
            guard let x = find(a), let y = find(b) else { continue }
            ratios["\(a)/\(b)"] = Dictionary(uniqueKeysWithValues: Self.measures.map { ($0.key, $0.value(x) / $0.value(y)) })
        }
        return ratios
    }

    /// One round: every case in turn, a fresh pair of connections each.
    private func runCases(listener: Listener, round: Int, counter: inout UInt64) throws -> [CaseResult] {
        var results: [CaseResult] = []
        let others = try Dictionary(uniqueKeysWithValues: proxies.map { spec -> (String, Int) in
            let parts = spec.split(separator: "=")
            guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--proxy takes NAME=PORT, not \(spec)") }
            return (String(parts[0]), port)
        })
        for name in cases.split(separator: ",").map(String.init) + others.keys.sorted() {
            // (end user side, agent side): for the proxies the client is the "end user", the sink the "agent".
            let pair: (Endpoint, Endpoint)
            let transport: String
            switch name {
            case "direct":
                transport = "tcp"
                let client = try Endpoint.tcp(port: sinkPort, name: "client")
                pair = (client, Endpoint(try listener.accept(timeoutMs: 5000), webSocket: false, name: "sink"))
            case "nginx":
                guard nginxPort > 0 else { continue }
                transport = "tcp"
                let client = try Endpoint.tcp(port: nginxPort, name: "client")
                pair = (client, Endpoint(try listener.accept(timeoutMs: 5000), webSocket: false, name: "sink"))
            case "websockify":
                guard websockifyPort > 0 else { continue }
                transport = "websocket"
                let client = try Endpoint.webSocket(port: websockifyPort, path: "/websockify", name: "client")
                pair = (client, Endpoint(try listener.accept(timeoutMs: 5000), webSocket: false, name: "sink"))
            case "broker-tcp":
                transport = "tcp"
                // A connection ID is spent by its join: later rounds join with the personal link.
                let s = try pairSession(endUser: .tcp(port: protocolPort), agent: .tcp(port: protocolPort), token: token,
                                        credential: round == 1 ? .connectionID(connectionID) : .link(link))
                pair = (s.endUser, s.agent)
            case "broker-ws":
                transport = "websocket"
                let s = try pairSession(endUser: .webSocket(port: httpPort), agent: .webSocket(port: httpPort), token: token,
                                        credential: .link(link))
                pair = (s.endUser, s.agent)
            case "broker-ws-tcp":
                transport = "websocket+tcp"
                let s = try pairSession(endUser: .webSocket(port: httpPort), agent: .tcp(port: protocolPort), token: token,
                                        credential: .link(link))
                pair = (s.endUser, s.agent)
            default:
                guard let port = others[name] else { throw ValidationError("unknown case \(name)") }
                transport = "tcp"
                let client = try Endpoint.tcp(port: port, name: "client")
                pair = (client, Endpoint(try listener.accept(timeoutMs: 5000), webSocket: false, name: "sink"))
            }
            let (endUser, agent) = pair
            defer { endUser.close(); agent.close() }
            let which = Set(workloads.split(separator: ",").map(String.init))
            let none = BulkResult(bytes: 0, records: 0, seconds: 0, megabytesPerSecond: 0, complete: true)
            let up = which.contains("bulk")
                ? try Workloads.bulk(from: endUser, to: agent, recordSize: recordSize, duration: duration, counterBase: &counter) : none
            let down = which.contains("bulk")
                ? try Workloads.bulk(from: agent, to: endUser, recordSize: recordSize, duration: duration, counterBase: &counter) : none
            let rt = which.contains("rtt")
                ? try Workloads.roundTrips(asker: agent, echoer: endUser, duration: duration, counterBase: &counter)
                : RoundTripResult(count: 0, seconds: 0, perSecond: 0, p50Microseconds: 0, p99Microseconds: 0, maxMicroseconds: 0)
            let pings = endUser.pings.withLockedValue { $0 } + agent.pings.withLockedValue { $0 }
            let r = CaseResult(name: name, transport: transport, endUserToAgent: up, agentToEndUser: down, roundTrips: rt, pingsAnswered: pings)
            print("  \(name): EU->A \(fmt(up.megabytesPerSecond)) MB/s, A->EU \(fmt(down.megabytesPerSecond)) MB/s, "
                  + "\(fmt(rt.perSecond, 0)) round trips/s (p50 \(fmt(rt.p50Microseconds)) us, p99 \(fmt(rt.p99Microseconds)) us)")
            results.append(r)
        }
        return results
    }
}

// MARK: 2. Idle connections

struct Idle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Memory of idle end users joined and waiting, beside nginx holding idle proxied pairs.")

    @Option(help: "Broker's protocol (TCP) port.") var protocolPort: Int
    @Option(help: "Broker's HTTP port (/health).") var httpPort: Int
    @Option(help: "The personal link to join with.") var link: String
    @Option(help: "The broker's process id (VmRSS).") var brokerPid: Int
    @Option(help: "Connections.") var count = 10_000
    @Option(help: "Connections opened at once.") var batch = 500
    @Option(help: "nginx stream proxy port (-> a `broker-bench sink`); 0 skips nginx.") var nginxPort = 0
    @Option(help: "nginx worker process ids, comma-separated (their VmRSS is summed).") var nginxPids = ""
    @Option(help: "What each nginx client sends (--client-sends): hello+join (`join`) or only the hello (`hello`; with --nginx-port at the broker's protocol port this measures a bare connection).")
    var clientSends = "join"
    @Flag(help: "Only the nginx part.") var skipBroker = false
    @Option(help: "Seconds for the whole test.") var timeLimit = 240.0
    @Option(help: "Write the figures here as JSON.") var json: String?

    struct Memory: Codable {
        var connections: Int
        var rssBeforeKiB: Int
        var rssAfterKiB: Int
        var perConnectionBytes: Double
        var openSeconds: Double
    }

    struct Output: Codable {
        var broker: Memory?
        var brokerHealthBefore: String?
        var brokerHealth: String?
        var nginx: Memory?
        var nginxWorkers: Int?
    }

    func run() async throws {
        let deadline = monotonicNanos() + UInt64(timeLimit * 1e9)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var output = Output()
        let info = EndUserInfo(name: "Idle", machineName: "idle-pc", operatingSystem: "Debian 12")

        // nginx first: the broker's cleanup of 10,000 sessions afterwards then disturbs nothing.
        let workers = nginxPids.split(separator: ",").compactMap { Int($0) }
        if nginxPort > 0, !workers.isEmpty {
            let greeting: [UInt8] = try {
                let e = EndUserConnection(now: monotonicMillis())
                if clientSends == "hello" { return e.takeOutput() }
                try e.join(.link(link), info)
                return e.takeOutput()
            }()
            let replied = NIOLockedValueBox(0)
            let rss = { workers.compactMap { residentKiB(pid: $0) }.reduce(0, +) }
            let before = rss()
            let t0 = monotonicNanos()
            let channels = try await openInBatches(count: count, batch: batch, deadline: deadline, port: nginxPort, group: group,
                                                   ready: { replied.withLockedValue { $0 } }) { _ in
                RawClientHandler(greeting: greeting, replied: replied)
            }
            let opened = Double(monotonicNanos() - t0) / 1e9
            try await Task.sleep(for: .seconds(1))
            let after = rss()
            output.nginx = Memory(connections: channels.count, rssBeforeKiB: before, rssAfterKiB: after,
                                  perConnectionBytes: Double(after - before) * 1024 / Double(channels.count), openSeconds: opened)
            output.nginxWorkers = workers.count
            print("  nginx: \(channels.count) idle proxied pairs, worker RSS \(before) -> \(after) KiB")
            await closeAll(channels)
            try await Task.sleep(for: .seconds(1))
        }
        if skipBroker {
            try writeJSON(output, to: json)
            try await group.shutdownGracefully()
            return
        }

        let joined = NIOLockedValueBox(0)
        let closed = NIOLockedValueBox<[String]>([])
        output.brokerHealthBefore = try? httpGet(port: httpPort, path: "/health")
        guard let before = residentKiB(pid: brokerPid) else { throw ValidationError("no process \(brokerPid)") }
        let t0 = monotonicNanos()
        let channels = try await openInBatches(count: count, batch: batch, deadline: deadline, port: protocolPort, group: group,
                                               ready: {
                                                   let c = closed.withLockedValue { $0 }
                                                   if let first = c.first { print("  a connection closed: \(first)") }
                                                   return joined.withLockedValue { $0 }
                                               }) { _ in
            PeerHandler(EndUserConnection(now: monotonicMillis()), start: { peer in
                try (peer as! EndUserConnection).join(.link(link), info)
            }, onEvent: { event, _ in
                switch event {
                case .joined: joined.withLockedValue { $0 += 1 }
                case .closed(let reason, let text, _): closed.withLockedValue { if $0.count < 5 { $0.append("\(reason) \(text)") } }
                default: break
                }
            })
        }
        let opened = Double(monotonicNanos() - t0) / 1e9
        try await Task.sleep(for: .seconds(2))
        guard let after = residentKiB(pid: brokerPid) else { throw ValidationError("the broker is gone") }
        output.brokerHealth = try? httpGet(port: httpPort, path: "/health")
        output.broker = Memory(connections: joined.withLockedValue { $0 }, rssBeforeKiB: before, rssAfterKiB: after,
                               perConnectionBytes: Double(after - before) * 1024 / Double(count), openSeconds: opened)
        print("  broker: \(joined.withLockedValue { $0 }) end users joined and waiting, RSS \(before) -> \(after) KiB")
        await closeAll(channels)

        print("")
        print("Idle connections (\(count), opened \(batch) at a time)")
        print(pad("server", 10) + pad("conns", 8, right: true) + pad("RSS before KiB", 16, right: true) + pad("RSS after KiB", 15, right: true)
              + pad("bytes/conn", 12, right: true) + pad("open s", 8, right: true))
        for (name, m) in [("broker", output.broker), ("nginx", output.nginx)] {
            guard let m else { continue }
            print(pad(name, 10) + pad("\(m.connections)", 8, right: true) + pad("\(m.rssBeforeKiB)", 16, right: true)
                  + pad("\(m.rssAfterKiB)", 15, right: true) + pad(fmt(m.perConnectionBytes, 0), 12, right: true) + pad(fmt(m.openSeconds), 8, right: true))
        }
        print("broker /health before: \(output.brokerHealthBefore ?? "-")")
        print("broker /health with the connections: \(output.brokerHealth ?? "-")")
        try writeJSON(output, to: json)
        try await group.shutdownGracefully()
    }
}

// MARK: 3. Lobby latency

struct Lobby: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time from an end user's join to each connected agent's lobby-session event.")

    @Option(help: "Broker's protocol (TCP) port.") var protocolPort: Int
    @Option(parsing: .unconditional, help: "Agent token (all agents use it).") var token: String
    @Option(help: "The personal link the end users join with.") var link: String
    @Option(help: "Agents connected.") var agents = 1000
    @Option(help: "End users joining one after another.") var joins = 200
    @Option(help: "Agents connected at once.") var batch = 100
    @Option(help: "Seconds for the whole test.") var timeLimit = 180.0
    @Option(help: "Write the figures here as JSON.") var json: String?

    struct Output: Codable {
        var agents: Int
        var joins: Int
        var samples: Int
        var missing: Int
        var p50Microseconds: Double
        var p99Microseconds: Double
        var maxMicroseconds: Double
        var perJoinMaxP50Microseconds: Double
        var perJoinMaxP99Microseconds: Double
        var perJoinMaxMicroseconds: Double
        var joinedAnswerP50Microseconds: Double
        var agentsConnectSeconds: Double
    }

    func run() async throws {
        let deadline = monotonicNanos() + UInt64(timeLimit * 1e9)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let authenticated = NIOLockedValueBox(0)
        let arrivals = NIOLockedValueBox<[SessionID: [UInt64]]>([:])
        let closed = NIOLockedValueBox(0)
        let t0 = monotonicNanos()
        let agentChannels = try await openInBatches(count: agents, batch: batch, deadline: deadline, port: protocolPort, group: group,
                                                    ready: { authenticated.withLockedValue { $0 } }) { _ in
            PeerHandler(AgentConnection(now: monotonicMillis()), start: { peer in
                try (peer as! AgentConnection).authenticate(token: token)
            }, onEvent: { event, at in
                switch event {
                case .authenticated: authenticated.withLockedValue { $0 += 1 }
                case .lobbySession(let entry): arrivals.withLockedValue { $0[entry.sessionID, default: []].append(at) }
                case .closed: closed.withLockedValue { $0 += 1 }
                default: break
                }
            })
        }
        let connectSeconds = Double(monotonicNanos() - t0) / 1e9
        print("  \(agentChannels.count) agents authenticated in \(fmt(connectSeconds)) s")

        var samples: [UInt64] = []
        var perJoinMax: [UInt64] = []
        var joinedAnswers: [UInt64] = []
        var missing = 0
        var endUsers: [any Channel] = []
        let info = EndUserInfo(name: "Lobby", machineName: "lobby-pc", operatingSystem: "Debian 12")
        for j in 0..<joins {
            guard monotonicNanos() < deadline else { print("  time limit: stopped after \(j) joins"); break }
            let joinedID = NIOLockedValueBox<(SessionID, UInt64)?>(nil)
            let handler = PeerHandler(EndUserConnection(now: monotonicMillis()), start: { _ in }, onEvent: { event, at in
                if case .joined(let id) = event { joinedID.withLockedValue { $0 = (id, at) } }
            })
            let channel = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) } }
                .connect(host: "127.0.0.1", port: protocolPort).get()
            endUsers.append(channel)
            try await Task.sleep(for: .milliseconds(5))  // the hello is out and read: only the join is timed
            let sentAt = NIOLockedValueBox<UInt64>(0)
            try await handler.perform(on: channel.eventLoop) { peer in
                try (peer as! EndUserConnection).join(.link(link), info)
                sentAt.withLockedValue { $0 = monotonicNanos() }
            }
            let sent = sentAt.withLockedValue { $0 }
            let limit = min(deadline, monotonicNanos() + 10_000_000_000)
            var id: SessionID?
            while monotonicNanos() < limit {
                if id == nil, let (i, at) = joinedID.withLockedValue({ $0 }) { id = i; joinedAnswers.append(at - min(at, sent)) }
                if let id, arrivals.withLockedValue({ $0[id]?.count ?? 0 }) >= agents { break }
                try await Task.sleep(for: .milliseconds(1))
            }
            let got = id.flatMap { i in arrivals.withLockedValue { $0.removeValue(forKey: i) } } ?? []
            missing += agents - got.count
            // The time was taken just after the join was handed to the socket; arrivals are stamped when
            // the bytes reached the agent's handler.
            let deltas = got.map { $0 - min($0, sent) }
            samples += deltas
            perJoinMax.append(deltas.max() ?? 0)
        }
        let agentsClosed = closed.withLockedValue { $0 }
        await closeAll(endUsers)
        await closeAll(agentChannels)

        func pct(_ values: [UInt64], _ p: Double) -> Double {
            let s = values.sorted()
            return s.isEmpty ? 0 : Double(s[min(s.count - 1, Int(Double(s.count) * p))]) / 1000
        }
        let out = Output(agents: agentChannels.count, joins: perJoinMax.count, samples: samples.count, missing: missing,
                         p50Microseconds: pct(samples, 0.5), p99Microseconds: pct(samples, 0.99), maxMicroseconds: pct(samples, 1),
                         perJoinMaxP50Microseconds: pct(perJoinMax, 0.5), perJoinMaxP99Microseconds: pct(perJoinMax, 0.99),
                         perJoinMaxMicroseconds: pct(perJoinMax, 1), joinedAnswerP50Microseconds: pct(joinedAnswers, 0.5),
                         agentsConnectSeconds: connectSeconds)
        print("")
        print("Lobby latency: \(out.agents) agents, \(out.joins) joins one after another (join sent -> lobby-session at each agent)")
        print(pad("", 26) + pad("p50 ms", 10, right: true) + pad("p99 ms", 10, right: true) + pad("max ms", 10, right: true))
        print(pad("all (join x agent)", 26) + pad(fmt(out.p50Microseconds / 1000, 2), 10, right: true)
              + pad(fmt(out.p99Microseconds / 1000, 2), 10, right: true) + pad(fmt(out.maxMicroseconds / 1000, 2), 10, right: true))
        print(pad("per-join max (last agent)", 26) + pad(fmt(out.perJoinMaxP50Microseconds / 1000, 2), 10, right: true)
              + pad(fmt(out.perJoinMaxP99Microseconds / 1000, 2), 10, right: true) + pad(fmt(out.perJoinMaxMicroseconds / 1000, 2), 10, right: true))
        print("samples \(out.samples), missing \(out.missing), joined answer p50 \(fmt(out.joinedAnswerP50Microseconds / 1000, 2)) ms, "
              + "agent connections closed early \(agentsClosed)")
        try writeJSON(out, to: json)
        try await group.shutdownGracefully()
    }
}

// MARK: Sink

struct Sink: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Holds connections (behind nginx for the idle test): answers the first bytes once, then idles.")

    @Option(help: "Port to listen on (127.0.0.1).") var port: Int
    @Option(help: "Bytes answered to each connection's first read.") var replyBytes = 64
    @Option(help: "Exit after this many seconds.") var timeLimit = 600.0

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let reply = [UInt8](repeating: 0x5A, count: replyBytes)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(SinkHandler(reply: reply)) } }
            .bind(host: "127.0.0.1", port: port).get()
        print("sink listening on 127.0.0.1:\(port)")
        try await Task.sleep(for: .seconds(timeLimit))
        try await server.close()
        try await group.shutdownGracefully()
    }
}
