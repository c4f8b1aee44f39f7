import Foundation
import RemoteSupportCore

/// The API's list filters, read from query parameters: a clear `.invalidField` for anything malformed or
/// out of range, never a value the store cannot take. Free of the web framework (the fuzz target runs it).
enum QueryFilters {
    /// Parameters by name, the first occurrence of each kept.
    static func parameters(_ pairs: some Sequence<(String, String)>) -> [String: String] {
        var out: [String: String] = [:]
        for (name, value) in pairs where out[name] == nil { out[name] = value }
        return out
    }

    /// The furthest a time may be from 1970 and still be stored (milliseconds in an Int64, years 0-9999).
    static let maximumSeconds: TimeInterval = 253_402_300_800

    /// `GET /api/v1/sessions`: status (comma list), agent, method, q, from, before, limit (1-500), after.
    static func sessions(_ q: [String: String]) throws(DomainError) -> SessionQuery {
        var statuses: Set<SessionStatus>?
        if let text = nonEmpty(q["status"]) {
            var set = Set<SessionStatus>()
            for part in text.split(separator: ",") {
                guard let status = SessionStatus(rawValue: String(part)) else {
                    throw DomainError(.invalidField, "status must be waiting, connected, ended, cancelled or expired")
                }
                set.insert(status)
            }
            statuses = set
        }
        let after: PageCursor?
        if let text = nonEmpty(q["after"]) {
            let cursor = try PageCursor(text)
            // A cursor's time must convert back to milliseconds in the store.
            guard abs(cursor.created.timeIntervalSince1970) < maximumSeconds else { throw DomainError(.invalidField, "not a page cursor") }
            after = cursor
        } else {
            after = nil
        }
        return SessionQuery(statuses: statuses, agentID: try agent(q["agent"]), joinMethod: nonEmpty(q["method"]).map(JoinMethod.init(rawValue:)),
                            text: q["q"], createdFrom: try time(q["from"], "from"), createdBefore: try time(q["before"], "before"),
                            limit: try limit(q["limit"], default: 50, maximum: SessionQuery.maximumLimit), after: after)
    }

    /// `GET /api/v1/audit`: action, agent, since, until, before (a sequence number), limit (1-500).
    static func audit(_ q: [String: String]) throws(DomainError) -> AuditQuery {
        var query = AuditQuery()
        query.action = nonEmpty(q["action"]).map(AuditAction.init(rawValue:))
        query.agentID = try agent(q["agent"])
        query.since = try time(q["since"], "since")
        query.until = try time(q["until"], "until")
        if let text = nonEmpty(q["before"]) {
            guard let n = Int64(text), n > 0 else { throw DomainError(.invalidField, "before must be a sequence number") }
            query.before = n
        }
        query.limit = try limit(q["limit"], default: 100, maximum: 500)
        return query
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    private static func agent(_ text: String?) throws(DomainError) -> AgentID? {
        guard let text = nonEmpty(text) else { return nil }
        guard let id = AgentID(text) else { throw DomainError(.invalidField, "agent must be an agent id") }
        return id
    }

    private static func limit(_ text: String?, default value: Int, maximum: Int) throws(DomainError) -> Int {
        guard let text = nonEmpty(text) else { return value }
        guard let n = Int(text), n >= 1, n <= maximum else { throw DomainError(.invalidField, "limit must be 1 to \(maximum)") }
        return n
    }

    private static func time(_ text: String?, _ name: String) throws(DomainError) -> Date? {
        guard let text = nonEmpty(text) else { return nil }
        guard let date = parseRFC3339(text), abs(date.timeIntervalSince1970) < maximumSeconds else {
            throw DomainError(.invalidField, "\(name) must be an RFC 3339 time")
        }
        return date
    }
}

/// Parses RFC 3339 (with or without fractional seconds; "t" and "z" may be lower case, RFC 3339 5.6).
func parseRFC3339(_ text: String) -> Date? {
    guard text.utf8.count <= 64 else { return nil }
    let text = text.uppercased()
    return (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
}
