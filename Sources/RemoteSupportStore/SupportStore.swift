import Foundation
import RemoteSupportCore

/// The durable state of the product, behind one interface with two implementations: SQLite through GRDB
/// (`RemoteSupportSQLite`, the embedded default) and PostgreSQL through postgres-nio
/// (`RemoteSupportPostgres`, for several broker nodes). Both pass the same contract tests.
///
/// The store keeps records; the rules live in the core (`SupportSession.apply`, `LoginThrottle`...) and
/// in `SupportDesk`. Read-modify-write goes through `update*` closures that the store runs inside one
/// transaction with the row locked, so two nodes changing one session cannot interleave.
///
/// Every method returns only after its write is durable (committed; SQLite in WAL mode with
/// `synchronous=FULL`, PostgreSQL with its default `synchronous_commit=on`).
///
/// Errors: `DomainError(.conflict)` for a unique value taken (an e-mail address, a slug, a short code),
/// `DomainError(.notFound)` from `update*` for a missing row, errors thrown by an `update*` closure as they
/// are (the transaction is rolled back), `StoreError` when the database itself fails.
public protocol SupportStore: Sendable {
    // MARK: Agents

    /// Adds an agent and their credential. `.conflict` if the e-mail (case-insensitively) or slug is taken.
    func createAgent(_ agent: Agent, credential: AgentCredential) async throws
    func agent(id: AgentID) async throws -> Agent?
    /// Case-insensitive.
    func agent(email: EmailAddress) async throws -> Agent?
    func agent(slug: AgentSlug) async throws -> Agent?
    /// Every agent, by name.
    func agents() async throws -> [Agent]
    /// Changes an agent in one transaction; `.conflict` if the new e-mail is taken. The id, slug and
    /// created date cannot change.
    @discardableResult
    func updateAgent(_ id: AgentID, _ change: @escaping @Sendable (inout Agent) throws -> Void) async throws -> Agent
    func credential(of id: AgentID) async throws -> AgentCredential?
    @discardableResult
    func updateCredential(of id: AgentID, _ change: @escaping @Sendable (inout AgentCredential) throws -> Void) async throws -> AgentCredential

    // MARK: Login sessions

    func createLoginSession(_ session: LoginSession) async throws
    func loginSession(_ digest: TokenDigest) async throws -> LoginSession?
    func touchLoginSession(_ digest: TokenDigest, at time: Date) async throws
    func deleteLoginSession(_ digest: TokenDigest) async throws
    /// Revokes every login of an agent (password change, disabling), but `except` (the one changing it).
    /// Returns how many were deleted.
    @discardableResult
    func deleteLoginSessions(of id: AgentID, except: TokenDigest?) async throws -> Int
    /// Housekeeping: drops logins that expired (absolutely) before `time`.
    @discardableResult
    func deleteExpiredLoginSessions(before time: Date) async throws -> Int

    // MARK: Invitations and short links

    func createInvitation(_ record: InvitationRecord) async throws
    func invitation(_ id: InvitationID) async throws -> InvitationRecord?
    /// Marks it revoked (once; later calls keep the first time). false if there is no such invitation.
    @discardableResult
    func revokeInvitation(_ id: InvitationID, at time: Date) async throws -> Bool
    /// `.conflict` if the code exists (the caller draws another).
    func createShortLink(_ link: ShortLink) async throws
    func shortLink(_ code: ShortCode) async throws -> ShortLink?

    // MARK: Connection IDs

    /// The codes that cannot be issued at `time`: live ones, and every code issued within `quarantine`.
    func unavailableConnectionCodes(at time: Date, quarantine: TimeInterval) async throws -> Set<Int>
    /// Stores `grant` if its code is still available (not live, not issued within `quarantine` of
    /// `grant.created`), atomically; false if another issuer took it first (draw again).
    func insertConnectionCode(_ grant: ConnectionCodeGrant, quarantine: TimeInterval) async throws -> Bool
    /// Atomically consumes a live code and creates the session it leads to, in one transaction: of two
    /// concurrent calls with one code exactly one gets a result, the other nil. nil for unknown, expired
    /// or used codes alike.
    func consumeConnectionCode(_ code: ConnectionID, at time: Date,
                               makeSession: @escaping @Sendable (ConnectionCodeGrant) throws -> SupportSession) async throws
        -> (grant: ConnectionCodeGrant, session: SupportSession)?
    /// The agent's codes still live at `time` (their console shows them).
    func liveConnectionCodes(of id: AgentID, at time: Date) async throws -> [ConnectionCodeGrant]

    // MARK: Support sessions

    func createSession(_ session: SupportSession) async throws
    func session(_ id: SessionID) async throws -> SupportSession?
    /// Changes a session in one transaction with its row locked (the closure calls
    /// `SupportSession.apply`, which enforces the state machine).
    @discardableResult
    func updateSession(_ id: SessionID, _ change: @escaping @Sendable (inout SupportSession) throws -> Void) async throws -> SupportSession
    /// Newest first, filtered and paged as `query` says (`SessionQuery.matches` is the reference).
    func sessions(_ query: SessionQuery) async throws -> Page<SupportSession>
    /// How many sessions match `query`'s filters (ignoring its limit and cursor).
    func countSessions(_ query: SessionQuery) async throws -> Int

    // MARK: Audit log

    /// Appends an event; returns it with its sequence number.
    @discardableResult
    func appendAudit(_ event: AuditEvent) async throws -> AuditEvent
    /// Newest first.
    func auditEvents(_ query: AuditQuery) async throws -> [AuditEvent]

    // MARK: Settings

    /// Stores `value` under `name` unless a value is there; returns the stored value either way (so two
    /// nodes starting at once agree on one signing key).
    func settingInsertingIfAbsent(_ name: String, value: [UInt8]) async throws -> [UInt8]
    func setting(_ name: String) async throws -> [UInt8]?
    /// Replaces the value under `name` (nil removes it): for settings edited at run time (webhooks).
    func replaceSetting(_ name: String, value: [UInt8]?) async throws
}

/// The database failed (unreachable, corrupt, out of space), as opposed to a rule saying no.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// The database cannot be reached or opened.
        public static let unavailable = Code(rawValue: 1)
        /// A stored row cannot be read back as a record.
        public static let corrupt = Code(rawValue: 2)
        /// The schema is newer than this build knows.
        public static let schemaTooNew = Code(rawValue: 3)
        /// Any other database error.
        public static let failed = Code(rawValue: 4)
    }

    public var code: Code
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "store error \(code.rawValue): \(reason)" }
    public static func == (a: StoreError, b: StoreError) -> Bool { a.code == b.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
