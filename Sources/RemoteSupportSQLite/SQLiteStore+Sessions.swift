import Foundation
import GRDB
import RemoteSupportCore
import RemoteSupportStore

extension SQLiteStore {
    public func createSession(_ session: SupportSession) async throws {
        try await write { db in try Self.insert(session, into: db) }
    }

    public func session(_ id: SessionID) async throws -> SupportSession? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sessions WHERE id = ?", arguments: [id.description]).map(Self.session(from:))
        }
    }

    public func updateSession(_ id: SessionID, _ change: @escaping @Sendable (inout SupportSession) throws -> Void) async throws -> SupportSession {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM sessions WHERE id = ?", arguments: [id.description]) else {
                throw DomainError(.notFound, "no such session")
            }
            var session = try Self.session(from: row)
            try change(&session)
            let state = StoredSessionState(session.state)
            try db.execute(sql: """
                UPDATE sessions SET status = ?, state_agent_id = ?, connected_at = ?, finished_at = ?, end_reason = ? WHERE id = ?
                """, arguments: [state.status, state.agentID, state.connectedAt, state.finishedAt, state.endReason, id.description])
            return session
        }
    }

    public func sessions(_ query: SessionQuery) async throws -> Page<SupportSession> {
        let (whereClause, arguments) = Self.filter(query, paged: true)
        let rows = try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM sessions \(whereClause) ORDER BY created DESC, id DESC LIMIT \(query.limit + 1)",
                             arguments: arguments).map(Self.session(from:))
        }
        let items = Array(rows.prefix(query.limit))
        let next = rows.count > query.limit ? items.last.map { PageCursor(created: $0.created, id: $0.id.uuid) } : nil
        return Page(items: items, next: next)
    }

    public func countSessions(_ query: SessionQuery) async throws -> Int {
        let (whereClause, arguments) = Self.filter(query, paged: false)
        return try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sessions \(whereClause)", arguments: arguments) ?? 0 }
    }

    /// The WHERE clause for `query`, from fixed fragments with bound values.
    static func filter(_ query: SessionQuery, paged: Bool) -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments = StatementArguments()
        if let statuses = query.statuses {
            let sorted = statuses.map(\.rawValue).sorted()
            clauses.append("status IN (\(Array(repeating: "?", count: max(1, sorted.count)).joined(separator: ", ")))")
            arguments += StatementArguments(sorted.isEmpty ? [""] : sorted)
        }
        if let agentID = query.agentID {
            clauses.append("agent_id = ?")
            arguments += [agentID.description]
        }
        if let joinMethod = query.joinMethod {
            clauses.append("join_method = ?")
            arguments += [joinMethod.rawValue]
        }
        if let createdFrom = query.createdFrom {
            clauses.append("created >= ?")
            arguments += [createdFrom.millisecondsSince1970]
        }
        if let createdBefore = query.createdBefore {
            clauses.append("created < ?")
            arguments += [createdBefore.millisecondsSince1970]
        }
        if let text = query.text {
            // instr on lower(): a literal substring match (no LIKE wildcards). SQLite's lower() folds ASCII
            // only; the Swift side lowercases the needle the same way for ASCII and leaves the rest exact.
            let columns = ["end_user_name", "coalesce(invited_name, '')", "coalesce(ticket, '')", "machine_name"]
            clauses.append("(" + columns.map { "instr(lower(\($0)), lower(?)) > 0" }.joined(separator: " OR ") + ")")
            arguments += StatementArguments(Array(repeating: text, count: columns.count))
        }
        if paged, let after = query.after {
            clauses.append("(created < ? OR (created = ? AND id < ?))")
            let milliseconds = after.created.millisecondsSince1970
            arguments += [milliseconds, milliseconds, after.id.uuidString.lowercased()]
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), arguments)
    }

    static func insert(_ session: SupportSession, into db: Database) throws {
        let state = StoredSessionState(session.state)
        try db.execute(sql: """
            INSERT INTO sessions (id, agent_id, join_method, join_reference, ticket, invited_name, end_user_name, machine_name,
                operating_system, address, created, status, state_agent_id, connected_at, finished_at, end_reason)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [session.id.description, session.agentID.description, session.joinMethod.rawValue,
                             session.joinReference, session.ticket, session.invitedName, session.endUser.name,
                             session.endUser.machineName, session.endUser.operatingSystem, session.endUser.address,
                             session.created.millisecondsSince1970, state.status, state.agentID, state.connectedAt,
                             state.finishedAt, state.endReason])
    }

    static func session(from row: Row) throws -> SupportSession {
        do {
            guard let id = SessionID(row["id"] as String), let agentID = AgentID(row["agent_id"] as String) else {
                throw StoreError(.corrupt, "session ids")
            }
            let state = try StoredSessionState(status: row["status"], agentID: row["state_agent_id"], connectedAt: row["connected_at"],
                                               finishedAt: row["finished_at"], endReason: row["end_reason"]).state()
            return SupportSession(id: id, agentID: agentID, joinMethod: JoinMethod(rawValue: row["join_method"]),
                                  joinReference: row["join_reference"], ticket: row["ticket"], invitedName: row["invited_name"],
                                  endUser: try EndUserDetails(name: row["end_user_name"], machineName: row["machine_name"],
                                                              operatingSystem: row["operating_system"], address: row["address"]),
                                  created: Date(millisecondsSince1970: row["created"]), state: state)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.corrupt("session row", error)
        }
    }
}
