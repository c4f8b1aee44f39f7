import Foundation
import GRDB
import RemoteSupportCore
import RemoteSupportStore

extension SQLiteStore {
    public func createInvitation(_ record: InvitationRecord) async throws {
        try await write { db in
            let invitation = record.invitation
            try db.execute(sql: """
                INSERT INTO invitations (id, agent_id, agent_slug, ticket, end_user_name, created, expires, revoked)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [invitation.id.text, record.agentID.description, invitation.agentSlug.value, invitation.ticket,
                                 invitation.endUserName, record.created.millisecondsSince1970,
                                 invitation.expires.millisecondsSince1970, record.revoked?.millisecondsSince1970])
        }
    }

    public func invitation(_ id: InvitationID) async throws -> InvitationRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM invitations WHERE id = ?", arguments: [id.text]).map { row in
                do {
                    guard let agentID = AgentID(row["agent_id"] as String) else { throw StoreError(.corrupt, "invitation agent") }
                    let invitation = try Invitation(id: InvitationID(row["id"] as String), agentSlug: AgentSlug(row["agent_slug"] as String),
                                                    ticket: row["ticket"], endUserName: row["end_user_name"],
                                                    expires: Date(millisecondsSince1970: row["expires"]))
                    return InvitationRecord(invitation: invitation, agentID: agentID, created: Date(millisecondsSince1970: row["created"]),
                                            revoked: (row["revoked"] as Int64?).map(Date.init(millisecondsSince1970:)))
                } catch let error as StoreError {
                    throw error
                } catch {
                    throw StoreError.corrupt("invitation row", error)
                }
            }
        }
    }

    public func revokeInvitation(_ id: InvitationID, at time: Date) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE invitations SET revoked = coalesce(revoked, ?) WHERE id = ?",
                           arguments: [time.millisecondsSince1970, id.text])
            return db.changesCount > 0
        }
    }

    public func createShortLink(_ link: ShortLink) async throws {
        try await write { db in
            try db.execute(sql: "INSERT INTO short_links (code, target, agent_id, created, expires) VALUES (?, ?, ?, ?, ?)",
                           arguments: [link.code.value, link.target, link.agentID.description, link.created.millisecondsSince1970,
                                       link.expires.millisecondsSince1970])
        }
    }

    public func shortLink(_ code: ShortCode) async throws -> ShortLink? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM short_links WHERE code = ?", arguments: [code.value]).map { row in
                guard let agentID = AgentID(row["agent_id"] as String), let code = try? ShortCode(row["code"] as String) else {
                    throw StoreError(.corrupt, "short link row")
                }
                return ShortLink(code: code, target: row["target"], agentID: agentID,
                                 created: Date(millisecondsSince1970: row["created"]), expires: Date(millisecondsSince1970: row["expires"]))
            }
        }
    }
}
