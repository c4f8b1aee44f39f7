import Foundation

/// A message between a peer (end user or agent) and the broker: everything but the session itself,
/// which travels inside `record` frames the broker cannot read (PROTOCOL.md, "Control messages").
public enum ControlMessage: Hashable, Sendable {
    case hello(Hello)
    case ping(UInt64)
    case pong(UInt64)
    case close(CloseReason, String)

    /// End user -> broker.
    case join(JoinCredential, EndUserInfo)
    /// Broker -> end user: in the waiting list. The token brings a dropped connection back within
    /// `graceSeconds`; the session waits at most `waitSeconds` for an agent.
    case joined(SessionID, ResumeToken, graceSeconds: UInt32, waitSeconds: UInt32)
    /// Broker -> end user: an agent, as the broker vouches for them, asks to connect with `mode`.
    case connectRequest(AgentInfo, mode: AccessMode, agentKey: KeyShare)
    /// End user -> broker: the answer; nil mode declines, a mode accepts with the end user's key.
    case consent(AccessMode?, endUserKey: KeyShare?)

    /// Agent -> broker: a token from the broker's login.
    case authenticate(String)
    /// Broker -> agent: who the token belongs to.
    case authenticated(agentID: String, AgentInfo)
    /// Broker -> agent: a session waiting (new or updated).
    case lobbySession(LobbyEntry)
    /// Broker -> agent: a session is no longer waiting (connected, left, expired).
    case lobbySessionGone(SessionID, CloseReason)
    /// Agent -> broker: connect to a waiting session, asking for `mode`, with the agent's key.
    case connect(SessionID, mode: AccessMode, agentKey: KeyShare)
    /// Broker -> agent: the end user accepted with `mode`.
    case connected(SessionID, mode: AccessMode, endUserKey: KeyShare, ResumeToken, graceSeconds: UInt32)
    /// Broker -> agent: the connect failed (declined, taken, not allowed, timed out).
    case connectRefused(SessionID, CloseReason, String)

    /// Either peer, through the broker: an encrypted session record.
    case record(SessionRecord)
    /// Peer -> broker, on a new connection: come back to the session of this token.
    case resume(ResumeToken)
    /// Broker -> peer: back in; `epoch` is the session's current key epoch (0 while waiting).
    case resumed(SessionID, epoch: UInt32)
    /// Broker -> peer: the other side's connection dropped; it has `graceSeconds` to come back.
    case peerAway(graceSeconds: UInt32)
    /// Broker -> peer: the other side came back; records from now on use `epoch`.
    case peerResumed(epoch: UInt32)
    /// Broker -> peer: the session is over (the other side ended it, or it was lost).
    case sessionEnded(CloseReason, String)

    public var type: FrameType {
        switch self {
        case .hello: .hello
        case .ping: .ping
        case .pong: .pong
        case .close: .close
        case .join: .join
        case .joined: .joined
        case .connectRequest: .connectRequest
        case .consent: .consent
        case .authenticate: .authenticate
        case .authenticated: .authenticated
        case .lobbySession: .lobbySession
        case .lobbySessionGone: .lobbySessionGone
        case .connect: .connect
        case .connected: .connected
        case .connectRefused: .connectRefused
        case .record: .record
        case .resume: .resume
        case .resumed: .resumed
        case .peerAway: .peerAway
        case .peerResumed: .peerResumed
        case .sessionEnded: .sessionEnded
        }
    }

