import Foundation

/// One end user's request for support, from joining to the end. `apply(_:at:)` is the one place its state
/// changes, and it enforces the rules: only a waiting session can be connected, only by the agent it was
/// addressed to (or an admin), with an enabled account; only a connected session ends; only a waiting one
/// is cancelled or expires. Final states never change again.
public struct SupportSession: Hashable, Sendable, Identifiable {
    public let id: SessionID
    /// The agent whose link or code the end user used: the session is in their lobby.
    public let agentID: AgentID
    public let joinMethod: JoinMethod
    /// The invitation id or the connection ID used, for the audit trail (nil for a personal link).
    public let joinReference: String?
    /// From the agent's side (invitation or connection-ID grant): never sent to the end user.
    public let ticket: String?
    public let invitedName: String?
    public let endUser: EndUserDetails
    public let created: Date
    public private(set) var state: SessionState

    public init(id: SessionID = SessionID(), agentID: AgentID, joinMethod: JoinMethod, joinReference: String?,
                ticket: String?, invitedName: String?, endUser: EndUserDetails, created: Date,
                state: SessionState = .waiting) {
        self.id = id
        self.agentID = agentID
        self.joinMethod = joinMethod
        self.joinReference = joinReference
        self.ticket = ticket
        self.invitedName = invitedName
        self.endUser = endUser
        self.created = created.wholeMilliseconds
        self.state = state
    }

    /// The name to show the agent: what they typed in the invitation, else what the end user typed.
    public var displayName: String { invitedName ?? endUser.name }

    public func isVisible(to agent: Agent) -> Bool {
        agent.enabled && (agent.id == agentID || agent.role.isAdmin)
    }

    public mutating func apply(_ transition: SessionTransition, at now: Date) throws(DomainError) {
        switch (state, transition) {
        case (.waiting, .connect(let agent)):
            guard isVisible(to: agent) else {
                throw DomainError(.forbidden, "this session is not in your lobby")
            }
            state = .connected(agent: agent.id, since: now)
        case (.connected(let agent, let since), .end(let reason)):
            state = .ended(agent: agent, connected: since, reason: reason, at: now)
        case (.waiting, .cancel(let reason)):
            state = .cancelled(reason: reason, at: now)
        case (.waiting, .expire):
            state = .expired(at: now)
        default:
            throw DomainError(.invalidTransition, "cannot \(transition.verb) a session that is \(state.status.rawValue)")
        }
    }
}

/// The changes a session can go through (see `SupportSession.apply`).
public enum SessionTransition: Hashable, Sendable {
    /// An agent attaches to a waiting session.
    case connect(Agent)
    /// Either side ends a connected session.
    case end(SessionEndReason)
    /// A waiting session goes away before anyone connected (end user left, agent declined).
    case cancel(SessionEndReason)
    /// A waiting session waited longer than the broker allows.
    case expire

    var verb: String {
        switch self {
        case .connect: "connect"
        case .end: "end"
        case .cancel: "cancel"
        case .expire: "expire"
        }
    }
}
