import Foundation
import RemoteSupportCore

extension SupportDesk {
    // MARK: Connection IDs

    /// Draws a connection ID for the caller, uniformly from the codes neither live nor issued within the
    /// quarantine, and stores it (retrying if another node took the same code a moment before).
    public func issueConnectionID(_ presented: String, ticket: String? = nil, endUserName: String? = nil,
                                  address: String) async throws -> ConnectionCodeGrant {
        let caller = try await authenticate(presented)
        let policy = configuration.connectionIDs
        var random = SystemRandomNumberGenerator()
        for _ in 0..<16 {
            let time = now
            let unavailable = try await store.unavailableConnectionCodes(at: time, quarantine: policy.quarantine)
            let code = try ConnectionID.draw(excluding: unavailable, using: &random)
            let grant = try ConnectionCodeGrant(code: code, agentID: caller.agent.id, ticket: ticket.flatMap { $0.isEmpty ? nil : $0 },
                                                endUserName: endUserName.flatMap { $0.isEmpty ? nil : $0 }, created: time,
                                                policy: policy)
            if try await store.insertConnectionCode(grant, quarantine: policy.quarantine) {
                try await audit(.connectionIDIssued, actor: .agent(caller.agent), subject: code.formatted, address: address)
                return grant
            }
        }
        throw DomainError(.exhausted, "could not draw a free connection ID")
    }

    /// The caller's connection IDs still live.
    public func liveConnectionIDs(_ presented: String) async throws -> [ConnectionCodeGrant] {
        let caller = try await authenticate(presented)
        return try await store.liveConnectionCodes(of: caller.agent.id, at: now)
    }

    // MARK: Joining

    /// An end user joins with a 6-digit code. The code is used up atomically with the session created, so
    /// of two joins with one code exactly one wins. A wrong, expired or used code is `.notFound` (one
    /// answer for all) and counts as a failed guess for the address, its network and globally.
    /// The returned session carries the agent's ticket and name: the host must not show them to the end user.
    public func joinWithConnectionID(_ text: String, endUser: EndUserDetails) async throws -> SupportSession {
        let time = now
        let address = endUser.address
        do {
            try limiters.withLock { limiters throws(DomainError) in try limiters.connectionIDs.check(address: address, at: time) }
        } catch {
            try await audit(.rateLimited, actor: .endUser(address), address: address, detail: "connection ID")
            throw error
        }
        guard let code = try? ConnectionID(parsing: text),
              let (grant, session) = try await store.consumeConnectionCode(code, at: time, makeSession: { grant in
                  SupportSession(agentID: grant.agentID, joinMethod: .connectionID, joinReference: grant.code.formatted,
                                 ticket: grant.ticket, invitedName: grant.endUserName, endUser: endUser, created: time)
              }) else {
            limiters.withLock { $0.connectionIDs.recordFailure(address: address, at: time) }
            try await audit(.connectionIDFailed, actor: .endUser(address), address: address)
            throw DomainError(.notFound, "this connection ID is not valid")
        }
        try await audit(.sessionJoined, actor: .endUser(endUser.machineName), subject: session.id.description, address: address,
                        detail: "connection ID \(grant.code.formatted) of agent \(grant.agentID)")
        return session
    }

    /// An end user joins through a personal or invitation link.
    public func joinWithLink(_ link: String, endUser: EndUserDetails) async throws -> SupportSession {
        let target = try await resolveJoinLink(link)
        let session = SupportSession(agentID: target.agent.id,
                                     joinMethod: target.invitation == nil ? .personalLink : .invitation,
                                     joinReference: target.invitation?.id.text, ticket: target.invitation?.ticket,
                                     invitedName: target.invitation?.endUserName, endUser: endUser, created: now)
        try await store.createSession(session)
        try await audit(.sessionJoined, actor: .endUser(endUser.machineName), subject: session.id.description,
                        address: endUser.address, detail: "\(session.joinMethod) of agent \(target.agent.id)")
        return session
    }

    // MARK: Lobby and history