    /// The frame that carries the message. Text over its field's limit is cut at a character boundary
    /// (the limits are far above what the domain accepts).
    public var frame: Frame {
        var w = WireWriter()
        switch self {
        case .hello(let h):
            w.append(Hello.magic)
            w.u16(h.versions.lowerBound)
            w.u16(h.versions.upperBound)
            w.u8(h.role.rawValue)
            w.u32(h.maximumFrameLength)
            w.u64(h.features.rawValue)
            w.string(capped(h.software, FieldLimit.software))
        case .ping(let v), .pong(let v):
            w.u64(v)
        case .close(let reason, let message), .sessionEnded(let reason, let message):
            w.u16(reason.rawValue)
            w.string(capped(message, FieldLimit.closeMessage))
        case .join(let credential, let info):
            switch credential {
            case .link(let link): w.u8(1); w.string(capped(link, FieldLimit.credential))
            case .connectionID(let code): w.u8(2); w.string(capped(code, FieldLimit.credential))
            }
            w.string(capped(info.name, FieldLimit.name))
            w.string(capped(info.machineName, FieldLimit.machine))
            w.string(capped(info.operatingSystem, FieldLimit.machine))
        case .joined(let id, let token, let grace, let wait):
            w.sessionID(id)
            w.append(token.bytes)
            w.u32(grace)
            w.u32(wait)
        case .connectRequest(let agent, let mode, let key):
            write(agent, to: &w)
            w.u8(mode.rawValue)
            w.append(key.bytes)
        case .consent(let mode, let key):
            w.u8(mode?.rawValue ?? 0)
            if let key { w.append(key.bytes) }
        case .authenticate(let token):
            w.string(capped(token, FieldLimit.token))
        case .authenticated(let id, let agent):
            w.string(capped(id, FieldLimit.identifier))
            write(agent, to: &w)
        case .lobbySession(let e):
            w.sessionID(e.sessionID)
            w.string(capped(e.endUser.name, FieldLimit.name))
            w.string(capped(e.endUser.machineName, FieldLimit.machine))
            w.string(capped(e.endUser.operatingSystem, FieldLimit.machine))
            w.string(capped(e.ticket, FieldLimit.ticket))
            w.string(capped(e.joinMethod, FieldLimit.method))
            w.u64(UInt64(bitPattern: e.joinedAt))
        case .lobbySessionGone(let id, let reason):
            w.sessionID(id)
            w.u16(reason.rawValue)
        case .connect(let id, let mode, let key):
            w.sessionID(id)
            w.u8(mode.rawValue)
            w.append(key.bytes)
        case .connected(let id, let mode, let key, let token, let grace):
            w.sessionID(id)
            w.u8(mode.rawValue)
            w.append(key.bytes)
            w.append(token.bytes)
            w.u32(grace)
        case .connectRefused(let id, let reason, let message):
            w.sessionID(id)
            w.u16(reason.rawValue)
            w.string(capped(message, FieldLimit.closeMessage))
        case .record(let r):
            w.bytes.reserveCapacity(SessionRecord.headerSize + r.sealed.count)
            w.u32(r.epoch)
            w.u64(r.counter)
            w.append(r.sealed)
        case .resume(let token):
            w.append(token.bytes)
        case .resumed(let id, let epoch):
            w.sessionID(id)
            w.u32(epoch)
        case .peerAway(let grace):
            w.u32(grace)
        case .peerResumed(let epoch):
            w.u32(epoch)
        }
        return Frame(type, payload: w.bytes)
    }

