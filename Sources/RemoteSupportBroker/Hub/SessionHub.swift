import Foundation
import Logging
import NIOCore
import RemoteSupportCore
import RemoteSupportStore
import Synchronization

/// Pairs end users with agents and relays their sessions: what a `BrokerConnection` reports becomes store
/// calls (`SupportDesk`) and answers on the connections involved (PROTOCOL.md 16.4, "Pairing"; 13, "Broker
/// side"). Live sessions are kept in memory (with their resume tokens); their durable record is the store.
///
/// Each link's events are handled in order (its `PeerChannelHandler` pauses reading while a store call is
/// awaited, so a `consent` is paired before the `start` record behind it is relayed). The hub's lock guards the
/// session table and the lobby subscribers; link locks are taken inside it, never the other way round.
public final class SessionHub: Sendable {
    public struct Settings: Sendable {
        /// How long a dropped peer may come back (sent in `joined` / `connected` / `peer-away`).
        public var graceSeconds: UInt32 = 60
        /// Bytes waiting for one peer's transport beyond which the other side's reads pause: the relay's
        /// memory cap per session direction.
        public var relayBufferBytes = 1 << 20
        /// How long a closed link's last bytes may take before the transport is dropped.
        public var closeLingerMilliseconds: UInt64 = 2_000
        /// Most connections at once (beyond: refused with `overloaded`).
        public var maximumConnections = 20_000
        public var connection = ConnectionOptions()
        public init() {}
    }

    let desk: SupportDesk
    let settings: Settings
    let logger: Logger
    let metrics: BrokerMetrics
    private let state = Mutex(State())
    private let observers: Mutex<[@Sendable (SessionChange) -> Void]> = Mutex([])

    private struct State {
        var links: [Int: PeerLink] = [:]
        var nextLinkID = 1
        var slots: [SessionID: Slot] = [:]
        var tokens: [ResumeToken: (SessionID, PeerRole)] = [:]
        var subscribers: [Int: LobbySubscriber] = [:]
        var nextSubscriberID = 1
        var shuttingDown = false
        var random = SystemRandomNumberGenerator()
    }

    /// One live session: waiting or connected.
    private struct Slot {
        var session: SupportSession
        var endUser: PeerLink?
        var agent: PeerLink?
        var agentPresence: AgentPresence?
        var endUserToken: ResumeToken
        var agentToken: ResumeToken?
        var epoch: UInt32 = 0
        var connected = false
        var pending: PendingConnect?
        /// When a side dropped (monotonic ms): the session ends if it is not back within the grace.
        var awaySince: UInt64?
    }

    private struct PendingConnect {
        let link: PeerLink
        let mode: AccessMode
        let key: KeyShare
        let presence: AgentPresence
    }

    init(desk: SupportDesk, settings: Settings, logger: Logger, metrics: BrokerMetrics) {
        self.desk = desk
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
    }

