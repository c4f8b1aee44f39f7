import Foundation
import GRDB
import RemoteSupportCore
import RemoteSupportStore

extension SQLiteStore {
    public func unavailableConnectionCodes(at time: Date, quarantine: TimeInterval) async throws -> Set<Int> {
        let cutoff = time.addingTimeInterval(-quarantine).millisecondsSince1970
        return try await read { db in
            Set(try Int.fetchAll(db, sql: "SELECT code FROM connection_codes WHERE created > ? OR (consumed IS NULL AND expires > ?)",
                                 arguments: [cutoff, time.millisecondsSince1970]))
        }
    }

    public func insertConnectionCode(_ grant: ConnectionCodeGrant, quarantine: TimeInterval) async throws -> Bool {
        let cutoff = grant.created.addingTimeInterval(-quarantine).millisecondsSince1970
        return try await write { db in
            // One row per code value: a code whose last issue is older than the quarantine (and so long
            // expired) is overwritten; otherwise nothing is written and the caller draws again.
            try db.execute(sql: """
                INSERT INTO connection_codes (code, agent_id, ticket, end_user_name, created, expires, consumed)
                VALUES (?, ?, ?, ?, ?, ?, NULL)
                ON CONFLICT (code) DO UPDATE SET agent_id = excluded.agent_id, ticket = excluded.ticket,
                    end_user_name = excluded.end_user_name, created = excluded.created, expires = excluded.expires,
                    consumed = NULL
                WHERE connection_codes.created <= ? AND (connection_codes.consumed IS NOT NULL OR connection_codes.expires <= excluded.created)
                """, arguments: [grant.code.value, grant.agentID.description, grant.ticket, grant.endUserName,
                                 grant.created.millisecondsSince1970, grant.expires.millisecondsSince1970, cutoff])
            return db.changesCount == 1
        }
    }

    public func consumeConnectionCode(_ code: ConnectionID, at time: Date,
                                      makeSession: @escaping @Sendable (ConnectionCodeGrant) throws -> SupportSession) async throws
        -> (grant: ConnectionCodeGrant, session: SupportSession)? {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: """
                UPDATE connection_codes SET consumed = ? WHERE code = ? AND consumed IS NULL AND expires > ? RETURNING *
                """, arguments: [time.millisecondsSince1970, code.value, time.millisecondsSince1970]) else {
                return nil
            }
            let grant = try Self.grant(from: row)
            let session = try makeSession(grant)
            try Self.insert(session, into: db)
            return (grant, session)
        }
    }

    public func liveConnectionCodes(of id: AgentID, at time: Date) async throws -> [ConnectionCodeGrant] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM connection_codes WHERE agent_id = ? AND consumed IS NULL AND expires > ? ORDER BY created DESC
                """, arguments: [id.description, time.millisecondsSince1970]).map(Self.grant(from:))
        }
    }

    static func grant(from row: Row) throws -> ConnectionCodeGrant {
        guard let agentID = AgentID(row["agent_id"] as String), let code = try? ConnectionID(value: row["code"]) else {
            throw StoreError(.corrupt, "connection code row")
        }
        return ConnectionCodeGrant(code: code, agentID: agentID, ticket: row["ticket"], endUserName: row["end_user_name"],
                                   created: Date(millisecondsSince1970: row["created"]),
                                   expires: Date(millisecondsSince1970: row["expires"]),
                                   consumed: (row["consumed"] as Int64?).map(Date.init(millisecondsSince1970:)))
    }
}
