import Foundation
import RemoteSupportCore

/// Where a join link leads, once checked against the store.
public struct JoinTarget: Sendable {
    public let agent: Agent
    /// Set for an invitation link (its ticket and name come from here, signed).
    public let invitation: Invitation?
}

extension SupportDesk {
    /// The caller's permanent personal link.
    public func personalLink(_ presented: String) async throws -> String {
        let caller = try await authenticate(presented)
        return try await linkSigner().link(for: .personal(caller.agent.slug))
    }

    /// An invitation link of the caller's with a ticket and/or end-user name, valid for `lifetime` (default
    /// from the configuration, at most the configured maximum). Revocable by its id.
    public func createInvitation(_ presented: String, ticket: String?, endUserName: String?, lifetime: TimeInterval? = nil,
                                 address: String) async throws -> (link: String, record: InvitationRecord) {
        let caller = try await authenticate(presented)
        let time = now
        let seconds = min(max(60, lifetime ?? configuration.invitationLifetime), configuration.maximumInvitationLifetime)
        var random = SystemRandomNumberGenerator()
        let invitation = try Invitation(id: InvitationID(using: &random), agentSlug: caller.agent.slug,
                                        ticket: ticket.flatMap { $0.isEmpty ? nil : $0 },
                                        endUserName: endUserName.flatMap { $0.isEmpty ? nil : $0 },
                                        expires: time.addingTimeInterval(seconds))
        let record = InvitationRecord(invitation: invitation, agentID: caller.agent.id, created: time)
        try await store.createInvitation(record)
        try await audit(.invitationCreated, actor: .agent(caller.agent), subject: invitation.id.text, address: address,
                        detail: invitation.ticket.map { "ticket \($0)" } ?? "")
        return (try await linkSigner().link(for: .invitation(invitation)), record)
    }

    /// Revokes one of the caller's invitations (an admin may revoke anyone's).
    public func revokeInvitation(_ presented: String, id: InvitationID, address: String) async throws {
        let caller = try await authenticate(presented)
        guard let record = try await store.invitation(id) else { throw DomainError(.notFound, "no such invitation") }
        guard record.agentID == caller.agent.id || caller.agent.role.isAdmin else {
            throw DomainError(.forbidden, "not your invitation")
        }
        try await store.revokeInvitation(id, at: now)
        try await audit(.invitationRevoked, actor: .agent(caller.agent), subject: id.text, address: address)
    }

    /// Checks a join link: ours, unaltered, not expired or revoked, leading to an enabled agent.
    public func resolveJoinLink(_ link: String) async throws -> JoinTarget {
        let join = try await linkSigner().parse(link, at: now)
        guard let agent = try await store.agent(slug: join.agentSlug), agent.enabled else {
            throw DomainError(.notFound, "this link does not lead to an agent")
        }
        switch join {
        case .personal:
            return JoinTarget(agent: agent, invitation: nil)
        case .invitation(let invitation):
            guard let record = try await store.invitation(invitation.id), record.agentID == agent.id else {
                throw DomainError(.notFound, "this invitation is not known here")
            }
            try record.check(at: now)
            return JoinTarget(agent: agent, invitation: invitation)
        }
    }

    /// A short link `<public URL>/s/<code>` to one of the caller's own join links, living as long as the
    /// invitation (or `personalShortLinkLifetime` for a personal link).
    public func shorten(_ presented: String, link: String, address: String) async throws -> ShortLink {
        let caller = try await authenticate(presented)
        let time = now
        let join = try await linkSigner().parse(link, at: time)
        guard join.agentSlug == caller.agent.slug else { throw DomainError(.forbidden, "only your own links can be shortened") }
        let expires: Date
        switch join {
        case .personal: expires = time.addingTimeInterval(configuration.personalShortLinkLifetime)
        case .invitation(let invitation): expires = invitation.expires
        }
        let canonical = try await linkSigner().link(for: join)
        var random = SystemRandomNumberGenerator()
        for _ in 0..<8 {
            let short = ShortLink(code: ShortCode(using: &random), target: canonical, agentID: caller.agent.id, created: time,
                                  expires: expires)
            do {
                try await store.createShortLink(short)
                try await audit(.shortLinkCreated, actor: .agent(caller.agent), subject: short.code.value, address: address)
                return short
            } catch let error as DomainError where error.code == .conflict {
                continue  // 95 bits: never in practice, but a collision must not overwrite
            }
        }
        throw DomainError(.exhausted, "could not draw a free short code")
    }

    /// The full link behind a short code. Unknown, malformed and expired codes get the same `.notFound`;
    /// each counts as a failed guess for the address (`.rateLimited` when over).
    public func resolveShortLink(_ code: String, address: String) async throws -> String {
        let time = now
        try limiters.withLock { limiters throws(DomainError) in try limiters.shortLinks.check(address: address, at: time) }
        do {
            guard let link = try await store.shortLink(try ShortCode(code)) else { throw DomainError(.notFound, "no such link") }
            return try link.resolve(at: time)
        } catch let error as DomainError where error.code == .notFound {
            limiters.withLock { $0.shortLinks.recordFailure(address: address, at: time) }
            throw DomainError(.notFound, "no such link")
        }
    }

    /// Composes the invitation e-mail for `link` (and a connection ID if given) and sends it through the
    /// configured mailer. `.notConfigured` when none is configured (the console then offers mailto:).
    public func emailInvitation(_ presented: String, to recipient: String, link: String, connectionID: ConnectionCodeGrant? = nil,
                                address: String) async throws -> InvitationEmail {
        let caller = try await authenticate(presented)
        let to = try EmailAddress(recipient)
        let join = try await linkSigner().parse(link, at: now)
        guard join.agentSlug == caller.agent.slug else { throw DomainError(.forbidden, "only your own links can be sent") }
        if let connectionID, connectionID.agentID != caller.agent.id { throw DomainError(.forbidden, "not your connection ID") }
        var name: String?
        var ticket: String?
        if case .invitation(let invitation) = join {
            name = invitation.endUserName
            ticket = invitation.ticket
        }
        let email = InvitationEmail(.init(agentName: caller.agent.name, agentTitle: caller.agent.jobTitle,
                                          organisation: configuration.organisation, link: link, endUserName: name ?? connectionID?.endUserName,
                                          ticket: ticket ?? connectionID?.ticket, connectionID: connectionID?.code,
                                          connectionIDExpires: connectionID?.expires))
        guard let mailer else { throw DomainError(.notConfigured, "this broker has no mail relay (--smtp-url)") }
        try await mailer.deliver(to: to, recipientName: name, email: email)
        try await audit(.invitationEmailed, actor: .agent(caller.agent), subject: to.value, address: address,
                        detail: ticket.map { "ticket \($0)" } ?? "")
        return email
    }
}
