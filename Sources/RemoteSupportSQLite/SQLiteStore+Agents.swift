import Foundation
import GRDB
import RemoteSupportCore
import RemoteSupportStore

extension SQLiteStore {
    public func createAgent(_ agent: Agent, credential: AgentCredential) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO agents (id, email, email_normalized, name, job_title, role, enabled, slug, created,
                    last_login, password_hash, must_change_password, failed_logins, locked_until)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    agent.id.description, agent.email.value, agent.email.normalized, agent.name, agent.jobTitle,
                    agent.role.rawValue, agent.enabled, agent.slug.value, agent.created.millisecondsSince1970,
                    agent.lastLogin?.millisecondsSince1970, credential.passwordHash.stored,
                    credential.mustChangePassword, credential.throttle.consecutiveFailures,
                    credential.throttle.lockedUntil?.millisecondsSince1970,
                ])
        }
    }

    public func agent(id: AgentID) async throws -> Agent? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE id = ?", arguments: [id.description]).map(Self.agent(from:)) }
    }

    public func agent(email: EmailAddress) async throws -> Agent? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE email_normalized = ?", arguments: [email.normalized]).map(Self.agent(from:))
        }
    }

    public func agent(slug: AgentSlug) async throws -> Agent? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE slug = ?", arguments: [slug.value]).map(Self.agent(from:)) }
    }

    public func agents() async throws -> [Agent] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM agents ORDER BY name, id").map(Self.agent(from:)) }
    }

    public func updateAgent(_ id: AgentID, _ change: @escaping @Sendable (inout Agent) throws -> Void) async throws -> Agent {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE id = ?", arguments: [id.description]) else {
                throw DomainError(.notFound, "no such agent")
            }
            var agent = try Self.agent(from: row)
            try change(&agent)
            try db.execute(sql: """
                UPDATE agents SET email = ?, email_normalized = ?, name = ?, job_title = ?, role = ?, enabled = ?,
                    last_login = ? WHERE id = ?
                """, arguments: [agent.email.value, agent.email.normalized, agent.name, agent.jobTitle, agent.role.rawValue,
                                 agent.enabled, agent.lastLogin?.millisecondsSince1970, id.description])
            return try Self.agent(from: try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE id = ?", arguments: [id.description])!)
        }
    }

    public func credential(of id: AgentID) async throws -> AgentCredential? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT password_hash, must_change_password, failed_logins, locked_until FROM agents WHERE id = ?",
                             arguments: [id.description]).map(Self.credential(from:))
        }
    }

    public func updateCredential(of id: AgentID, _ change: @escaping @Sendable (inout AgentCredential) throws -> Void) async throws -> AgentCredential {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT password_hash, must_change_password, failed_logins, locked_until FROM agents WHERE id = ?",
                                             arguments: [id.description]) else {
                throw DomainError(.notFound, "no such agent")
            }
            var credential = try Self.credential(from: row)
            try change(&credential)
            try db.execute(sql: """
                UPDATE agents SET password_hash = ?, must_change_password = ?, failed_logins = ?, locked_until = ? WHERE id = ?
                """, arguments: [credential.passwordHash.stored, credential.mustChangePassword,
                                 credential.throttle.consecutiveFailures, credential.throttle.lockedUntil?.millisecondsSince1970,
                                 id.description])
            return credential
        }
    }

    static func agent(from row: Row) throws -> Agent {
        do {
            guard let id = AgentID(row["id"] as String) else { throw StoreError(.corrupt, "agent id") }
            return try Agent(id: id, email: EmailAddress(row["email"]), name: row["name"], jobTitle: row["job_title"],
                             role: AgentRole(rawValue: row["role"]), enabled: row["enabled"], slug: AgentSlug(row["slug"] as String),
                             created: Date(millisecondsSince1970: row["created"]),
                             lastLogin: (row["last_login"] as Int64?).map(Date.init(millisecondsSince1970:)))
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.corrupt("agent row", error)
        }
    }

    static func credential(from row: Row) throws -> AgentCredential {
        do {
            return AgentCredential(passwordHash: try PasswordHash(stored: row["password_hash"]),
                                   mustChangePassword: row["must_change_password"],
                                   throttle: LoginThrottle(consecutiveFailures: row["failed_logins"],
                                                           lockedUntil: (row["locked_until"] as Int64?).map(Date.init(millisecondsSince1970:))))
        } catch {
            throw StoreError.corrupt("credential", error)
        }
    }
}
