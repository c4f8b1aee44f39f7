import Foundation
import RemoteSupportCore

func monotonicMillis() -> UInt64 { monotonicNanos() / 1_000_000 }

/// Drives the core's state machines over blocking endpoints, one thread, until a condition holds.
final class Handshake {
    struct Side {
        let endpoint: Endpoint
        let peer: PeerConnection
        var events: [ProtocolEvent] = []
        var lastBytes = monotonicMillis()
    }
    var sides: [Side] = []

    func add(_ endpoint: Endpoint, _ peer: PeerConnection) -> Int {
        sides.append(Side(endpoint: endpoint, peer: peer))
        return sides.count - 1
    }

    /// Writes what each state machine has, reads what is there, collects events; until `done` or the
    /// timeout (then throws).
    func run(timeout: Double, _ what: String, until done: (Handshake) -> Bool) throws {
        let deadline = monotonicNanos() + UInt64(timeout * 1e9)
        while true {
            for i in sides.indices {
                let out = sides[i].peer.takeOutput()
                if !out.isEmpty { try sides[i].endpoint.send(frames: out) }
            }
            if done(self) { return }
            guard monotonicNanos() < deadline else {
                throw SocketError(message: "pairing: \(what) did not happen in \(timeout) s; events: \(sides.map { $0.events })")
            }
            for i in sides.indices {
                var got = false
                let open = try sides[i].endpoint.read(timeoutMs: 5) { bytes in
                    got = true
                    sides[i].peer.receive(bytes, now: monotonicMillis())
                }
                if got { sides[i].lastBytes = monotonicMillis() }
                sides[i].peer.tick(now: monotonicMillis())
                while let e = sides[i].peer.nextEvent() {
                    if case .closed(let reason, let text, _) = e {
                        throw SocketError(message: "pairing: \(sides[i].endpoint.name) closed: \(reason) \(text)")
                    }
                    sides[i].events.append(e)
                }
                if !open { throw SocketError(message: "pairing: \(sides[i].endpoint.name) lost its connection") }
            }
        }
    }

    func take(_ side: Int, _ match: (ProtocolEvent) -> Bool) -> ProtocolEvent? {
        guard let i = sides[side].events.firstIndex(where: match) else { return nil }
        return sides[side].events.remove(at: i)
    }
}

/// A connected session through the broker: the agent and end-user endpoints, handed over to raw use
/// once the state machines went quiet (at a frame boundary).
struct PairedSession {
    let agent: Endpoint
    let endUser: Endpoint
    let sessionID: SessionID
}

/// Where one side of a paired session connects: the broker's WebSocket (HTTP) port or its TCP port.
enum BrokerTransport {
    case webSocket(port: Int)
    case tcp(port: Int)

    func open(_ name: String) throws -> Endpoint {
        switch self {
        case .webSocket(let port): try .webSocket(port: port, path: "/ws", name: name)
        case .tcp(let port): try .tcp(port: port, name: name)
        }
    }
}

/// Pairs a real session: the agent authenticates, the end user joins with `credential`, the agent
/// connects to it from its lobby, the end user consents; both see the session start.
func pairSession(endUser endUserTransport: BrokerTransport, agent agentTransport: BrokerTransport, token: String,
                 credential: JoinCredential) throws -> PairedSession {
    let h = Handshake()
    let agent = AgentConnection(now: monotonicMillis())
    let a = h.add(try agentTransport.open("agent"), agent)
    try agent.authenticate(token: token)
    try h.run(timeout: 10, "authenticated") { h in h.sides[a].events.contains { if case .authenticated = $0 { true } else { false } } }

    let endUser = EndUserConnection(now: monotonicMillis())
    let e = h.add(try endUserTransport.open("end user"), endUser)
    try endUser.join(credential, EndUserInfo(name: "Bench", machineName: "bench-pc", operatingSystem: "Debian 12"))
    var sessionID: SessionID?
    try h.run(timeout: 10, "joined") { h in
        if sessionID == nil, case .joined(let id)? = h.take(e, { if case .joined = $0 { true } else { false } }) { sessionID = id }
        guard let sessionID else { return false }
        return h.sides[a].events.contains { if case .lobbySession(let entry) = $0 { entry.sessionID == sessionID } else { false } }
    }
    try agent.connect(to: sessionID!, mode: .control)
    try h.run(timeout: 10, "connect-request") { h in h.sides[e].events.contains { if case .connectRequested = $0 { true } else { false } } }
    try endUser.consent(.control)
    try h.run(timeout: 10, "session started") { h in
        h.sides.allSatisfy { $0.events.contains { if case .sessionStarted = $0 { true } else { false } } }
    }
    // Let the opening messages (start, features, acks) pass: 300 ms without a byte on either side.
    try h.run(timeout: 5, "quiet") { h in
        let now = monotonicMillis()
        return h.sides.allSatisfy { now - $0.lastBytes >= 300 }
    }
    return PairedSession(agent: h.sides[a].endpoint, endUser: h.sides[e].endpoint, sessionID: sessionID!)
}
