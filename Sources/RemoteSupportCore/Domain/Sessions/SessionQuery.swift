import Foundation

/// A filtered, paged listing of sessions, newest first: an agent's lobby (`.lobby(of:)`) or "show all
/// sessions" of the organisation with filters. Paging by cursor, so a page stays right while sessions are
/// added, and a deep page costs what the first does.
public struct SessionQuery: Hashable, Sendable {
    public var statuses: Set<SessionStatus>?
    public var agentID: AgentID?
    public var joinMethod: JoinMethod?
    /// Substring of the name, ticket or machine name (at most 100 characters), case-insensitive for ASCII
    /// letters (what SQLite's and a C-locale PostgreSQL's `lower()` fold), exact for the rest.
    public var text: String?
    public var createdFrom: Date?
    public var createdBefore: Date?
    public var limit: Int
    public var after: PageCursor?

    public static let maximumLimit = 500

    public init(statuses: Set<SessionStatus>? = nil, agentID: AgentID? = nil, joinMethod: JoinMethod? = nil,
                text: String? = nil, createdFrom: Date? = nil, createdBefore: Date? = nil, limit: Int = 50,
                after: PageCursor? = nil) {
        self.statuses = statuses
        self.agentID = agentID
        self.joinMethod = joinMethod
        self.text = text.map { String($0.prefix(100)) }.flatMap { $0.isEmpty ? nil : $0 }
        self.createdFrom = createdFrom
        self.createdBefore = createdBefore
        self.limit = min(max(1, limit), Self.maximumLimit)
        self.after = after
    }

    /// The sessions waiting for `agent`: their own, or every waiting one for an admin.
    public static func lobby(of agent: Agent, limit: Int = SessionQuery.maximumLimit) -> SessionQuery {
        SessionQuery(statuses: [.waiting], agentID: agent.role.isAdmin ? nil : agent.id, limit: limit)
    }

    /// Whether `session` matches the filters (the stores filter in SQL; this is the reference they are
    /// tested against).
    public func matches(_ session: SupportSession) -> Bool {
        if let statuses, !statuses.contains(session.state.status) { return false }
        if let agentID, session.agentID != agentID { return false }
        if let joinMethod, session.joinMethod != joinMethod { return false }
        if let createdFrom, session.created < createdFrom { return false }
        if let createdBefore, session.created >= createdBefore { return false }
        if let text {
            let needle = text.asciiLowercased
            let haystacks = [session.endUser.name, session.invitedName ?? "", session.ticket ?? "", session.endUser.machineName]
            if !haystacks.contains(where: { $0.asciiLowercased.utf8.firstRange(of: needle.utf8) != nil }) { return false }
        }
        if let after, !(after.precedes(created: session.created, id: session.id.uuid)) { return false }
        return true
    }
}

/// Where the next page starts: the (created, id) of the last item of the previous page. Opaque text for
/// clients: `<milliseconds since 1970>.<uuid>`.
public struct PageCursor: Hashable, Sendable, CustomStringConvertible {
    public let created: Date
    public let id: UUID

    public init(created: Date, id: UUID) {
        self.created = created
        self.id = id
    }

    public init(_ text: String) throws(DomainError) {
        let parts = text.split(separator: ".", maxSplits: 1)
        guard text.utf8.count <= 64, parts.count == 2, let milliseconds = Int64(parts[0]),
              let id = UUID(uuidString: String(parts[1])) else {
            throw DomainError(.invalidField, "not a page cursor")
        }
        self.created = Date(millisecondsSince1970: milliseconds)
        self.id = id
    }

    public var description: String {
        "\(created.millisecondsSince1970).\(id.uuidString.lowercased())"
    }

    /// Whether an item at (created, id) comes after this cursor in newest-first order.
    public func precedes(created other: Date, id otherID: UUID) -> Bool {
        let mine = created.millisecondsSince1970
        let theirs = other.millisecondsSince1970
        if theirs != mine { return theirs < mine }
        return otherID.uuidString.lowercased() < id.uuidString.lowercased()
    }
}

/// One page of a listing.
public struct Page<Item: Sendable>: Sendable {
    public let items: [Item]
    /// Where the next page starts, or nil on the last page.
    public let next: PageCursor?

    public init(items: [Item], next: PageCursor?) {
        self.items = items
        self.next = next
    }
}
