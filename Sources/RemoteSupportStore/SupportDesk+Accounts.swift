import Foundation
import RemoteSupportCore

/// A logged-in agent, as `authenticate` finds them.
public struct AuthenticatedAgent: Sendable {
    public let agent: Agent
    public let login: LoginSession
    /// True until the default password is changed: every call but `changePassword`, `logout` and
    /// reading one's own profile answers `.passwordChangeRequired`.
    public let mustChangePassword: Bool
}

/// What a good login returns: the bearer token (shown to the client once; only its digest is stored).
public struct LoginGrant: Sendable {
    public let token: LoginToken
    public let agent: Agent
    public let mustChangePassword: Bool
    public let expires: Date
}

extension SupportDesk {
    // MARK: Login and logout

    /// Checks e-mail and password. Refuses with `.rateLimited` while the source address or the account is
    /// slowed down, `.invalidCredentials` for an unknown e-mail or a wrong password alike (taking as long
    /// either way), `.forbidden` for a disabled account with the right password.
    public func login(email: String, password: String, address: String) async throws -> LoginGrant {
        let time = now
        do {
            try limiters.withLock { limiters throws(DomainError) in try limiters.logins.check(address: address, at: time) }
        } catch {
            try await audit(.rateLimited, actor: .anonymous(String(email.prefix(254))), address: address, detail: "login")
            throw error
        }
        guard let emailAddress = try? EmailAddress(email), password.utf8.count <= configuration.passwordPolicy.maximumBytes,
              let agent = try await store.agent(email: emailAddress), let credential = try await store.credential(of: agent.id) else {
            _ = try await verify(password.utf8.count <= 1024 ? password : "", against: decoyHash)
            try await failLogin(address: address, label: String(email.prefix(254)), time: time)
        }
        do {
            try credential.throttle.check(at: time)
        } catch {
            try await audit(.loginThrottled, actor: .agent(agent), address: address)
            throw error
        }
        guard try await verify(password, against: credential.passwordHash) else {
            let policy = configuration.loginThrottle
            try await store.updateCredential(of: agent.id) { $0.throttle.recordFailure(at: time, policy: policy) }
            try await failLogin(address: address, label: agent.email.value, time: time, agent: agent)
        }
        guard agent.enabled else {
            try await audit(.loginFailed, actor: .agent(agent), address: address, detail: "account disabled")
            throw DomainError(.forbidden, "this account is disabled")
        }
        // A hash made with weaker parameters than today's is replaced while we know the password.
        let rehashed = credential.passwordHash.needsRehash(for: configuration.passwordHashing) ? try await hash(password) : nil
        try await store.updateCredential(of: agent.id) { credential in
            credential.throttle.recordSuccess()
            if let rehashed { credential.passwordHash = rehashed }
        }
        let updated = try await store.updateAgent(agent.id) { $0.lastLogin = time }
        var random = SystemRandomNumberGenerator()
        let token = LoginToken(using: &random)
        let login = LoginSession(digest: token.digest, agentID: agent.id, created: time, policy: configuration.loginSessions,
                                 address: address)
        try await store.createLoginSession(login)
        try await audit(.loginSucceeded, actor: .agent(agent), address: address)
        return LoginGrant(token: token, agent: updated, mustChangePassword: credential.mustChangePassword, expires: login.expires)
    }

    func failLogin(address: String, label: String, time: Date, agent: Agent? = nil) async throws -> Never {
        limiters.withLock { $0.logins.recordFailure(address: address, at: time) }
        try await audit(.loginFailed, actor: agent.map(AuditActor.agent) ?? .anonymous(label), address: address,
                        detail: "wrong e-mail or password")
        throw DomainError(.invalidCredentials, "wrong e-mail or password")
    }

    /// The agent behind a bearer token: `.sessionExpired` for unknown, expired (idle or absolute) or revoked
    /// tokens and disabled accounts; `.passwordChangeRequired` while on a default password unless
    /// `allowingPasswordChange`.
    public func authenticate(_ presented: String, allowingPasswordChange: Bool = false) async throws -> AuthenticatedAgent {
        guard let token = LoginToken(presented: presented), let login = try await store.loginSession(token.digest) else {
            throw DomainError(.sessionExpired, "please log in")
        }
        let time = now
        guard login.isValid(at: time, policy: configuration.loginSessions) else {
            try await store.deleteLoginSession(login.digest)
            throw DomainError(.sessionExpired, "the login expired; please log in again")
        }
        guard let agent = try await store.agent(id: login.agentID), agent.enabled,
              let credential = try await store.credential(of: agent.id) else {
            try await store.deleteLoginSession(login.digest)
            throw DomainError(.sessionExpired, "please log in")
        }
        if credential.mustChangePassword && !allowingPasswordChange {
            throw DomainError(.passwordChangeRequired, "change the default password first")
        }
        if login.needsTouch(at: time) { try await store.touchLoginSession(login.digest, at: time) }
        return AuthenticatedAgent(agent: agent, login: login, mustChangePassword: credential.mustChangePassword)
    }

    public func logout(_ presented: String, address: String = "") async throws {
        guard let token = LoginToken(presented: presented), let login = try await store.loginSession(token.digest) else { return }
        try await store.deleteLoginSession(login.digest)
        if let agent = try await store.agent(id: login.agentID) {
            try await audit(.logout, actor: .agent(agent), address: address)
        }
    }

    // MARK: Own account

