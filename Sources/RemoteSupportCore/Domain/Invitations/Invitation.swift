import Foundation

/// An invitation: the agent's personal link with a ticket number and/or the end user's name embedded,
/// signed so neither can be forged or altered, expiring, and revocable through its `id` (the store keeps
/// a record per id; parsing alone cannot know about a revocation).
public struct Invitation: Hashable, Sendable {
    public let id: InvitationID
    public let agentSlug: AgentSlug
    public let ticket: String?
    public let endUserName: String?
    /// Whole seconds since 1970 (what the link carries).
    public let expires: Date

    public init(id: InvitationID, agentSlug: AgentSlug, ticket: String?, endUserName: String?,
                expires: Date) throws(DomainError) {
        self.id = id
        self.agentSlug = agentSlug
        self.ticket = try ticket.flatMap { raw throws(DomainError) in
            let value = try TextRules.ticket.validate(raw)
            return value
        }
        self.endUserName = try endUserName.flatMap { raw throws(DomainError) in
            let value = try TextRules.endUserName.validate(raw)
            return value
        }
        self.expires = Date(timeIntervalSince1970: expires.timeIntervalSince1970.rounded(.down))
    }
}

/// 128 random bits naming one invitation (22 base64url characters in links).
public struct InvitationID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(using generator: inout some RandomNumberGenerator) {
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in bytes.indices { bytes[index] = generator.next() }
        self.bytes = bytes
    }

    public init(_ text: some StringProtocol) throws(DomainError) {
        guard let bytes = Base64.decode(text, urlSafe: true), bytes.count == 16 else {
            throw DomainError(.malformedLink, "invitation id is not 22 base64url characters")
        }
        self.bytes = bytes
    }

    public var text: String { Base64.encode(bytes, urlSafe: true) }
    public var description: String { text }
}

/// What a join link says once parsed: which agent, and for an invitation the signed details.
public enum JoinLink: Hashable, Sendable {
    /// `<public URL>/join/<slug>`: permanent, carries nothing else.
    case personal(AgentSlug)
    /// `<public URL>/join/<slug>?ticket=...&name=...&expires=...&id=...&sig=...`
    case invitation(Invitation)

    public var agentSlug: AgentSlug {
        switch self {
        case .personal(let slug): slug
        case .invitation(let invitation): invitation.agentSlug
        }
    }
}
