import Foundation
import GRDB
import RemoteSupportCore
import RemoteSupportStore

extension SQLiteStore {
    public func appendAudit(_ event: AuditEvent) async throws -> AuditEvent {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO audit_log (time, action, actor_kind, actor_agent_id, actor_label, subject, address, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [event.time.millisecondsSince1970, event.action.rawValue, event.actor.kind.rawValue,
                                 event.actor.agentID?.description, event.actor.label, event.subject, event.address, event.detail])
            return AuditEvent(sequence: db.lastInsertedRowID, time: event.time, action: event.action, actor: event.actor,
                              subject: event.subject, address: event.address, detail: event.detail)
        }
    }

    public func auditEvents(_ query: AuditQuery) async throws -> [AuditEvent] {
        var clauses: [String] = []
        var arguments = StatementArguments()
        if let action = query.action { clauses.append("action = ?"); arguments += [action.rawValue] }
        if let agentID = query.agentID { clauses.append("actor_agent_id = ?"); arguments += [agentID.description] }
        if let since = query.since { clauses.append("time >= ?"); arguments += [since.millisecondsSince1970] }
        if let until = query.until { clauses.append("time < ?"); arguments += [until.millisecondsSince1970] }
        if let before = query.before { clauses.append("sequence < ?"); arguments += [before] }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let bound = arguments
        return try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log \(whereClause) ORDER BY sequence DESC LIMIT \(query.limit)",
                             arguments: bound).map { row in
                let kind = AuditActor.Kind(rawValue: row["actor_kind"]) ?? .anonymous
                return AuditEvent(sequence: row["sequence"], time: Date(millisecondsSince1970: row["time"]),
                                  action: AuditAction(rawValue: row["action"]),
                                  actor: AuditActor(kind: kind, agentID: (row["actor_agent_id"] as String?).flatMap(AgentID.init(_:)),
                                                    label: row["actor_label"]),
                                  subject: row["subject"], address: row["address"], detail: row["detail"])
            }
        }
    }

    public func settingInsertingIfAbsent(_ name: String, value: [UInt8]) async throws -> [UInt8] {
        try await write { db in
            try db.execute(sql: "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                           arguments: [name, Data(value)])
            guard let stored = try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE name = ?", arguments: [name]) else {
                throw StoreError(.failed, "setting \(name) vanished")
            }
            return [UInt8](stored)
        }
    }

    public func setting(_ name: String) async throws -> [UInt8]? {
        try await read { db in try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE name = ?", arguments: [name]).map { [UInt8]($0) } }
    }

    public func replaceSetting(_ name: String, value: [UInt8]?) async throws {
        try await write { db in
            if let value {
                try db.execute(sql: "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                               arguments: [name, Data(value)])
            } else {
                try db.execute(sql: "DELETE FROM settings WHERE name = ?", arguments: [name])
            }
        }
    }
}
