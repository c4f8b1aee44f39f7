import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RemoteSupportCore
import RemoteSupportStore

/// The HTTP JSON API under `/api/v1`: everything the console does, each call authenticated (a bearer
/// token, or the login cookie plus the `X-Requested-By` header on changes, against CSRF) and authorised
/// by the desk's rules. Described by Resources/openapi.yaml.
struct APIRoutes: Sendable {
    let desk: SupportDesk
    let hub: SessionHub
    let webhooks: WebhookDispatcher
    /// Whether the login cookie is marked Secure (HTTPS).
    let secureCookies: Bool

    static let cookieName = "rs_login"
    static let csrfHeader = HTTPField.Name("X-Requested-By")!

    func register(on router: Router<BrokerRequestContext>) {
        let api = router.group("api/v1")
        api.post("login", use: login)
        api.post("logout", use: logout)
        api.get("me", use: me)
        api.patch("me", use: updateProfile)
        api.post("me/password", use: changePassword)
        api.get("me/link", use: personalLink)
        api.get("agents", use: listAgents)
        api.post("agents", use: createAgent)
        api.post("agents/:id/enable") { try await setEnabled($0, $1, true) }
        api.post("agents/:id/disable") { try await setEnabled($0, $1, false) }
        api.post("agents/:id/reset-password", use: resetPassword)
        api.post("invitations", use: createInvitation)
        api.delete("invitations/:id", use: revokeInvitation)
        api.post("short-links", use: shorten)
        api.post("emails", use: email)
        api.get("connection-ids", use: connectionIDs)
        api.post("connection-ids", use: issueConnectionID)
        api.get("lobby", use: lobby)
        api.get("lobby/events", use: lobbyEvents)
        api.get("sessions", use: sessions)
        api.post("sessions/:id/connect", use: connect)
        api.get("audit", use: audit)
        api.get("webhooks", use: listWebhooks)
        api.post("webhooks", use: addWebhook)
        api.delete("webhooks/:id", use: removeWebhook)
    }

    // MARK: Credentials

    /// The caller's login token: `Authorization: Bearer`, or the cookie (changes then need the CSRF header,
    /// which a cross-site form cannot send and a cross-site script cannot add without our CORS consent).
    func token(_ request: Request) throws -> String {
        if let header = request.headers[.authorization] {
            guard header.lowercased().hasPrefix("bearer ") else { throw unauthenticated("use Authorization: Bearer <token>") }
            return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        if let cookie = request.cookies[Self.cookieName] {
            if request.method != .get && request.method != .head && request.headers[Self.csrfHeader] == nil {
                throw HTTPError(.forbidden, message: "changes made with the login cookie need the X-Requested-By header")
            }
            return cookie.value
        }
        throw unauthenticated("log in first")
    }

    private func unauthenticated(_ message: String) -> HTTPError {
        HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: message)
    }

