import Foundation
import GRDB
import RemoteSupportCore
import RemoteSupportStore

extension SQLiteStore {
    public func createLoginSession(_ session: LoginSession) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO login_sessions (digest, agent_id, created, last_seen, expires, address) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [session.digest.hex, session.agentID.description, session.created.millisecondsSince1970,
                                 session.lastSeen.millisecondsSince1970, session.expires.millisecondsSince1970, session.address])
        }
    }

    public func loginSession(_ digest: TokenDigest) async throws -> LoginSession? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM login_sessions WHERE digest = ?", arguments: [digest.hex]).map { row in
                guard let agentID = AgentID(row["agent_id"] as String) else { throw StoreError(.corrupt, "login session agent") }
                return LoginSession(digest: TokenDigest(hex: row["digest"]), agentID: agentID,
                                    created: Date(millisecondsSince1970: row["created"]),
                                    lastSeen: Date(millisecondsSince1970: row["last_seen"]),
                                    expires: Date(millisecondsSince1970: row["expires"]), address: row["address"])
            }
        }
    }

    public func touchLoginSession(_ digest: TokenDigest, at time: Date) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE login_sessions SET last_seen = max(last_seen, ?) WHERE digest = ?",
                           arguments: [time.millisecondsSince1970, digest.hex])
        }
    }

    public func deleteLoginSession(_ digest: TokenDigest) async throws {
        try await write { db in try db.execute(sql: "DELETE FROM login_sessions WHERE digest = ?", arguments: [digest.hex]) }
    }

    public func deleteLoginSessions(of id: AgentID, except: TokenDigest?) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM login_sessions WHERE agent_id = ? AND digest IS NOT ?",
                           arguments: [id.description, except?.hex])
            return db.changesCount
        }
    }

    public func deleteExpiredLoginSessions(before time: Date) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM login_sessions WHERE expires <= ?", arguments: [time.millisecondsSince1970])
            return db.changesCount
        }
    }
}
