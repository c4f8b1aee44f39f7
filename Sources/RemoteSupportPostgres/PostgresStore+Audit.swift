import Foundation
import PostgresNIO
import RemoteSupportCore
import RemoteSupportStore

extension PostgresStore {
    /// The sequence is the identity column's next value: increasing, with gaps where a transaction rolled
    /// back.
    @discardableResult
    public func appendAudit(_ event: AuditEvent) async throws -> AuditEvent {
        let row = try await withConnection { db in
            try await db.fetchOne("""
                INSERT INTO audit_log (time, action, actor_kind, actor_agent_id, actor_label, subject, address, detail)
                VALUES (\(event.time.millisecondsSince1970), \(event.action.rawValue), \(event.actor.kind.rawValue),
                    \(event.actor.agentID?.description), \(event.actor.label), \(event.subject), \(event.address), \(event.detail))
                RETURNING sequence
                """)
        }
        guard let row else { throw StoreError(.failed, "the audit insert returned no sequence") }
        let sequence: Int64
        do {
            sequence = try RowReader(row).int64("sequence")
        } catch {
            throw PostgresErrors.corrupt("audit sequence", error)
        }
        return AuditEvent(sequence: sequence, time: event.time, action: event.action, actor: event.actor, subject: event.subject,
                          address: event.address, detail: event.detail)
    }

    /// Newest first; `since` inclusive, `until` exclusive, `before` a sequence (exclusive).
    public func auditEvents(_ query: AuditQuery) async throws -> [AuditEvent] {
        var filter = PostgresFilter()
        if let action = query.action { filter.add("action = \(filter.bind(action.rawValue))") }
        if let agentID = query.agentID { filter.add("actor_agent_id = \(filter.bind(agentID.description))") }
        if let since = query.since { filter.add("time >= \(filter.bind(since.millisecondsSince1970))") }
        if let until = query.until { filter.add("time < \(filter.bind(until.millisecondsSince1970))") }
        if let before = query.before { filter.add("sequence < \(filter.bind(before))") }
        let limit = filter.bind(Int64(query.limit))
        return try await withConnection { db in
            try await db.fetch(filter.query(select: """
                SELECT sequence, time, action, actor_kind, actor_agent_id, actor_label, subject, address, detail FROM audit_log
                """, then: "ORDER BY sequence DESC LIMIT \(limit)")).map(Self.auditEvent(from:))
        }
    }

    /// An actor kind this build does not know is `.corrupt` (the kinds are a closed set).
    static func auditEvent(from row: PostgresRow) throws -> AuditEvent {
        do {
            let columns = RowReader(row)
            let kindText = try columns.text("actor_kind")
            guard let kind = AuditActor.Kind(rawValue: kindText) else {
                throw StoreError(.corrupt, "audit row: unknown actor kind \(kindText.debugDescription)")
            }
            let agentID = try columns.optionalText("actor_agent_id").map { text in
                guard let id = AgentID(text) else { throw StoreError(.corrupt, "audit row: bad actor id") }
                return id
            }
            return AuditEvent(sequence: try columns.int64("sequence"), time: try columns.date("time"),
                              action: AuditAction(rawValue: try columns.text("action")),
                              actor: AuditActor(kind: kind, agentID: agentID, label: try columns.text("actor_label")),
                              subject: try columns.text("subject"), address: try columns.text("address"),
                              detail: try columns.text("detail"))
        } catch {
            throw PostgresErrors.corrupt("audit row", error)
        }
    }
}