    private func loginCookie(_ token: String, expires: Date?) -> Cookie {
        Cookie(name: Self.cookieName, value: token, expires: expires, maxAge: expires == nil ? 0 : nil, path: "/",
               secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    // MARK: Login

    @Sendable func login(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let body = try await request.decode(as: LoginRequest.self, context: context)
        let grant = try await desk.login(email: body.email, password: body.password, address: context.address)
        var response = try LoginBody(token: grant.token.text, expires: rfc3339(grant.expires), mustChangePassword: grant.mustChangePassword,
                                     agent: AgentBody(grant.agent)).response(from: request, context: context)
        response.setCookie(loginCookie(grant.token.text, expires: grant.expires))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func logout(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        try await desk.logout(try token(request), address: context.address)
        var response = Response(status: .noContent)
        response.setCookie(loginCookie("", expires: nil))
        return response
    }

    @Sendable func me(_ request: Request, context: BrokerRequestContext) async throws -> MeBody {
        let caller = try await desk.authenticate(try token(request), allowingPasswordChange: true)
        return MeBody(agent: AgentBody(caller.agent), mustChangePassword: caller.mustChangePassword,
                      organisation: desk.configuration.organisation)
    }

    @Sendable func updateProfile(_ request: Request, context: BrokerRequestContext) async throws -> AgentBody {
        let token = try token(request)
        let body = try await request.decode(as: ProfileRequest.self, context: context)
        let agent = try await desk.updateProfile(token, ProfileEdit(name: body.name, email: body.email, jobTitle: body.jobTitle),
                                                 address: context.address)
        return AgentBody(agent)
    }

    @Sendable func changePassword(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let token = try token(request)
        let body = try await request.decode(as: PasswordRequest.self, context: context)
        let grant = try await desk.changePassword(token, current: body.current, new: body.new, address: context.address)
        var response = try LoginBody(token: grant.token.text, expires: rfc3339(grant.expires), mustChangePassword: false,
                                     agent: AgentBody(grant.agent)).response(from: request, context: context)
        response.setCookie(loginCookie(grant.token.text, expires: grant.expires))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func personalLink(_ request: Request, context: BrokerRequestContext) async throws -> LinkBody {
        LinkBody(link: try await desk.personalLink(try token(request)))
    }

    // MARK: Agents (admin)

    @Sendable func listAgents(_ request: Request, context: BrokerRequestContext) async throws -> AgentListBody {
        AgentListBody(agents: try await desk.listAgents(try token(request)).map(AgentBody.init))
    }

    @Sendable func createAgent(_ request: Request, context: BrokerRequestContext) async throws -> EditedResponse<CreatedAgentBody> {
        let token = try token(request)
        let body = try await request.decode(as: CreateAgentRequest.self, context: context)
        let role = AgentRole(rawValue: body.role ?? "agent")
        guard role == .agent || role == .admin else { throw DomainError(.invalidField, "role must be \"agent\" or \"admin\"") }
        let (agent, password) = try await desk.createAgent(token, email: body.email, name: body.name, jobTitle: body.jobTitle ?? "",
                                                           role: role, address: context.address)
        return EditedResponse(status: .created, headers: [.cacheControl: "no-store"],
                              response: CreatedAgentBody(agent: AgentBody(agent), password: password))
    }

    private func agentID(_ context: BrokerRequestContext) throws -> AgentID {
        guard let id = AgentID(try context.parameters.require("id")) else { throw DomainError(.notFound, "no such agent") }
        return id
    }

    @Sendable func setEnabled(_ request: Request, _ context: BrokerRequestContext, _ enabled: Bool) async throws -> AgentBody {
        AgentBody(try await desk.setAgentEnabled(try token(request), agentID: try agentID(context), enabled: enabled, address: context.address))
    }

    @Sendable func resetPassword(_ request: Request, context: BrokerRequestContext) async throws -> EditedResponse<PasswordResetBody> {
        let password = try await desk.resetPassword(try token(request), agentID: try agentID(context), address: context.address)
        return EditedResponse(headers: [.cacheControl: "no-store"], response: PasswordResetBody(password: password))
    }

    // MARK: Links and codes

    @Sendable func createInvitation(_ request: Request, context: BrokerRequestContext) async throws -> EditedResponse<InvitationBody> {
        let token = try token(request)
        let body = try await request.decode(as: InvitationRequest.self, context: context)
        let (link, record) = try await desk.createInvitation(token, ticket: body.ticket, endUserName: body.endUserName,
                                                             lifetime: body.lifetimeSeconds.map { TimeInterval(max(0, $0)) },
                                                             address: context.address)
        let i = record.invitation
        return EditedResponse(status: .created, response: InvitationBody(id: i.id.text, link: link, expires: rfc3339(i.expires),
                                                                          ticket: i.ticket, endUserName: i.endUserName))
    }

    @Sendable func revokeInvitation(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let token = try token(request)
        guard let id = try? InvitationID(try context.parameters.require("id")) else { throw DomainError(.notFound, "no such invitation") }
        try await desk.revokeInvitation(token, id: id, address: context.address)
        return Response(status: .noContent)
    }

    @Sendable func shorten(_ request: Request, context: BrokerRequestContext) async throws -> EditedResponse<ShortLinkBody> {
        let token = try token(request)
        let body = try await request.decode(as: ShortenRequest.self, context: context)
        let short = try await desk.shorten(token, link: body.link, address: context.address)
        return EditedResponse(status: .created, response: ShortLinkBody(code: short.code.value, url: short.url(publicURL: desk.configuration.publicURL),
                                                                         target: short.target, expires: rfc3339(short.expires)))
    }

    @Sendable func email(_ request: Request, context: BrokerRequestContext) async throws -> EmailBody {
        let token = try token(request)
        let body = try await request.decode(as: EmailRequest.self, context: context)
        var grant: ConnectionCodeGrant?
        if let text = body.connectionID {
            let code = try ConnectionID(parsing: text)
            grant = try await desk.liveConnectionIDs(token).first { $0.code == code }
            guard grant != nil else { throw DomainError(.notFound, "no such live connection ID of yours") }
        }
        let sent = try await desk.emailInvitation(token, to: body.to, link: body.link, connectionID: grant, address: context.address)
        return EmailBody(subject: sent.subject)
    }

    @Sendable func connectionIDs(_ request: Request, context: BrokerRequestContext) async throws -> ConnectionIDListBody {
        ConnectionIDListBody(connectionIDs: try await desk.liveConnectionIDs(try token(request)).map(ConnectionIDBody.init))
    }

    @Sendable func issueConnectionID(_ request: Request, context: BrokerRequestContext) async throws -> EditedResponse<ConnectionIDBody> {
        let token = try token(request)
        let body = try await request.decode(as: ConnectionIDRequest.self, context: context)
        let grant = try await desk.issueConnectionID(token, ticket: body.ticket, endUserName: body.endUserName, address: context.address)
        return EditedResponse(status: .created, response: ConnectionIDBody(grant))
    }

    // MARK: Sessions

    @Sendable func lobby(_ request: Request, context: BrokerRequestContext) async throws -> SessionListBody {
        let sessions = try await desk.lobby(try token(request))
        return SessionListBody(sessions: sessions.map(SessionBody.init), total: sessions.count, next: nil)
    }

    /// The live lobby as server-sent events: `session.waiting` with the session, `session.gone` with its id,
    /// starting with the sessions waiting now; a comment every 15 s keeps proxies from closing it.
    @Sendable func lobbyEvents(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let caller = try await desk.authenticate(try token(request))
        let hub = self.hub
        let body = ResponseBody { writer in
            let (stream, continuation) = AsyncStream.makeStream(of: LobbyStreamItem.self, bufferingPolicy: .bufferingNewest(4096))
            let subscription = hub.subscribeLobby(agent: caller.agent, deliver: { continuation.yield(.change($0)) },
                                                  finish: { continuation.finish() })
            defer { hub.unsubscribeLobby(subscription) }
            let keepalive = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(15))
                    continuation.yield(.keepalive)
                }
            }
            defer { keepalive.cancel() }
            let encoder = JSONEncoder()
            for await item in stream {
                try await writer.write(ByteBuffer(string: try item.eventText(encoder)))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
    }

    @Sendable func sessions(_ request: Request, context: BrokerRequestContext) async throws -> SessionListBody {
        let token = try token(request)
        let query = try QueryFilters.sessions(QueryFilters.parameters(request.uri.queryParameters.map { (String($0.key), String($0.value)) }))
        let (page, total) = try await desk.allSessions(token, query)
        return SessionListBody(sessions: page.items.map(SessionBody.init), total: total, next: page.next?.description)
    }

    /// Checks the caller may connect to a waiting session and says where to do it: the connection itself
    /// is the protocol's `connect` (the screen is end-to-end encrypted between the viewer and the end user).
    @Sendable func connect(_ request: Request, context: BrokerRequestContext) async throws -> ConnectBody {
        let caller = try await desk.authenticate(try token(request))
        guard let id = SessionID(try context.parameters.require("id")) else { throw DomainError(.notFound, "no such session") }
        let waiting = try await desk.lobby(try token(request))
        guard let session = waiting.first(where: { $0.id == id }), session.isVisible(to: caller.agent) else {
            throw DomainError(.notFound, "this session is not waiting for you")
        }
        let base = desk.configuration.publicURL.value
        let ws = base.hasPrefix("https://") ? "wss://" + base.dropFirst(8) : "ws://" + base.dropFirst(7)
        return ConnectBody(session: SessionBody(session), webSocketURL: "\(ws)/ws")
    }

    @Sendable func audit(_ request: Request, context: BrokerRequestContext) async throws -> AuditListBody {
        let token = try token(request)
        let query = try QueryFilters.audit(QueryFilters.parameters(request.uri.queryParameters.map { (String($0.key), String($0.value)) }))
        return AuditListBody(events: try await desk.auditLog(token, query).map(AuditEventBody.init))
    }

    // MARK: Webhooks (admin)

    @Sendable func listWebhooks(_ request: Request, context: BrokerRequestContext) async throws -> WebhookListBody {
        _ = try await desk.requireAdmin(try token(request))
        return WebhookListBody(webhooks: try await webhooks.list().map(WebhookBody.init))
    }

    @Sendable func addWebhook(_ request: Request, context: BrokerRequestContext) async throws -> EditedResponse<CreatedWebhookBody> {
        let admin = try await desk.requireAdmin(try token(request))
        let body = try await request.decode(as: WebhookRequest.self, context: context)
        let (hook, secret) = try await webhooks.add(url: body.url, events: body.events, by: admin, address: context.address)
        return EditedResponse(status: .created, headers: [.cacheControl: "no-store"],
                              response: CreatedWebhookBody(webhook: WebhookBody(hook), secret: secret))
    }

    @Sendable func removeWebhook(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let admin = try await desk.requireAdmin(try token(request))
        try await webhooks.remove(id: try context.parameters.require("id"), by: admin, address: context.address)
        return Response(status: .noContent)
    }
}

/// One item of the lobby's event stream.
private enum LobbyStreamItem: Sendable {
    case change(LobbyDelivery)
    case keepalive

    func eventText(_ encoder: JSONEncoder) throws -> String {
        switch self {
        case .change(.added(let session)):
            return "event: session.waiting\ndata: \(String(decoding: try encoder.encode(SessionBody(session)), as: UTF8.self))\n\n"
        case .change(.removed(let id, let reason)):
            return "event: session.gone\ndata: {\"id\":\"\(id)\",\"reason\":\"\(reason)\"}\n\n"
        case .keepalive:
            return ": keepalive\n\n"
        }
    }
}
