import Foundation

/// What the store keeps of an issued invitation: who issued it, when, and whether it was revoked. The link
/// carries the rest, signed.
public struct InvitationRecord: Hashable, Sendable {
    public let invitation: Invitation
    public let agentID: AgentID
    public let created: Date
    public var revoked: Date?

    public init(invitation: Invitation, agentID: AgentID, created: Date, revoked: Date? = nil) {
        self.invitation = invitation
        self.agentID = agentID
        self.created = created
        self.revoked = revoked
    }

    /// Usable at `now`: not revoked and not expired.
    public func check(at now: Date) throws(DomainError) {
        if revoked != nil { throw DomainError(.notFound, "the invitation was revoked") }
        if invitation.expires <= now { throw DomainError(.expired, "the invitation expired") }
    }
}
