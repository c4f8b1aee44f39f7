import Foundation
import RemoteSupportCore
import Synchronization

/// The product's rules carried out against a store: logins, passwords, agents, links, connection IDs,
/// sessions and the audit trail. What the broker's HTTP API and protocol endpoints call; it holds no
/// connections and does no HTTP.
///
/// Time comes from `clock` (tests pass a fake one) and is kept to whole milliseconds. Rate limiters
/// (per address, network and globally) are in memory, per broker node; per-account login slowdown is in
/// the store. Password hashes go through a `HashGate`. Thread-safe: call from any task.
public final class SupportDesk: Sendable {
    public struct Configuration: Sendable {
        public var publicURL: PublicURL
        public var organisation: String
        public var passwordHashing: PasswordHashParameters
        public var passwordPolicy: PasswordPolicy
        public var loginThrottle: LoginThrottle.Policy
        public var loginSessions: LoginSessionPolicy
        public var connectionIDs: ConnectionIDPolicy
        /// How long an invitation link is valid by default (24 hours).
        public var invitationLifetime: TimeInterval
        /// The longest an agent may ask for (30 days).
        public var maximumInvitationLifetime: TimeInterval
        /// How long a short link to a personal link lives (30 days).
        public var personalShortLinkLifetime: TimeInterval
        /// How long a session may wait before it expires (1 hour).
        public var waitingTimeout: TimeInterval
        public var loginLimits: GuessLimiter.Policy
        public var connectionIDLimits: GuessLimiter.Policy
        public var shortLinkLimits: GuessLimiter.Policy
        public var hashSlots: Int
        public var hashQueue: Int

        public init(publicURL: PublicURL, organisation: String = "", passwordHashing: PasswordHashParameters = .default,
                    passwordPolicy: PasswordPolicy = PasswordPolicy(), loginThrottle: LoginThrottle.Policy = .init(),
                    loginSessions: LoginSessionPolicy = LoginSessionPolicy(), connectionIDs: ConnectionIDPolicy = ConnectionIDPolicy(),
                    invitationLifetime: TimeInterval = 24 * 3600, maximumInvitationLifetime: TimeInterval = 30 * 86400,
                    personalShortLinkLifetime: TimeInterval = 30 * 86400, waitingTimeout: TimeInterval = 3600,
                    loginLimits: GuessLimiter.Policy = .logins, connectionIDLimits: GuessLimiter.Policy = .connectionIDs,
                    shortLinkLimits: GuessLimiter.Policy = .shortLinks, hashSlots: Int = 2, hashQueue: Int = 32) {
            self.publicURL = publicURL
            self.organisation = organisation
            self.passwordHashing = passwordHashing
            self.passwordPolicy = passwordPolicy
            self.loginThrottle = loginThrottle
            self.loginSessions = loginSessions
            self.connectionIDs = connectionIDs
            self.invitationLifetime = invitationLifetime
            self.maximumInvitationLifetime = maximumInvitationLifetime
            self.personalShortLinkLifetime = personalShortLinkLifetime
            self.waitingTimeout = waitingTimeout
            self.loginLimits = loginLimits
            self.connectionIDLimits = connectionIDLimits
            self.shortLinkLimits = shortLinkLimits
            self.hashSlots = hashSlots
            self.hashQueue = hashQueue
        }
    }

    public let store: any SupportStore
    public let configuration: Configuration
    public let mailer: (any Mailer)?
    let clock: @Sendable () -> Date
    let hashGate: HashGate
    let limiters: Mutex<Limiters>
    let signer: Mutex<LinkSigner?>
    /// Verified against when an e-mail is unknown, so a failed login takes as long either way.
    let decoyHash: PasswordHash

    struct Limiters {
        var logins: GuessLimiter
        var connectionIDs: GuessLimiter
        var shortLinks: GuessLimiter
    }

