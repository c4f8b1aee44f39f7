import Foundation
import PostgresNIO
import RemoteSupportCore
import RemoteSupportStore

extension PostgresStore {
    // MARK: Invitations

    public func createInvitation(_ record: InvitationRecord) async throws {
        let invitation = record.invitation
        try await withConnection { db in
            try await db.run("""
                INSERT INTO invitations (id, agent_id, agent_slug, ticket, end_user_name, created, expires, revoked)
                VALUES (\(invitation.id.text), \(record.agentID.description), \(invitation.agentSlug.value), \(invitation.ticket),
                    \(invitation.endUserName), \(record.created.millisecondsSince1970), \(invitation.expires.millisecondsSince1970),
                    \(record.revoked?.millisecondsSince1970))
                """)
        }
    }

    public func invitation(_ id: InvitationID) async throws -> InvitationRecord? {
        try await withConnection { db in
            try await db.fetchOne("""
                SELECT id, agent_id, agent_slug, ticket, end_user_name, created, expires, revoked FROM invitations
                WHERE id = \(id.text)
                """).map(Self.invitation(from:))
        }
    }

    /// The first revocation's time stays.
    @discardableResult
    public func revokeInvitation(_ id: InvitationID, at time: Date) async throws -> Bool {
        try await withConnection { db in
            try await db.fetchOne("""
                UPDATE invitations SET revoked = coalesce(revoked, \(time.millisecondsSince1970)) WHERE id = \(id.text) RETURNING id
                """) != nil
        }
    }

    static func invitation(from row: PostgresRow) throws -> InvitationRecord {
        do {
            let columns = RowReader(row)
            guard let agentID = AgentID(try columns.text("agent_id")) else { throw StoreError(.corrupt, "invitation row: bad agent id") }
            let invitation = try Invitation(id: InvitationID(try columns.text("id")), agentSlug: AgentSlug(try columns.text("agent_slug")),
                                            ticket: try columns.optionalText("ticket"),
                                            endUserName: try columns.optionalText("end_user_name"),
                                            expires: try columns.date("expires"))
            return InvitationRecord(invitation: invitation, agentID: agentID, created: try columns.date("created"),
                                    revoked: try columns.optionalDate("revoked"))
        } catch {
            throw PostgresErrors.corrupt("invitation row", error)
        }
    }

    // MARK: Short links

    public func createShortLink(_ link: ShortLink) async throws {
        try await withConnection { db in
            try await db.run("""
                INSERT INTO short_links (code, target, agent_id, created, expires)
                VALUES (\(link.code.value), \(link.target), \(link.agentID.description), \(link.created.millisecondsSince1970),
                    \(link.expires.millisecondsSince1970))
                """)
        }
    }

    public func shortLink(_ code: ShortCode) async throws -> ShortLink? {
        try await withConnection { db in
            try await db.fetchOne("SELECT code, target, agent_id, created, expires FROM short_links WHERE code = \(code.value)")
                .map(Self.shortLink(from:))
        }
    }

    static func shortLink(from row: PostgresRow) throws -> ShortLink {
        do {
            let columns = RowReader(row)
            guard let agentID = AgentID(try columns.text("agent_id")) else { throw StoreError(.corrupt, "short link row: bad agent id") }
            return ShortLink(code: try ShortCode(try columns.text("code")), target: try columns.text("target"), agentID: agentID,
                             created: try columns.date("created"), expires: try columns.date("expires"))
        } catch {
            throw PostgresErrors.corrupt("short link row", error)
        }
    }
}
