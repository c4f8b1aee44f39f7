import Foundation
import PostgresNIO
import RemoteSupportCore
import RemoteSupportStore

extension PostgresStore {
    public func createSession(_ session: SupportSession) async throws {
        try await withConnection { db in try await Self.insertSession(session, into: db) }
    }

    public func session(_ id: SessionID) async throws -> SupportSession? {
        try await withConnection { db in
            try await db.fetchOne("SELECT \(unescaped: Self.sessionColumns) FROM sessions WHERE id = \(id.description)")
                .map(Self.session(from:))
        }
    }

    /// Only the state is written back: every other field of a session is fixed when it is created.
    @discardableResult
    public func updateSession(_ id: SessionID, _ change: @escaping @Sendable (inout SupportSession) throws -> Void) async throws
        -> SupportSession {
        try await transaction { db in
            guard let row = try await db.fetchOne("""
                SELECT \(unescaped: Self.sessionColumns) FROM sessions WHERE id = \(id.description) FOR NO KEY UPDATE
                """) else {
                throw DomainError(.notFound, "no such session")
            }
            var session = try Self.session(from: row)
            try change(&session)
            let state = StoredSessionState(session.state)
            guard let updated = try await db.fetchOne("""
                UPDATE sessions SET status = \(state.status), state_agent_id = \(state.agentID), connected_at = \(state.connectedAt),
                    finished_at = \(state.finishedAt), end_reason = \(state.endReason)
                WHERE id = \(id.description)
                RETURNING \(unescaped: Self.sessionColumns)
                """) else {
                throw DomainError(.notFound, "no such session")
            }
            return try Self.session(from: updated)
        }
    }

    /// Newest first by (created, id), one more row than the page to know whether another follows.
    public func sessions(_ query: SessionQuery) async throws -> Page<SupportSession> {
        var filter = sessionFilter(query, paged: true)
        let limit = filter.bind(Int64(query.limit + 1))
        let rows = try await withConnection { db in
            try await db.fetch(filter.query(select: "SELECT \(Self.sessionColumns) FROM sessions",
                                            then: "ORDER BY created DESC, id DESC LIMIT \(limit)"))
                .map(Self.session(from:))
        }
        let items = Array(rows.prefix(query.limit))
        let next = rows.count > query.limit ? items.last.map { PageCursor(created: $0.created, id: $0.id.uuid) } : nil
        return Page(items: items, next: next)
    }

    public func countSessions(_ query: SessionQuery) async throws -> Int {
        let filter = sessionFilter(query, paged: false)
        return try await withConnection { db in
            guard let row = try await db.fetchOne(filter.query(select: "SELECT count(*) AS count FROM sessions")) else { return 0 }
            return Int(try RowReader(row).int64("count"))
        }
    }

    /// `SessionQuery.matches` in SQL.
    func sessionFilter(_ query: SessionQuery, paged: Bool) -> PostgresFilter {
        var filter = PostgresFilter()
        if let statuses = query.statuses {
            filter.add("status = ANY(\(filter.bind(statuses.map(\.rawValue).sorted())))")
        }
        if let agentID = query.agentID {
            filter.add("agent_id = \(filter.bind(agentID.description))")
        }
        if let joinMethod = query.joinMethod {
            filter.add("join_method = \(filter.bind(joinMethod.rawValue))")
        }
        if let createdFrom = query.createdFrom {
            filter.add("created >= \(filter.bind(createdFrom.millisecondsSince1970))")
        }
        if let createdBefore = query.createdBefore {
            filter.add("created < \(filter.bind(createdBefore.millisecondsSince1970))")
        }
        if let text = query.text {
            // strpos, not LIKE: % and _ in the needle are literal. lower() under a Unicode collation when
            // the database's default folds only ASCII (see searchCollation).
            let needle = filter.bind(text)
            let collate = searchCollation.map { " COLLATE \"\($0)\"" } ?? ""
            let matches = ["end_user_name", "coalesce(invited_name, '')", "coalesce(ticket, '')", "machine_name"].map { column in
                "strpos(lower(\(column)\(collate)), lower(\(needle)\(collate))) > 0"
            }
            filter.add("(" + matches.joined(separator: " OR ") + ")")
        }
        if paged, let after = query.after {
            let created = filter.bind(after.created.millisecondsSince1970)
            let id = filter.bind(after.id.uuidString.lowercased())
            filter.add("(created, id) < (\(created), \(id))")
        }
        return filter
    }

    // MARK: Rows

    static let sessionColumns = """
        id, agent_id, join_method, join_reference, ticket, invited_name, end_user_name, machine_name, operating_system, \
        address, created, status, state_agent_id, connected_at, finished_at, end_reason
        """

    static func insertSession(_ session: SupportSession, into db: StoreConnection) async throws {
        let state = StoredSessionState(session.state)
        try await db.run("""
            INSERT INTO sessions (id, agent_id, join_method, join_reference, ticket, invited_name, end_user_name, machine_name,
                operating_system, address, created, status, state_agent_id, connected_at, finished_at, end_reason)
            VALUES (\(session.id.description), \(session.agentID.description), \(session.joinMethod.rawValue),
                \(session.joinReference), \(session.ticket), \(session.invitedName), \(session.endUser.name),
                \(session.endUser.machineName), \(session.endUser.operatingSystem), \(session.endUser.address),
                \(session.created.millisecondsSince1970), \(state.status), \(state.agentID), \(state.connectedAt),
                \(state.finishedAt), \(state.endReason))
            """)
    }

    static func session(from row: PostgresRow) throws -> SupportSession {
        do {
            let columns = RowReader(row)
            guard let id = SessionID(try columns.text("id")), let agentID = AgentID(try columns.text("agent_id")) else {
                throw StoreError(.corrupt, "session row: bad id")
            }
            let state = try StoredSessionState(status: try columns.text("status"), agentID: try columns.optionalText("state_agent_id"),
                                               connectedAt: try columns.optionalInt64("connected_at"),
                                               finishedAt: try columns.optionalInt64("finished_at"),
                                               endReason: try columns.optionalText("end_reason")).state()
            let endUser = try EndUserDetails(name: try columns.text("end_user_name"), machineName: try columns.text("machine_name"),
                                             operatingSystem: try columns.text("operating_system"), address: try columns.text("address"))
            return SupportSession(id: id, agentID: agentID, joinMethod: JoinMethod(rawValue: try columns.text("join_method")),
                                  joinReference: try columns.optionalText("join_reference"), ticket: try columns.optionalText("ticket"),
                                  invitedName: try columns.optionalText("invited_name"), endUser: endUser,
                                  created: try columns.date("created"), state: state)
        } catch {
            throw PostgresErrors.corrupt("session row", error)
        }
    }
}