    public init(store: any SupportStore, configuration: Configuration, mailer: (any Mailer)? = nil,
                clock: @escaping @Sendable () -> Date = { Date() }) throws {
        self.store = store
        self.configuration = configuration
        self.mailer = mailer
        self.clock = clock
        hashGate = HashGate(slots: configuration.hashSlots, maximumWaiting: configuration.hashQueue)
        limiters = Mutex(Limiters(logins: GuessLimiter(policy: configuration.loginLimits),
                                  connectionIDs: GuessLimiter(policy: configuration.connectionIDLimits),
                                  shortLinks: GuessLimiter(policy: configuration.shortLinkLimits)))
        signer = Mutex(nil)
        var random = SystemRandomNumberGenerator()
        decoyHash = try PasswordHash(hashing: DefaultPassword.generate(using: &random),
                                     parameters: configuration.passwordHashing, using: &random)
    }

    var now: Date { clock().wholeMilliseconds }

    /// The hash gate's load (running, waiting), for metrics.
    public var hashLoad: (running: Int, waiting: Int) { hashGate.load }

    // MARK: First start

    /// On an empty store: creates the first admin with a one-time password and returns it (to be shown to
    /// the operator once; only its hash is kept). nil when agents exist already. Also makes sure the link
    /// signing key exists. Safe when two nodes start at once (one creates, the other gets nil).
    public func bootstrap(adminEmail: String = "admin@localhost", adminName: String = "Administrator") async throws
        -> (agent: Agent, password: String)? {
        _ = try await linkSigner()
        guard try await store.agents().isEmpty else { return nil }
        do {
            let (agent, password) = try await addAgent(email: adminEmail, name: adminName, jobTitle: "", role: .admin)
            try await audit(.bootstrap, actor: .system, subject: agent.id.description, detail: "first admin \(agent.email)")
            return (agent, password)
        } catch let error as DomainError where error.code == .conflict {
            return nil
        }
    }

    /// The signer for this store's key (made and stored on first use, then cached).
    public func linkSigner() async throws -> LinkSigner {
        if let signer = signer.withLock({ $0 }) { return signer }
        var random = SystemRandomNumberGenerator()
        let key = try await store.settingInsertingIfAbsent("link-signing-key", value: LinkSigner.generateKey(using: &random))
        let made = try LinkSigner(publicURL: configuration.publicURL, key: key)
        signer.withLock { $0 = made }
        return made
    }

    // MARK: Shared helpers

    func hash(_ password: String) async throws -> PasswordHash {
        let parameters = configuration.passwordHashing
        return try await hashGate.run {
            var random = SystemRandomNumberGenerator()
            return try PasswordHash(hashing: password, parameters: parameters, using: &random)
        }
    }

    func verify(_ password: String, against hash: PasswordHash) async throws -> Bool {
        try await hashGate.run { hash.verify(password) }
    }

    /// Adds an agent with a fresh default password (a unique slug derived from the name).
    func addAgent(email: String, name: String, jobTitle: String, role: AgentRole) async throws -> (Agent, String) {
        let address = try EmailAddress(email)
        var random = SystemRandomNumberGenerator()
        let password = DefaultPassword.generate(using: &random)
        let credential = AgentCredential(passwordHash: try await hash(password), mustChangePassword: true)
        let created = now
        for attempt in 1...50 {
            let slug = AgentSlug(derivedFrom: name, suffix: attempt == 1 ? nil : attempt)
            if try await store.agent(slug: slug) != nil { continue }
            let agent = try Agent(email: address, name: name, jobTitle: jobTitle, role: role, slug: slug, created: created)
            do {
                try await store.createAgent(agent, credential: credential)
                return (agent, password)
            } catch let error as DomainError where error.code == .conflict && error.reason.contains("link name") {
                continue  // another node took this slug a moment ago
            }
        }
        throw DomainError(.conflict, "cannot find a free link name for \(name)")
    }

    /// Appends to the audit trail (also for the broker's own actions: webhooks, shutdowns).
    public func audit(_ action: AuditAction, actor: AuditActor, subject: String = "", address: String = "", detail: String = "") async throws {
        try await store.appendAudit(AuditEvent(time: now, action: action, actor: actor, subject: subject, address: address, detail: detail))
    }
}