    /// Changes the caller's password: needs the current one, obeys the policy (length, not the current or
    /// default one again), clears the must-change flag, revokes every login of the agent (this one too) and
    /// returns a fresh login.
    public func changePassword(_ presented: String, current: String, new: String, address: String) async throws -> LoginGrant {
        let caller = try await authenticate(presented, allowingPasswordChange: true)
        let agent = caller.agent
        guard let credential = try await store.credential(of: agent.id) else { throw DomainError(.sessionExpired, "please log in") }
        let time = now
        try credential.throttle.check(at: time)
        guard current.utf8.count <= configuration.passwordPolicy.maximumBytes,
              try await verify(current, against: credential.passwordHash) else {
            let policy = configuration.loginThrottle
            try await store.updateCredential(of: agent.id) { $0.throttle.recordFailure(at: time, policy: policy) }
            try await audit(.loginFailed, actor: .agent(agent), address: address, detail: "wrong current password")
            throw DomainError(.invalidCredentials, "the current password is wrong")
        }
        let policy = configuration.passwordPolicy
        let passwordHash = credential.passwordHash
        try await hashGate.run { try policy.check(newPassword: new, current: passwordHash) }
        let newHash = try await hash(new)
        try await store.updateCredential(of: agent.id) { credential in
            credential.passwordHash = newHash
            credential.mustChangePassword = false
            credential.throttle.recordSuccess()
        }
        let revoked = try await store.deleteLoginSessions(of: agent.id, except: nil)
        try await audit(.passwordChanged, actor: .agent(agent), subject: agent.id.description, address: address,
                        detail: "\(revoked) login(s) revoked")
        var random = SystemRandomNumberGenerator()
        let token = LoginToken(using: &random)
        let login = LoginSession(digest: token.digest, agentID: agent.id, created: time, policy: configuration.loginSessions,
                                 address: address)
        try await store.createLoginSession(login)
        return LoginGrant(token: token, agent: agent, mustChangePassword: false, expires: login.expires)
    }

    public func updateProfile(_ presented: String, _ edit: ProfileEdit, address: String) async throws -> Agent {
        let caller = try await authenticate(presented)
        let updated = try await store.updateAgent(caller.agent.id) { agent in try agent.updateProfile(edit) }
        let changed = [edit.name.map { _ in "name" }, edit.email.map { _ in "e-mail" }, edit.jobTitle.map { _ in "job title" }]
            .compactMap { $0 }.joined(separator: ", ")
        try await audit(.profileUpdated, actor: .agent(caller.agent), subject: caller.agent.id.description, address: address,
                        detail: changed)
        return updated
    }

    // MARK: Administration

    /// The caller, if an enabled administrator (else `.forbidden`).
    public func requireAdmin(_ presented: String) async throws -> Agent {
        let caller = try await authenticate(presented)
        guard caller.agent.role.isAdmin else { throw DomainError(.forbidden, "only an administrator may do this") }
        return caller.agent
    }

    /// Adds an agent with a default password, returned once for the admin to pass on.
    public func createAgent(_ presented: String, email: String, name: String, jobTitle: String = "", role: AgentRole = .agent,
                            address: String) async throws -> (agent: Agent, defaultPassword: String) {
        let admin = try await requireAdmin(presented)
        guard role == .agent || role == .admin else { throw DomainError(.invalidField, "role is admin or agent") }
        let (agent, password) = try await addAgent(email: email, name: name, jobTitle: jobTitle, role: role)
        try await audit(.agentCreated, actor: .agent(admin), subject: agent.id.description, address: address,
                        detail: "\(agent.email) as \(role)")
        return (agent, password)
    }

    /// Disables (revoking every login) or re-enables an agent. An admin cannot disable themselves, so the
    /// organisation always keeps one.
    public func setAgentEnabled(_ presented: String, agentID: AgentID, enabled: Bool, address: String) async throws -> Agent {
        let admin = try await requireAdmin(presented)
        guard agentID != admin.id || enabled else { throw DomainError(.forbidden, "you cannot disable your own account") }
        let updated = try await store.updateAgent(agentID) { $0.enabled = enabled }
        if !enabled { try await store.deleteLoginSessions(of: agentID, except: nil) }
        try await audit(enabled ? .agentEnabled : .agentDisabled, actor: .agent(admin), subject: agentID.description,
                        address: address, detail: updated.email.value)
        return updated
    }

    /// Gives an agent a new default password (they must change it at next login); revokes their logins.
    public func resetPassword(_ presented: String, agentID: AgentID, address: String) async throws -> String {
        let admin = try await requireAdmin(presented)
        // Checked before the (deliberately slow) hash, so unknown ids cost nothing.
        guard try await store.agent(id: agentID) != nil else { throw DomainError(.notFound, "no such agent") }
        var random = SystemRandomNumberGenerator()
        let password = DefaultPassword.generate(using: &random)
        let newHash = try await hash(password)
        try await store.updateCredential(of: agentID) { credential in
            credential.passwordHash = newHash
            credential.mustChangePassword = true
            credential.throttle.recordSuccess()
        }
        try await store.deleteLoginSessions(of: agentID, except: nil)
        try await audit(.passwordReset, actor: .agent(admin), subject: agentID.description, address: address)
        return password
    }

    public func listAgents(_ presented: String) async throws -> [Agent] {
        _ = try await requireAdmin(presented)
        return try await store.agents()
    }

    public func auditLog(_ presented: String, _ query: AuditQuery) async throws -> [AuditEvent] {
        _ = try await requireAdmin(presented)
        return try await store.auditEvents(query)
    }
}
