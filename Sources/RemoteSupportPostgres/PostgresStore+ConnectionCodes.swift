import Foundation
import PostgresNIO
import RemoteSupportCore
import RemoteSupportStore

/// One row per code value (`connection_codes.code` is the key): issuing a code again after its quarantine
/// overwrites the old row, so the table never holds more than a million rows.
extension PostgresStore {
    public func unavailableConnectionCodes(at time: Date, quarantine: TimeInterval) async throws -> Set<Int> {
        let cutoff = time.addingTimeInterval(-quarantine).millisecondsSince1970
        let now = time.millisecondsSince1970
        return try await withConnection { db in
            Set(try await db.fetch("""
                SELECT code FROM connection_codes WHERE created > \(cutoff) OR (consumed IS NULL AND expires > \(now))
                """).map { try RowReader($0).int("code") })
        }
    }

    /// One conditional upsert: a new code is inserted; an existing row is overwritten only when it was
    /// issued at or before `grant.created - quarantine` and is no longer live. Whether a row was written
    /// comes back from RETURNING, so of two issuers racing for one code exactly one sees true.
    public func insertConnectionCode(_ grant: ConnectionCodeGrant, quarantine: TimeInterval) async throws -> Bool {
        let cutoff = grant.created.addingTimeInterval(-quarantine).millisecondsSince1970
        return try await withConnection { db in
            try await db.fetchOne("""
                INSERT INTO connection_codes (code, agent_id, ticket, end_user_name, created, expires, consumed)
                VALUES (\(Int32(grant.code.value)), \(grant.agentID.description), \(grant.ticket), \(grant.endUserName),
                    \(grant.created.millisecondsSince1970), \(grant.expires.millisecondsSince1970), NULL)
                ON CONFLICT (code) DO UPDATE SET agent_id = excluded.agent_id, ticket = excluded.ticket,
                    end_user_name = excluded.end_user_name, created = excluded.created, expires = excluded.expires,
                    consumed = NULL
                WHERE connection_codes.created <= \(cutoff)
                    AND (connection_codes.consumed IS NOT NULL OR connection_codes.expires <= excluded.created)
                RETURNING code
                """) != nil
        }
    }

    /// UPDATE ... WHERE consumed IS NULL AND expires > now: of two concurrent consumers the second waits
    /// for the first's row lock, then finds the row consumed and gets nil. The session is inserted in the
    /// same transaction, so a code is never used up without its session (or the other way round).
    public func consumeConnectionCode(_ code: ConnectionID, at time: Date,
                                      makeSession: @escaping @Sendable (ConnectionCodeGrant) throws -> SupportSession) async throws
        -> (grant: ConnectionCodeGrant, session: SupportSession)? {
        let now = time.millisecondsSince1970
        let consumed: ConsumedCode? = try await transaction { db in
            guard let row = try await db.fetchOne("""
                UPDATE connection_codes SET consumed = \(now)
                WHERE code = \(Int32(code.value)) AND consumed IS NULL AND expires > \(now)
                RETURNING \(unescaped: Self.grantColumns)
                """) else {
                return nil
            }
            let grant = try Self.grant(from: row)
            let session = try makeSession(grant)
            try await Self.insertSession(session, into: db)
            return ConsumedCode(grant: grant, session: session)
        }
        return consumed.map { ($0.grant, $0.session) }
    }

    public func liveConnectionCodes(of id: AgentID, at time: Date) async throws -> [ConnectionCodeGrant] {
        let now = time.millisecondsSince1970
        return try await withConnection { db in
            try await db.fetch("""
                SELECT \(unescaped: Self.grantColumns) FROM connection_codes
                WHERE agent_id = \(id.description) AND consumed IS NULL AND expires > \(now)
                ORDER BY created DESC, code
                """).map(Self.grant(from:))
        }
    }

    /// A consumed code and its session, as one Sendable value out of the transaction.
    private struct ConsumedCode: Sendable {
        let grant: ConnectionCodeGrant
        let session: SupportSession
    }

    static let grantColumns = "code, agent_id, ticket, end_user_name, created, expires, consumed"

    static func grant(from row: PostgresRow) throws -> ConnectionCodeGrant {
        do {
            let columns = RowReader(row)
            guard let agentID = AgentID(try columns.text("agent_id")) else { throw StoreError(.corrupt, "connection code row: bad agent id") }
            return ConnectionCodeGrant(code: try ConnectionID(value: try columns.int("code")), agentID: agentID,
                                       ticket: try columns.optionalText("ticket"), endUserName: try columns.optionalText("end_user_name"),
                                       created: try columns.date("created"), expires: try columns.date("expires"),
                                       consumed: try columns.optionalDate("consumed"))
        } catch {
            throw PostgresErrors.corrupt("connection code row", error)
        }
    }
}
