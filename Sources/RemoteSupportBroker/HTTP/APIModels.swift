import Foundation
import Hummingbird
import RemoteSupportCore

// The JSON bodies of the HTTP API, as described in Resources/openapi.yaml. Times are RFC 3339 strings
// in UTC with milliseconds; ids are lowercase UUIDs.

struct ErrorBody: ResponseEncodable {
    /// A stable name: "invalid-field", "invalid-credentials", "password-change-required", ...
    let error: String
    let message: String
    let retryAfter: Int?
}

struct AgentBody: ResponseEncodable {
    let id: String
    let email: String
    let name: String
    let jobTitle: String
    let role: String
    let enabled: Bool
    let slug: String
    let created: String
    let lastLogin: String?

    init(_ a: Agent) {
        id = a.id.description
        email = a.email.value
        name = a.name
        jobTitle = a.jobTitle
        role = a.role.rawValue
        enabled = a.enabled
        slug = a.slug.value
        created = rfc3339(a.created)
        lastLogin = a.lastLogin.map(rfc3339)
    }
}

struct LoginBody: ResponseEncodable {
    let token: String
    let expires: String
    let mustChangePassword: Bool
    let agent: AgentBody
}

struct MeBody: ResponseEncodable {
    let agent: AgentBody
    let mustChangePassword: Bool
    let organisation: String
}

struct CreatedAgentBody: ResponseEncodable {
    let agent: AgentBody
    /// The one-time default password: shown once, to be handed to the new agent.
    let password: String
}

struct PasswordResetBody: ResponseEncodable {
    let password: String
}

struct AgentListBody: ResponseEncodable {
    let agents: [AgentBody]
}

struct LinkBody: ResponseEncodable {
    let link: String
}

struct InvitationBody: ResponseEncodable {
    let id: String
    let link: String
    let expires: String
    let ticket: String?
    let endUserName: String?
}

struct ShortLinkBody: ResponseEncodable {
    let code: String
    let url: String
    let target: String
    let expires: String
}

struct EmailBody: ResponseEncodable {
    let subject: String
}

struct ConnectionIDBody: ResponseEncodable {
    /// The code as the end user types it ("123 456").
    let code: String
    let digits: String
    let created: String
    let expires: String
    let ticket: String?
    let endUserName: String?

    init(_ g: ConnectionCodeGrant) {
        code = g.code.formatted
        digits = g.code.formatted.filter(\.isNumber)
        created = rfc3339(g.created)
        expires = rfc3339(g.expires)
        ticket = g.ticket
        endUserName = g.endUserName
    }
}

struct ConnectionIDListBody: ResponseEncodable {
    let connectionIDs: [ConnectionIDBody]
}

struct EndUserBody: Encodable {
    let name: String
    let machineName: String
    let operatingSystem: String
    let address: String
}

struct SessionBody: ResponseEncodable {
    let id: String
    let agentID: String
    let status: String
    let joinMethod: String
    /// What to show the agent: the invited name, else what the end user typed.
    let displayName: String
    let ticket: String?
    let endUser: EndUserBody
    let created: String
    let connectedAgentID: String?
    let connectedAt: String?
    let finishedAt: String?
    let endReason: String?

    init(_ s: SupportSession) {
        id = s.id.description
        agentID = s.agentID.description
        status = s.state.status.rawValue
        joinMethod = s.joinMethod.rawValue
        displayName = s.displayName
        ticket = s.ticket
        endUser = EndUserBody(name: s.endUser.name, machineName: s.endUser.machineName,
                              operatingSystem: s.endUser.operatingSystem, address: s.endUser.address)
        created = rfc3339(s.created)
        finishedAt = s.state.finished.map(rfc3339)
        switch s.state {
        case .connected(let agent, let since):
            connectedAgentID = agent.description
            connectedAt = rfc3339(since)
            endReason = nil
        case .ended(let agent, let connected, let reason, _):
            connectedAgentID = agent.description
            connectedAt = rfc3339(connected)
            endReason = reason.rawValue
        case .cancelled(let reason, _):
            connectedAgentID = nil
            connectedAt = nil
            endReason = reason.rawValue
        case .expired:
            connectedAgentID = nil
            connectedAt = nil
            endReason = SessionEndReason.waitedTooLong.rawValue
        case .waiting:
            connectedAgentID = nil
            connectedAt = nil
            endReason = nil
        }
    }
}

struct SessionListBody: ResponseEncodable {
    let sessions: [SessionBody]
    /// How many sessions match the filters (all pages).
    let total: Int?
    /// Pass as `after` for the next page; absent on the last page.
    let next: String?
}

struct ConnectBody: ResponseEncodable {
    let session: SessionBody
    /// Where the viewer speaks the protocol (WebSocket), then sends `connect` for this session.
    let webSocketURL: String
}

struct AuditEventBody: Encodable {
    let sequence: Int64?
    let time: String
    let action: String
    let actorKind: String
    let actorAgentID: String?
    let actor: String
    let subject: String
    let address: String
    let detail: String

    init(_ e: AuditEvent) {
        sequence = e.sequence
        time = rfc3339(e.time)
        action = e.action.rawValue
        actorKind = e.actor.kind.rawValue
        actorAgentID = e.actor.agentID?.description
        actor = e.actor.label
        subject = e.subject
        address = e.address
        detail = e.detail
    }
}

struct AuditListBody: ResponseEncodable {
    let events: [AuditEventBody]
}

struct HealthBody: ResponseEncodable {
    let status: String
    let version: String
    let connections: Int
    let sessionsWaiting: Int
    let sessionsConnected: Int
}

/// RFC 3339 with milliseconds, UTC.
func rfc3339(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
}