    /// The sessions waiting for the caller (all waiting ones for an admin), newest first.
    public func lobby(_ presented: String) async throws -> [SupportSession] {
        let caller = try await authenticate(presented)
        return try await store.sessions(.lobby(of: caller.agent)).items
    }

    /// "Show all sessions": every session of the organisation, with history, filtered and paged, plus the
    /// number matching the filters. Any agent may list; connecting is what visibility guards.
    public func allSessions(_ presented: String, _ query: SessionQuery) async throws -> (page: Page<SupportSession>, total: Int) {
        _ = try await authenticate(presented)
        return (try await store.sessions(query), try await store.countSessions(query))
    }

    // MARK: Transitions

    /// The caller connects to a waiting session in their lobby (the state machine refuses anything else).
    public func connect(_ presented: String, session id: SessionID, address: String) async throws -> SupportSession {
        let caller = try await authenticate(presented)
        let time = now
        let agent = caller.agent
        let session = try await store.updateSession(id) { session in try session.apply(.connect(agent), at: time) }
        try await audit(.sessionConnected, actor: .agent(agent), subject: id.description, address: address)
        return session
    }

    /// Ends a connected session (either side; the broker calls it when a peer closes or vanishes).
    public func end(session id: SessionID, reason: SessionEndReason, actor: AuditActor, address: String = "") async throws -> SupportSession {
        let time = now
        let session = try await store.updateSession(id) { session in try session.apply(.end(reason), at: time) }
        try await audit(.sessionEnded, actor: actor, subject: id.description, address: address, detail: reason.rawValue)
        return session
    }

    /// A waiting session goes away (the end user left, the agent declined).
    public func cancel(session id: SessionID, reason: SessionEndReason, actor: AuditActor, address: String = "") async throws -> SupportSession {
        let time = now
        let session = try await store.updateSession(id) { session in try session.apply(.cancel(reason), at: time) }
        try await audit(.sessionCancelled, actor: actor, subject: id.description, address: address, detail: reason.rawValue)
        return session
    }

    /// Expires sessions that waited longer than `waitingTimeout`; returns them. Call periodically.
    public func expireWaitingSessions() async throws -> [SupportSession] {
        let time = now
        let cutoff = time.addingTimeInterval(-configuration.waitingTimeout)
        var expired: [SupportSession] = []
        var cursor: PageCursor?
        repeat {
            let page = try await store.sessions(SessionQuery(statuses: [.waiting], createdBefore: cutoff, limit: SessionQuery.maximumLimit,
                                                             after: cursor))
            for session in page.items {
                do {
                    expired.append(try await store.updateSession(session.id) { try $0.apply(.expire, at: time) })
                    try await audit(.sessionExpired, actor: .system, subject: session.id.description)
                } catch let error as DomainError where error.code == .invalidTransition {
                    continue  // connected or cancelled meanwhile
                }
            }
            cursor = page.next
        } while cursor != nil
        return expired
    }

    /// After a broker restart: sessions left waiting or connected by the previous run are closed with
    /// `reason` (their peers' connections are gone). Returns how many.
    public func closeInterruptedSessions(reason: SessionEndReason = .brokerRestarted) async throws -> Int {
        let time = now
        var closed = 0
        var cursor: PageCursor?
        repeat {
            let page = try await store.sessions(SessionQuery(statuses: [.waiting, .connected], createdBefore: time,
                                                             limit: SessionQuery.maximumLimit, after: cursor))
            for session in page.items {
                let transition: SessionTransition = session.state.status == .waiting ? .cancel(reason) : .end(reason)
                do {
                    try await store.updateSession(session.id) { try $0.apply(transition, at: time) }
                } catch let error as DomainError where error.code == .invalidTransition {
                    continue  // changed meanwhile
                }
                closed += 1
                try await audit(transition == .cancel(reason) ? .sessionCancelled : .sessionEnded, actor: .system,
                                subject: session.id.description, detail: reason.rawValue)
            }
            cursor = page.next
        } while cursor != nil
        return closed
    }
}
