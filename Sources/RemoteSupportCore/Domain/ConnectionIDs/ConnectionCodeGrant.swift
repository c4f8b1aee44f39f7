import Foundation

/// An issued connection ID: who issued it (and for which ticket and end user, which only the agent's side
/// ever sees), until when it is valid, and whether it was used. One use: `consume` marks it, and the
/// store does so atomically, so two joins with one code cannot both win.
public struct ConnectionCodeGrant: Hashable, Sendable {
    public let code: ConnectionID
    public let agentID: AgentID
    public let ticket: String?
    public let endUserName: String?
    public let created: Date
    public let expires: Date
    public var consumed: Date?

    public init(code: ConnectionID, agentID: AgentID, ticket: String?, endUserName: String?, created: Date,
                policy: ConnectionIDPolicy) throws(DomainError) {
        self.code = code
        self.agentID = agentID
        self.ticket = try ticket.flatMap { raw throws(DomainError) in let value = try TextRules.ticket.validate(raw); return value }
        self.endUserName = try endUserName.flatMap { raw throws(DomainError) in let value = try TextRules.endUserName.validate(raw); return value }
        self.created = created
        self.expires = created.addingTimeInterval(policy.lifetime)
        self.consumed = nil
    }

    public init(code: ConnectionID, agentID: AgentID, ticket: String?, endUserName: String?, created: Date,
                expires: Date, consumed: Date?) {
        self.code = code
        self.agentID = agentID
        self.ticket = ticket
        self.endUserName = endUserName
        self.created = created
        self.expires = expires
        self.consumed = consumed
    }

    public func isLive(at now: Date) -> Bool { consumed == nil && now < expires }
}

public struct ConnectionIDPolicy: Sendable, Hashable {
    /// How long an issued code can be used (default 10 minutes).
    public var lifetime: TimeInterval
    /// How long a code stays out of the draw after it was issued (default 24 hours), so a code someone
    /// saw yesterday never leads to someone else today.
    public var quarantine: TimeInterval

    public init(lifetime: TimeInterval = 10 * 60, quarantine: TimeInterval = 24 * 3600) {
        self.lifetime = lifetime
        self.quarantine = max(quarantine, lifetime)
    }
}
