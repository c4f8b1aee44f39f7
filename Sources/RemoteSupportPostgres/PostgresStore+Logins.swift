import Foundation
import PostgresNIO
import RemoteSupportCore
import RemoteSupportStore

extension PostgresStore {
    public func createLoginSession(_ session: LoginSession) async throws {
        try await withConnection { db in
            try await db.run("""
                INSERT INTO login_sessions (digest, agent_id, created, last_seen, expires, address)
                VALUES (\(session.digest.hex), \(session.agentID.description), \(session.created.millisecondsSince1970),
                    \(session.lastSeen.millisecondsSince1970), \(session.expires.millisecondsSince1970), \(session.address))
                """)
        }
    }

    public func loginSession(_ digest: TokenDigest) async throws -> LoginSession? {
        try await withConnection { db in
            try await db.fetchOne("""
                SELECT digest, agent_id, created, last_seen, expires, address FROM login_sessions WHERE digest = \(digest.hex)
                """).map(Self.loginSession(from:))
        }
    }

    /// Never moves `last_seen` back (two nodes touching one login out of order).
    public func touchLoginSession(_ digest: TokenDigest, at time: Date) async throws {
        try await withConnection { db in
            try await db.run("""
                UPDATE login_sessions SET last_seen = greatest(last_seen, \(time.millisecondsSince1970)) WHERE digest = \(digest.hex)
                """)
        }
    }

    public func deleteLoginSession(_ digest: TokenDigest) async throws {
        try await withConnection { db in
            try await db.run("DELETE FROM login_sessions WHERE digest = \(digest.hex)")
        }
    }

    @discardableResult
    public func deleteLoginSessions(of id: AgentID, except: TokenDigest?) async throws -> Int {
        try await withConnection { db in
            try await db.fetch("""
                DELETE FROM login_sessions
                WHERE agent_id = \(id.description) AND digest IS DISTINCT FROM \(except?.hex)
                RETURNING digest
                """).count
        }
    }

    /// Deletes logins whose absolute expiry is at or before `time` (`LoginSession.isValid` is false there).
    @discardableResult
    public func deleteExpiredLoginSessions(before time: Date) async throws -> Int {
        try await withConnection { db in
            try await db.fetch("DELETE FROM login_sessions WHERE expires <= \(time.millisecondsSince1970) RETURNING digest").count
        }
    }

    static func loginSession(from row: PostgresRow) throws -> LoginSession {
        do {
            let columns = RowReader(row)
            guard let agentID = AgentID(try columns.text("agent_id")) else { throw StoreError(.corrupt, "login row: bad agent id") }
            return LoginSession(digest: TokenDigest(hex: try columns.text("digest")), agentID: agentID,
                                created: try columns.date("created"), lastSeen: try columns.date("last_seen"),
                                expires: try columns.date("expires"), address: try columns.text("address"))
        } catch {
            throw PostgresErrors.corrupt("login row", error)
        }
    }
}