    /// Adds a listener for session changes (webhooks, metrics). Called on the hub's tasks: must not block.
    func observe(_ observer: @escaping @Sendable (SessionChange) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    private func notify(_ change: SessionChange) {
        for o in observers.withLock({ $0 }) { o(change) }
    }

    // MARK: Links

    /// A new transport connection; nil when the broker is shutting down or full (refuse it).
    func open(address: String, transport: some PeerTransport, browserToken: String? = nil) -> PeerLink? {
        state.withLock { s -> PeerLink? in
            guard !s.shuttingDown, s.links.count < settings.maximumConnections else { return nil }
            let link = PeerLink(id: s.nextLinkID, address: address, transport: transport, options: settings.connection,
                                outputCap: settings.relayBufferBytes, now: monotonicMilliseconds(), browserToken: browserToken)
            s.nextLinkID += 1
            s.links[link.id] = link
            return link
        }
    }

    var connectionCount: Int { state.withLock { $0.links.count } }

    /// The largest output backlog of any link now (bytes waiting for a transport): bounded by the relay
    /// cap plus one read's worth of records. For tests and diagnostics.
    var largestBacklog: Int { state.withLock { Array($0.links.values) }.map(\.backlog).max() ?? 0 }

    /// For tests and diagnostics: whether a connected session's two connections are served on one event
    /// loop (nil: not connected with both sides here).
    func servedOnOneLoop(_ id: SessionID) -> Bool? {
        let slot = state.withLock { $0.slots[id] }
        guard let endUser = slot?.endUser, let agent = slot?.agent else { return nil }
        return endUser.transport.eventLoop === agent.transport.eventLoop
    }

    /// Every link's state, a line each, for tests and diagnostics.
    var diagnostics: String { state.withLock { Array($0.links.values) }.map(\.diagnostics).joined(separator: "\n") }

    /// A link starts being served.
    func attach(_ link: PeerLink) { metrics.connectionOpened() }

    /// A link's transport is gone and its last events handled: forgotten.
    func detach(_ link: PeerLink) { state.withLock { _ = $0.links.removeValue(forKey: link.id) } }

    // MARK: Events

    func handle(_ event: BrokerEvent, from link: PeerLink) async {
        switch event {
        case .hello(let role, let software):
            logger.debug("connection \(link.id): \(role) \(software)")
        case .joinRequested(let credential, let info):
            await join(link, credential, info)
        case .authenticateRequested(let token):
            await authenticate(link, token)
        case .resumeRequested(let token):
            resume(link, token)
        case .connectRequested(let id, let mode, let key):
            await connect(link, id, mode, key)
        case .consentAnswered(let mode, let key):
            await consent(link, mode, key)
        case .record(let record):
            relay(record, from: link)
        case .sessionEndRequested(let reason, let text):
            guard let id = sessionID(of: link) else { return }
            await end(id, reason, text, by: link)
        case .closed(let reason, let text, _):
            await closed(link, reason, text)
        }
    }

    private func sessionID(of link: PeerLink) -> SessionID? {
        switch link.role {
        case .endUser(let id): return id
        case .agent: return state.withLock { s in s.slots.values.first { $0.agent === link }?.session.id }
        case .unknown: return nil
        }
    }

    private func join(_ link: PeerLink, _ credential: JoinCredential, _ info: EndUserInfo) async {
        let session: SupportSession
        do {
            let details = try EndUserDetails(name: info.name, machineName: info.machineName,
                                             operatingSystem: info.operatingSystem, address: link.address)
            switch credential {
            case .connectionID(let code): session = try await desk.joinWithConnectionID(code, endUser: details)
            case .link(let url): session = try await desk.joinWithLink(url, endUser: details)
            }
        } catch let error as DomainError {
            if error.code == .rateLimited { metrics.rateLimited("join") }
            metrics.joinRefused()
            link.withConnection { $0.close(error.code == .rateLimited ? .rateLimited : .joinRefused, error.reason) }
            return
        } catch {
            logger.error("join failed: \(error)")
            link.withConnection { $0.close(.internalError, "the broker could not record the session") }
            return
        }
        let grace = settings.graceSeconds
        let wait = UInt32(clamping: Int(desk.configuration.waitingTimeout))
        let accepted: Bool = state.withLock { s in
            let token = ResumeToken.random(using: &s.random)
            s.slots[session.id] = Slot(session: session, endUser: link, endUserToken: token)
            s.tokens[token] = (session.id, .endUser)
            link.role = .endUser(session.id)
            do {
                try link.withConnection { try $0.acceptJoin(session.id, resumeToken: token, graceSeconds: grace, waitSeconds: wait) }
            } catch {
                return false  // closed meanwhile: its close event cancels the session
            }
            publish(.added(session), in: &s)
            return true
        }
        if accepted {
            logger.info("session \(session.id) waiting (\(session.joinMethod)) from \(link.address)")
            notify(.waiting(session))
        }
    }

    private func authenticate(_ link: PeerLink, _ given: String) async {
        // A browser's viewer cannot read its HttpOnly login cookie: it sends no token and the cookie counts.
        let token = given.isEmpty ? link.browserToken ?? "" : given
        let caller: AuthenticatedAgent
        do {
            caller = try await desk.authenticate(token)
        } catch let error as DomainError {
            metrics.authenticationFailed()
            let message = error.code == .passwordChangeRequired ? "change the default password in the console first" : error.reason
            link.withConnection { $0.close(.authenticationFailed, message) }
            return
        } catch {
            logger.error("authenticate failed: \(error)")
            link.withConnection { $0.close(.internalError, "the broker could not check the token") }
            return
        }
        if caller.mustChangePassword {
            link.withConnection { $0.close(.authenticationFailed, "change the default password in the console first") }
            return
        }
        let presence = AgentPresence(agent: caller.agent, token: token)
        let info = agentInfo(caller.agent)
        state.withLock { s in
            do {
                try link.withConnection { try $0.acceptAgent(agentID: caller.agent.id.description, info) }
            } catch { return }
            link.role = .agent(presence)
            // The snapshot and the subscription under one lock: no join falls between them.
            for slot in s.slots.values where !slot.connected && slot.session.isVisible(to: caller.agent) {
                link.withConnection { c in try? c.sendLobby(LobbyEntry(slot.session)) }
            }
            subscribe(link, presence.agent, in: &s)
        }
        logger.info("agent \(caller.agent.id) connected over the protocol from \(link.address)")
    }

    private func subscribe(_ link: PeerLink, _ agent: Agent, in s: inout State) {
        s.subscribers[-link.id] = LobbySubscriber(agent: agent) { [weak link] delivery in
            guard let link else { return }
            link.withConnection { c in
                switch delivery {
                case .added(let session): try? c.sendLobby(LobbyEntry(session))
                case .removed(let id, let reason): try? c.sendLobbyGone(id, reason)
                }
            }
        }
    }

    private func agentInfo(_ agent: Agent) -> AgentInfo {
        AgentInfo(name: agent.name, jobTitle: agent.jobTitle, organisation: desk.configuration.organisation)
    }

    private func resume(_ link: PeerLink, _ token: ResumeToken) {
        let grace = settings.graceSeconds
        let replaced: PeerLink? = state.withLock { s -> PeerLink? in
            guard let (id, role) = s.tokens[token], var slot = s.slots[id] else {
                link.withConnection { $0.close(.resumeRefused, "this session is over") }
                return nil
            }
            var old: PeerLink?
            if role == .endUser {
                old = slot.endUser
                slot.endUser = link
                link.role = .endUser(id)
                if slot.connected {
                    slot.epoch += 1
                    let epoch = slot.epoch
                    // The other side hears `peer-resumed` before any record of the new epoch can reach it:
                    // paired and told first, then the returning peer is let in.
                    if let agent = slot.agent {
                        link.partner = agent
                        agent.partner = link
                        try? agent.withConnection { try $0.sendPeerResumed(epoch: epoch) }
                    }
                    try? link.withConnection { try $0.acceptResume(id, epoch: epoch, connected: true) }
                    if slot.agent == nil { try? link.withConnection { try $0.sendPeerAway(graceSeconds: grace) } }
                } else {
                    try? link.withConnection { try $0.acceptResume(id, epoch: 0, connected: false) }
                    if let pending = slot.pending {
                        // The request (or its answer) was lost with the old connection: ask again.
                        try? link.withConnection {
                            try $0.requestConsent(agentInfo(pending.presence.agent), mode: pending.mode, agentKey: pending.key)
                        }
                    }
                }
            } else {
                guard slot.connected, let presence = slot.agentPresence else {
                    link.withConnection { $0.close(.resumeRefused, "this session is over") }
                    return nil
                }
                old = slot.agent
                slot.agent = link
                link.role = .agent(presence)
                slot.epoch += 1
                let epoch = slot.epoch
                if let endUser = slot.endUser {
                    link.partner = endUser
                    endUser.partner = link
                    try? endUser.withConnection { try $0.sendPeerResumed(epoch: epoch) }
                }
                try? link.withConnection { try $0.acceptResume(id, epoch: epoch, connected: true) }
                subscribe(link, presence.agent, in: &s)
                if slot.endUser == nil { try? link.withConnection { try $0.sendPeerAway(graceSeconds: grace) } }
            }
            if slot.endUser != nil && (slot.agent != nil || !slot.connected) { slot.awaySince = nil }
            s.slots[id] = slot
            return old === link ? nil : old
        }
        if let partner = link.partner { colocate(link, partner) }
        if let replaced {
            // The earlier connection of this peer: forgotten by the hub, then dropped.
            replaced.role = .unknown
            replaced.partner = nil
            replaced.withConnection { $0.close(.normal, "replaced by a resumed connection") }
        }
    }

    private func connect(_ link: PeerLink, _ id: SessionID, _ mode: AccessMode, _ key: KeyShare) async {
        guard case .agent(let presence) = link.role else { return }
        // The login may have been revoked since the agent authenticated.
        if (try? await desk.authenticate(presence.token)) == nil {
            try? link.withConnection { try $0.refuseConnect(id, .authenticationFailed, "log in again") }
            link.withConnection { $0.close(.authenticationFailed, "the login is no longer valid") }
            return
        }
        let info = agentInfo(presence.agent)
        state.withLock { s in
            guard var slot = s.slots[id], !slot.connected, let endUser = slot.endUser,
                  slot.session.isVisible(to: presence.agent) else {
                try? link.withConnection { try $0.refuseConnect(id, .notAllowed, "this session is not waiting for you") }
                return
            }
            if let pending = slot.pending, pending.link !== link, !pending.link.isClosed {
                try? link.withConnection { try $0.refuseConnect(id, .notAllowed, "another agent is connecting") }
                return
            }
            do {
                try endUser.withConnection { try $0.requestConsent(info, mode: mode, agentKey: key) }
            } catch {
                try? link.withConnection { try $0.refuseConnect(id, .notAllowed, "the end user cannot be asked now") }
                return
            }
            slot.pending = PendingConnect(link: link, mode: mode, key: key, presence: presence)
            s.slots[id] = slot
        }
    }

    private func consent(_ link: PeerLink, _ mode: AccessMode?, _ key: KeyShare?) async {
        guard case .endUser(let id) = link.role else { return }
        let pending: PendingConnect? = state.withLock { s in
            defer { s.slots[id]?.pending = nil }
            return s.slots[id]?.pending
        }
        guard let pending, !pending.link.isClosed else {
            if mode != nil {
                // Keys were made for an agent who is gone: that session cannot start.
                try? link.withConnection { try $0.sendSessionEnded(.peerLost, "the agent left before the session started") }
                await closed(link, .peerLost, "the agent left")
            }
            return
        }
        guard let mode, let key else {
            try? pending.link.withConnection { try $0.refuseConnect(id, .consentDeclined, "the end user declined") }
            return
        }
        let session: SupportSession
        do {
            session = try await desk.connect(pending.presence.token, session: id, address: pending.link.address)
        } catch {
            let reason = (error as? DomainError)?.reason ?? "the broker could not record the connection"
            try? pending.link.withConnection { try $0.refuseConnect(id, .notAllowed, reason) }
            try? link.withConnection { try $0.sendSessionEnded(.notAllowed, reason) }
            link.withConnection { $0.close(.notAllowed, reason) }
            return
        }
        let grace = settings.graceSeconds
        let paired: Bool = state.withLock { s in
            guard var slot = s.slots[id], slot.endUser === link else { return false }
            let token = ResumeToken.random(using: &s.random)
            // Paired before `connected` goes out: the agent's `start` record may come back at once.
            link.partner = pending.link
            pending.link.partner = link
            do {
                try link.withConnection { try $0.sessionConnected() }
                try pending.link.withConnection {
                    try $0.sendConnected(id, mode: mode, endUserKey: key, resumeToken: token, graceSeconds: grace)
                }
            } catch {
                link.partner = nil
                pending.link.partner = nil
                return false
            }
            slot.session = session
            slot.connected = true
            slot.agent = pending.link
            slot.agentPresence = pending.presence
            slot.agentToken = token
            s.tokens[token] = (id, .agent)
            s.slots[id] = slot
            publish(.removed(id, reason: .normal), in: &s)
            return true
        }
        if paired {
            colocate(link, pending.link)
            metrics.sessionConnected()
            logger.info("session \(id) connected to agent \(pending.presence.agent.id)")
            notify(.connected(session, agent: pending.presence.agent))
        } else {
            await end(id, .internalError, "the session could not start", by: nil)
        }
    }

    /// Serves both sides of a connected session on one event loop, so a relayed record is read and written
    /// by one thread: the end user's connection moves to the agent's loop (the agent's may serve other
    /// sessions later), or the agent's to the end user's when only it can move (plain TCP can; TLS and
    /// WebSocket stay).
    private func colocate(_ a: PeerLink, _ b: PeerLink) {
        let (endUser, agent) = a.isAgent ? (b, a) : (a, b)
        let (endUserTransport, agentTransport) = (endUser.transport, agent.transport)
        guard !(endUserTransport.eventLoop === agentTransport.eventLoop) else { return }
        if endUserTransport.isMovable {
            endUserTransport.move(to: agentTransport.eventLoop)
        } else {
            agentTransport.move(to: endUserTransport.eventLoop)
        }
    }

    func relay(_ record: SessionRecord, from link: PeerLink) {
        guard let partner = link.partner else {  // the other side is away: dropped (13)
            logger.debug("connection \(link.id): record \(record.epoch).\(record.counter) dropped, no partner")
            return
        }
        let delivered: Bool = partner.withConnection { c in
            guard c.isConnected else { return false }
            return (try? c.relay(record)) != nil
        }
        if delivered {
            metrics.relayed(bytes: record.sealed.count, toAgent: partner.isAgent)
        } else {
            logger.debug("connection \(link.id): record \(record.epoch).\(record.counter) dropped, partner not connected")
        }
    }

    // MARK: Ends

    /// A connection closed: a resumable loss keeps the session for the grace period; anything else ends it.
    private func closed(_ link: PeerLink, _ reason: CloseReason, _ text: String) async {
        let role = link.role
        link.role = .unknown
        state.withLock { s in _ = s.subscribers.removeValue(forKey: -link.id) }
        let resumable = reason == .peerLost || reason == .timeout || reason == .shuttingDown
        switch role {
        case .unknown:
            return
        case .agent:
            // Requests this agent left open can no longer be answered.
            let endedByLoss: SessionID? = state.withLock { s in
                for (id, slot) in s.slots where slot.pending?.link === link { s.slots[id]?.pending = nil }
                guard let (id, slot) = s.slots.first(where: { $0.value.agent === link }) else { return nil }
                guard resumable else { return id }
                var away = slot
                away.agent = nil
                away.awaySince = monotonicMilliseconds()
                s.slots[id] = away
                link.partner = nil
                if let endUser = slot.endUser {
                    endUser.partner = nil
                    try? endUser.withConnection { try $0.sendPeerAway(graceSeconds: settings.graceSeconds) }
                }
                return nil
            }
            if let id = endedByLoss { await end(id, reason, text, by: link) }
        case .endUser(let id):
            let action: EndAction = state.withLock { s in
                guard var slot = s.slots[id], slot.endUser === link else { return .none }
                guard resumable, !s.shuttingDown else { return slot.connected ? .end : .cancel }
                slot.endUser = nil
                slot.awaySince = monotonicMilliseconds()
                if let agent = slot.agent {
                    agent.partner = nil
                    try? agent.withConnection { try $0.sendPeerAway(graceSeconds: settings.graceSeconds) }
                }
                link.partner = nil
                s.slots[id] = slot
                return .none
            }
            switch action {
            case .none: break
            case .end: await end(id, reason, text, by: link)
            case .cancel:
                let left = reason == .normal || reason == .endedByEndUser
                await cancel(id, left ? .endUserLeft : Self.storeReason(reason, endedByAgent: false), gone: .normal)
            }
        }
    }

    private enum EndAction { case none, end, cancel }

    /// Ends a connected session (or cancels a waiting one): tells the sides still there, forgets it, and
    /// records it in the store.
    func end(_ id: SessionID, _ reason: CloseReason, _ text: String, by link: PeerLink?) async {
        let slot: Slot? = state.withLock { s in
            guard let slot = s.slots.removeValue(forKey: id) else { return nil }
            s.tokens[slot.endUserToken] = nil
            if let t = slot.agentToken { s.tokens[t] = nil }
            if !slot.connected { publish(.removed(id, reason: reason), in: &s) }
            return slot
        }
        guard let slot else { return }
        for side in [slot.agent, slot.endUser].compactMap({ $0 }) {
            side.partner = nil
            guard side !== link else { continue }
            try? side.withConnection { try $0.sendSessionEnded(reason, text) }
        }
        if let endUser = slot.endUser, endUser !== link {
            endUser.role = .unknown
            endUser.withConnection { $0.close(.normal, "the session ended") }
        }
        if let pending = slot.pending, pending.link !== link {
            try? pending.link.withConnection { try $0.refuseConnect(id, reason, text) }
        }
        let storeReason = Self.storeReason(reason, endedByAgent: link?.isAgent ?? false)
        do {
            if slot.connected {
                _ = try await desk.end(session: id, reason: storeReason, actor: actor(of: link, slot), address: link?.address ?? "")
                notify(.ended(id, reason: storeReason.rawValue))
            } else {
                _ = try await desk.cancel(session: id, reason: storeReason, actor: actor(of: link, slot), address: link?.address ?? "")
                notify(.cancelled(id, reason: storeReason.rawValue))
            }
            logger.info("session \(id) \(slot.connected ? "ended" : "cancelled"): \(storeReason)")
        } catch let error as DomainError where error.code == .invalidTransition {
            // A shutdown's closeInterruptedSessions got there first: the store already says it is over.
            logger.notice("session \(id) was already closed in the store: \(error)")
        } catch is CancellationError {
            // The broker is stopping (this ran on a task the shutdown cancelled): the shutdown closes the
            // sessions still open in the store, this one with them.
            logger.notice("session \(id) is left to the shutdown to close in the store")
        } catch {
            logger.error("session \(id) could not be closed in the store: \(error)")
        }
    }

    private func cancel(_ id: SessionID, _ reason: SessionEndReason, gone: CloseReason) async {
        let removed: Bool = state.withLock { s in
            guard let slot = s.slots.removeValue(forKey: id) else { return false }
            s.tokens[slot.endUserToken] = nil
            if let pending = slot.pending { try? pending.link.withConnection { try $0.refuseConnect(id, .peerLost, "the end user left") } }
            publish(.removed(id, reason: gone), in: &s)
            return true
        }
        guard removed else { return }
        do {
            _ = try await desk.cancel(session: id, reason: reason, actor: .system)
            notify(.cancelled(id, reason: reason.rawValue))
            logger.info("session \(id) cancelled: \(reason)")
        } catch let error as DomainError where error.code == .invalidTransition {
            logger.notice("session \(id) was already closed in the store: \(error)")
        } catch {
            logger.error("session \(id) could not be cancelled in the store: \(error)")
        }
    }

    private func actor(of link: PeerLink?, _ slot: Slot) -> AuditActor {
        if let link, link.isAgent, let presence = slot.agentPresence { return .agent(presence.agent) }
        if let link, link === slot.endUser { return .endUser(slot.session.endUser.machineName) }
        return .system
    }

    static func storeReason(_ reason: CloseReason, endedByAgent: Bool) -> SessionEndReason {
        switch reason {
        case .endedByAgent: .agentEnded
        case .endedByEndUser: .endUserEnded
        case .normal: endedByAgent ? .agentEnded : .endUserEnded
        case .peerLost, .timeout: .connectionLost
        case .shuttingDown: .brokerRestarted
        case .consentDeclined: .consentDenied
        case .expired: .waitedTooLong
        default: SessionEndReason(rawValue: reason.description.replacingOccurrences(of: " ", with: "-"))
        }
    }

    // MARK: Lobby

    /// Tells every subscriber who may see the session. Under the hub's lock.
    private func publish(_ delivery: LobbyDelivery, in s: inout State) {
        let session: SupportSession?
        switch delivery {
        case .added(let added): session = added
        case .removed(let id, _): session = s.slots[id]?.session
        }
        for subscriber in s.subscribers.values {
            // A removal is sent to everyone who could have seen it (the slot may already be gone).
            if let session, !session.isVisible(to: subscriber.agent) { continue }
            subscriber.deliver(delivery)
        }
    }

    /// Follows the lobby for `agent` (the console's live list): the waiting sessions now, then changes.
    /// Returns a handle for `unsubscribe`.
    func subscribeLobby(agent: Agent, deliver: @escaping @Sendable (LobbyDelivery) -> Void,
                        finish: @escaping @Sendable () -> Void = {}) -> Int {
        state.withLock { s in
            for slot in s.slots.values where !slot.connected && slot.session.isVisible(to: agent) {
                deliver(.added(slot.session))
            }
            let id = s.nextSubscriberID
            s.nextSubscriberID += 1
            s.subscribers[id] = LobbySubscriber(agent: agent, deliver: deliver, finish: finish)
            return id
        }
    }

    func unsubscribeLobby(_ id: Int) { state.withLock { _ = $0.subscribers.removeValue(forKey: id) } }

    /// Sessions waiting and connected now (for metrics and /health).
    var sessionCounts: (waiting: Int, connected: Int) {
        state.withLock { s in
            let connected = s.slots.values.count { $0.connected }
            return (s.slots.count - connected, connected)
        }
    }

    // MARK: Timers

    /// Runs the keepalives and deadlines: every link's timers, grace periods, waiting-session expiry.
    func tick() async {
        let now = monotonicMilliseconds()
        let links = state.withLock { Array($0.links.values) }
        for link in links where link.tick(now: now, linger: settings.closeLingerMilliseconds) {
            link.transport.abort()
        }
        let graceMs = UInt64(settings.graceSeconds) * 1000
        let lapsed: [(SessionID, Bool)] = state.withLock { s in
            s.slots.values.compactMap { slot in
                guard let since = slot.awaySince, now >= since + graceMs else { return nil }
                return (slot.session.id, slot.connected)
            }
        }
        for (id, connected) in lapsed {
            if connected {
                await end(id, .peerLost, "the other side did not come back", by: nil)
            } else {
                await cancel(id, .endUserLeft, gone: .peerLost)
            }
        }
    }

    /// Expires sessions that waited too long (store rule), telling their end users and the lobby.
    func expireWaiting() async {
        let expired: [SupportSession]
        do {
            expired = try await desk.expireWaitingSessions()
        } catch {
            logger.error("expiring waiting sessions failed: \(error)")
            return
        }
        for session in expired {
            let slot: Slot? = state.withLock { s in
                guard let slot = s.slots.removeValue(forKey: session.id) else { return nil }
                s.tokens[slot.endUserToken] = nil
                publish(.removed(session.id, reason: .expired), in: &s)
                return slot
            }
            if let endUser = slot?.endUser {
                endUser.role = .unknown
                try? endUser.withConnection { try $0.sendSessionEnded(.expired, "nobody connected in time") }
                endUser.withConnection { $0.close(.expired, "nobody connected in time") }
            }
            notify(.cancelled(session.id, reason: SessionEndReason.waitedTooLong.rawValue))
        }
    }

    // MARK: Shutdown

    /// Refuses new connections and tells every peer the broker is going (`shutting-down`, resumable).
    func beginShutdown() {
        let (links, subscribers) = state.withLock { s in
            s.shuttingDown = true
            return (Array(s.links.values), Array(s.subscribers.values))
        }
        for link in links { link.withConnection { $0.close(.shuttingDown, "the broker is shutting down") } }
        for subscriber in subscribers { subscriber.finish() }
    }

    /// Waits until every link's transport is gone, or `timeout` passed; then aborts the rest.
    func drain(timeout: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while connectionCount > 0, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for link in state.withLock({ Array($0.links.values) }) { link.transport.abort() }
    }
}
