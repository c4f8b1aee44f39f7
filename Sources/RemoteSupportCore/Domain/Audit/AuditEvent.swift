import Foundation

/// One line of the audit log: who did what, to what, when, from where. Written for every security and
/// session event; never holds a password, token or link secret.
public struct AuditEvent: Hashable, Sendable {
    /// Assigned by the store, increasing; nil before it is stored.
    public let sequence: Int64?
    public let time: Date
    public let action: AuditAction
    public let actor: AuditActor
    /// What it was done to: an agent id, a session id, an invitation id, a connection ID...
    public let subject: String
    /// The source address (or empty).
    public let address: String
    /// A short free-text detail ("wrong password", "reason: agent-ended").
    public let detail: String

    public init(sequence: Int64? = nil, time: Date, action: AuditAction, actor: AuditActor, subject: String = "",
                address: String = "", detail: String = "") {
        self.sequence = sequence
        self.time = time.wholeMilliseconds
        self.action = action
        self.actor = actor
        self.subject = TextRules.oneLine(subject, max: 200)
        self.address = String(address.prefix(64))
        self.detail = TextRules.oneLine(detail, max: 500)
    }
}

/// Who acted: an agent (by id, with the e-mail at the time for readability), an end user, or the system.
public struct AuditActor: Hashable, Sendable, CustomStringConvertible {
    public let kind: Kind
    public let agentID: AgentID?
    public let label: String

    public enum Kind: String, Hashable, Sendable { case agent, endUser = "end-user", system, anonymous }

    public static func agent(_ agent: Agent) -> AuditActor { AuditActor(kind: .agent, agentID: agent.id, label: agent.email.value) }
    public static func endUser(_ label: String) -> AuditActor { AuditActor(kind: .endUser, agentID: nil, label: label) }
    public static let system = AuditActor(kind: .system, agentID: nil, label: "system")
    /// Someone not (yet) identified, e.g. a failed login names the e-mail tried.
    public static func anonymous(_ label: String) -> AuditActor { AuditActor(kind: .anonymous, agentID: nil, label: label) }

    public init(kind: Kind, agentID: AgentID?, label: String) {
        self.kind = kind
        self.agentID = agentID
        self.label = TextRules.oneLine(label, max: 254)
    }

    public var description: String { "\(kind.rawValue):\(label)" }
}

/// What happened. Open: new actions from newer builds survive reading.
public struct AuditAction: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = String(rawValue.prefix(64)) }

    public static let loginSucceeded = AuditAction(rawValue: "login.succeeded")
    public static let loginFailed = AuditAction(rawValue: "login.failed")
    public static let loginThrottled = AuditAction(rawValue: "login.throttled")
    public static let logout = AuditAction(rawValue: "logout")
    public static let passwordChanged = AuditAction(rawValue: "password.changed")
    public static let profileUpdated = AuditAction(rawValue: "profile.updated")
    public static let agentCreated = AuditAction(rawValue: "agent.created")
    public static let agentDisabled = AuditAction(rawValue: "agent.disabled")
    public static let agentEnabled = AuditAction(rawValue: "agent.enabled")
    public static let passwordReset = AuditAction(rawValue: "agent.password-reset")
    public static let invitationCreated = AuditAction(rawValue: "invitation.created")
    public static let invitationRevoked = AuditAction(rawValue: "invitation.revoked")
    public static let invitationEmailed = AuditAction(rawValue: "invitation.emailed")
    public static let shortLinkCreated = AuditAction(rawValue: "short-link.created")
    public static let connectionIDIssued = AuditAction(rawValue: "connection-id.issued")
    public static let connectionIDFailed = AuditAction(rawValue: "connection-id.failed")
    public static let rateLimited = AuditAction(rawValue: "rate-limited")
    public static let sessionJoined = AuditAction(rawValue: "session.joined")
    public static let sessionConnected = AuditAction(rawValue: "session.connected")
    public static let sessionEnded = AuditAction(rawValue: "session.ended")
    public static let sessionCancelled = AuditAction(rawValue: "session.cancelled")
    public static let sessionExpired = AuditAction(rawValue: "session.expired")
    public static let bootstrap = AuditAction(rawValue: "system.bootstrap")

    public var description: String { rawValue }
}

/// A filtered page of the audit log, newest first; `before` is the sequence the previous page ended at.
public struct AuditQuery: Hashable, Sendable {
    public var action: AuditAction?
    public var agentID: AgentID?
    public var since: Date?
    public var until: Date?
    public var before: Int64?
    public var limit: Int

    public init(action: AuditAction? = nil, agentID: AgentID? = nil, since: Date? = nil, until: Date? = nil,
                before: Int64? = nil, limit: Int = 100) {
        self.action = action
        self.agentID = agentID
        self.since = since
        self.until = until
        self.before = before
        self.limit = min(max(1, limit), 500)
    }
}
