import Foundation
import PostgresNIO
import RemoteSupportCore
import RemoteSupportStore

extension PostgresStore {
    public func createAgent(_ agent: Agent, credential: AgentCredential) async throws {
        try await withConnection { db in
            try await db.run("""
                INSERT INTO agents (id, email, email_normalized, name, job_title, role, enabled, slug, created, last_login,
                    password_hash, must_change_password, failed_logins, locked_until)
                VALUES (\(agent.id.description), \(agent.email.value), \(agent.email.normalized), \(agent.name),
                    \(agent.jobTitle), \(agent.role.rawValue), \(agent.enabled.storedFlag), \(agent.slug.value),
                    \(agent.created.millisecondsSince1970), \(agent.lastLogin?.millisecondsSince1970),
                    \(credential.passwordHash.stored), \(credential.mustChangePassword.storedFlag),
                    \(Int32(clamping: credential.throttle.consecutiveFailures)),
                    \(credential.throttle.lockedUntil?.millisecondsSince1970))
                """)
        }
    }

    public func agent(id: AgentID) async throws -> Agent? {
        try await withConnection { db in
            try await db.fetchOne("SELECT \(unescaped: Self.agentColumns) FROM agents WHERE id = \(id.description)").map(Self.agent(from:))
        }
    }

    public func agent(email: EmailAddress) async throws -> Agent? {
        try await withConnection { db in
            try await db.fetchOne("SELECT \(unescaped: Self.agentColumns) FROM agents WHERE email_normalized = \(email.normalized)")
                .map(Self.agent(from:))
        }
    }

    public func agent(slug: AgentSlug) async throws -> Agent? {
        try await withConnection { db in
            try await db.fetchOne("SELECT \(unescaped: Self.agentColumns) FROM agents WHERE slug = \(slug.value)").map(Self.agent(from:))
        }
    }

    /// By name, bytewise (as SQLite orders them), then id.
    public func agents() async throws -> [Agent] {
        try await withConnection { db in
            try await db.fetch("SELECT \(unescaped: Self.agentColumns) FROM agents ORDER BY name COLLATE \"C\", id COLLATE \"C\"")
                .map(Self.agent(from:))
        }
    }

    /// Writes the fields an agent may change; the id, slug and created date stay as stored whatever the
    /// closure does.
    @discardableResult
    public func updateAgent(_ id: AgentID, _ change: @escaping @Sendable (inout Agent) throws -> Void) async throws -> Agent {
        try await transaction { db in
            guard let row = try await db.fetchOne("""
                SELECT \(unescaped: Self.agentColumns) FROM agents WHERE id = \(id.description) FOR NO KEY UPDATE
                """) else {
                throw DomainError(.notFound, "no such agent")
            }
            var agent = try Self.agent(from: row)
            try change(&agent)
            guard let updated = try await db.fetchOne("""
                UPDATE agents SET email = \(agent.email.value), email_normalized = \(agent.email.normalized), name = \(agent.name),
                    job_title = \(agent.jobTitle), role = \(agent.role.rawValue), enabled = \(agent.enabled.storedFlag),
                    last_login = \(agent.lastLogin?.millisecondsSince1970)
                WHERE id = \(id.description)
                RETURNING \(unescaped: Self.agentColumns)
                """) else {
                throw DomainError(.notFound, "no such agent")
            }
            return try Self.agent(from: updated)
        }
    }

    public func credential(of id: AgentID) async throws -> AgentCredential? {
        try await withConnection { db in
            try await db.fetchOne("SELECT \(unescaped: Self.credentialColumns) FROM agents WHERE id = \(id.description)")
                .map(Self.credential(from:))
        }
    }

    @discardableResult
    public func updateCredential(of id: AgentID, _ change: @escaping @Sendable (inout AgentCredential) throws -> Void) async throws
        -> AgentCredential {
        try await transaction { db in
            guard let row = try await db.fetchOne("""
                SELECT \(unescaped: Self.credentialColumns) FROM agents WHERE id = \(id.description) FOR NO KEY UPDATE
                """) else {
                throw DomainError(.notFound, "no such agent")
            }
            var credential = try Self.credential(from: row)
            try change(&credential)
            try await db.run("""
                UPDATE agents SET password_hash = \(credential.passwordHash.stored),
                    must_change_password = \(credential.mustChangePassword.storedFlag),
                    failed_logins = \(Int32(clamping: credential.throttle.consecutiveFailures)),
                    locked_until = \(credential.throttle.lockedUntil?.millisecondsSince1970)
                WHERE id = \(id.description)
                """)
            return credential
        }
    }

    // MARK: Rows

    /// Every column but the credential's: listing agents never reads a password hash.
    static let agentColumns = "id, email, name, job_title, role, enabled, slug, created, last_login"
    static let credentialColumns = "password_hash, must_change_password, failed_logins, locked_until"

    static func agent(from row: PostgresRow) throws -> Agent {
        do {
            let columns = RowReader(row)
            guard let id = AgentID(try columns.text("id")) else { throw StoreError(.corrupt, "agent row: bad id") }
            return try Agent(id: id, email: EmailAddress(try columns.text("email")), name: try columns.text("name"),
                             jobTitle: try columns.text("job_title"), role: AgentRole(rawValue: try columns.text("role")),
                             enabled: try columns.flag("enabled"), slug: AgentSlug(try columns.text("slug")),
                             created: try columns.date("created"), lastLogin: try columns.optionalDate("last_login"))
        } catch {
            throw PostgresErrors.corrupt("agent row", error)
        }
    }

    static func credential(from row: PostgresRow) throws -> AgentCredential {
        do {
            let columns = RowReader(row)
            return AgentCredential(passwordHash: try PasswordHash(stored: try columns.text("password_hash")),
                                   mustChangePassword: try columns.flag("must_change_password"),
                                   throttle: LoginThrottle(consecutiveFailures: try columns.int("failed_logins"),
                                                           lockedUntil: try columns.optionalDate("locked_until")))
        } catch {
            throw PostgresErrors.corrupt("agent credential", error)
        }
    }
}