    /// Parses a frame of a known type. Returns nil for a type this version does not know (the caller
    /// skips it if it is optional); throws for a known type whose payload is malformed or over a
    /// limit. Bytes after the fields this version knows are ignored (later versions append fields).
    public init?(frame: Frame) throws(ProtocolError) {
        var r = WireReader(frame.payload, what: "a \(frame.type) frame")
        switch frame.type {
        case .hello:
            guard try r.fixed(4, "magic") == Hello.magic else { throw .malformed("the hello does not start with \"RSUP\"") }
            let low = try r.u16("lowest version"), high = try r.u16("highest version")
            guard low <= high, low > 0 else { throw .malformed("the hello's version range \(low)-\(high) is empty") }
            let role = PeerRole(rawValue: try r.u8("role"))
            let maximum = try r.u32("maximum frame length")
            guard maximum >= Frame.minimumMaximumLength else {
                throw .malformed("the hello's maximum frame length \(maximum) is under \(Frame.minimumMaximumLength)")
            }
            let features = HopFeatures(rawValue: try r.u64("features"))
            self = .hello(Hello(versions: low...high, role: role, maximumFrameLength: maximum, features: features,
                                software: try r.string("software", maxBytes: FieldLimit.software)))
        case .ping: self = .ping(try r.u64("data"))
        case .pong: self = .pong(try r.u64("data"))
        case .close, .sessionEnded:
            let reason = CloseReason(rawValue: try r.u16("reason"))
            let message = try r.string("message", maxBytes: FieldLimit.closeMessage)
            self = frame.type == .close ? .close(reason, message) : .sessionEnded(reason, message)
        case .join:
            let method = try r.u8("method")
            let value = try r.string("credential", maxBytes: FieldLimit.credential)
            let credential: JoinCredential
            switch method {
            case 1: credential = .link(value)
            case 2: credential = .connectionID(value)
            default: throw .malformed("join method \(method) is neither 1 (link) nor 2 (connection ID)")
            }
            self = .join(credential, try Self.endUserInfo(&r))
        case .joined:
            self = .joined(try r.sessionID(), try r.resumeToken(), graceSeconds: try r.u32("grace"), waitSeconds: try r.u32("wait"))
        case .connectRequest:
            self = .connectRequest(try Self.agentInfo(&r), mode: AccessMode(rawValue: try r.u8("mode")), agentKey: try r.keyShare("agent key"))
        case .consent:
            let mode = try r.u8("mode")
            self = mode == 0 ? .consent(nil, endUserKey: nil)
                : .consent(AccessMode(rawValue: mode), endUserKey: try r.keyShare("end-user key"))
        case .authenticate:
            self = .authenticate(try r.string("token", maxBytes: FieldLimit.token))
        case .authenticated:
            self = .authenticated(agentID: try r.string("agent ID", maxBytes: FieldLimit.identifier), try Self.agentInfo(&r))
        case .lobbySession:
            let id = try r.sessionID()
            let info = try Self.endUserInfo(&r)
            let ticket = try r.string("ticket", maxBytes: FieldLimit.ticket)
            let method = try r.string("join method", maxBytes: FieldLimit.method)
            self = .lobbySession(LobbyEntry(sessionID: id, endUser: info, ticket: ticket, joinMethod: method,
                                            joinedAt: Int64(bitPattern: try r.u64("joined at"))))
        case .lobbySessionGone:
            self = .lobbySessionGone(try r.sessionID(), CloseReason(rawValue: try r.u16("reason")))
        case .connect:
            self = .connect(try r.sessionID(), mode: AccessMode(rawValue: try r.u8("mode")), agentKey: try r.keyShare("agent key"))
        case .connected:
            self = .connected(try r.sessionID(), mode: AccessMode(rawValue: try r.u8("mode")), endUserKey: try r.keyShare("end-user key"),
                              try r.resumeToken(), graceSeconds: try r.u32("grace"))
        case .connectRefused:
            self = .connectRefused(try r.sessionID(), CloseReason(rawValue: try r.u16("reason")),
                                   try r.string("message", maxBytes: FieldLimit.closeMessage))
        case .record:
            let epoch = try r.u32("epoch"), counter = try r.u64("counter")
            let sealed = r.rest()
            guard sealed.count >= SessionRecord.tagSize else {
                throw .malformed("a record has \(sealed.count) sealed bytes, under the \(SessionRecord.tagSize)-byte tag")
            }
            self = .record(SessionRecord(epoch: epoch, counter: counter, sealed: sealed))
        case .resume: self = .resume(try r.resumeToken())
        case .resumed: self = .resumed(try r.sessionID(), epoch: try r.u32("epoch"))
        case .peerAway: self = .peerAway(graceSeconds: try r.u32("grace"))
        case .peerResumed: self = .peerResumed(epoch: try r.u32("epoch"))
        default: return nil
        }
    }

    private static func endUserInfo(_ r: inout WireReader) throws(ProtocolError) -> EndUserInfo {
        EndUserInfo(name: try r.string("name", maxBytes: FieldLimit.name),
                    machineName: try r.string("machine name", maxBytes: FieldLimit.machine),
                    operatingSystem: try r.string("operating system", maxBytes: FieldLimit.machine))
    }

    private static func agentInfo(_ r: inout WireReader) throws(ProtocolError) -> AgentInfo {
        AgentInfo(name: try r.string("agent name", maxBytes: FieldLimit.name),
                  jobTitle: try r.string("job title", maxBytes: FieldLimit.name),
                  organisation: try r.string("organisation", maxBytes: FieldLimit.name))
    }

    private func write(_ agent: AgentInfo, to w: inout WireWriter) {
        w.string(capped(agent.name, FieldLimit.name))
        w.string(capped(agent.jobTitle, FieldLimit.name))
        w.string(capped(agent.organisation, FieldLimit.name))
    }
}

/// `text` without NUL characters (which no receiver accepts), cut to at most `maxBytes` of UTF-8 at a
/// character boundary.
func capped(_ text: String, _ maxBytes: Int) -> String {
    // utf8.contains: a byte scan (String.contains(String) would go through Foundation, converting).
    let text = text.utf8.contains(0) ? String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != "\0" })) : text
    if text.utf8.count <= maxBytes { return text }
    var result = ""
    var count = 0
    for c in text {
        let n = c.utf8.count
        if count + n > maxBytes { break }
        result.append(c)
        count += n
    }
    return result
}
