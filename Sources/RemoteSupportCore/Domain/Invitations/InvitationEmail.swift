import Foundation

/// The text of the e-mail an agent sends an end user: a subject and a plain-text body with the link and,
/// if one was issued, the connection ID and until when it is valid. Every value that ends up in the
/// subject is flattened to one line (CR, LF and other controls become spaces), so a name or ticket typed
/// by anyone cannot add a header; the mail layer encodes the rest.
public struct InvitationEmail: Hashable, Sendable {
    public let subject: String
    public let body: String

    public struct Content: Sendable {
        public var agentName: String
        public var agentTitle: String
        public var organisation: String
        public var link: String
        public var endUserName: String?
        public var ticket: String?
        public var connectionID: ConnectionID?
        public var connectionIDExpires: Date?

        public init(agentName: String, agentTitle: String = "", organisation: String = "", link: String,
                    endUserName: String? = nil, ticket: String? = nil,
                    connectionID: ConnectionID? = nil, connectionIDExpires: Date? = nil) {
            self.agentName = agentName
            self.agentTitle = agentTitle
            self.organisation = organisation
            self.link = link
            self.endUserName = endUserName
            self.ticket = ticket
            self.connectionID = connectionID
            self.connectionIDExpires = connectionIDExpires
        }
    }

    public init(_ content: Content) {
        let agent = TextRules.oneLine(content.agentName, max: 100)
        let ticket = content.ticket.map { TextRules.oneLine($0, max: 64) }.flatMap { $0.isEmpty ? nil : $0 }
        let organisation = TextRules.oneLine(content.organisation, max: 100)
        var subject = "Remote support session with \(agent)"
        if !organisation.isEmpty { subject += " (\(organisation))" }
        if let ticket { subject += " - ticket \(ticket)" }
        self.subject = subject

        var lines: [String] = []
        if let name = content.endUserName.map({ TextRules.oneLine($0, max: 100) }), !name.isEmpty {
            lines.append("Hello \(name),")
        } else {
            lines.append("Hello,")
        }
        lines.append("")
        let title = TextRules.oneLine(content.agentTitle, max: 100)
        lines.append("\(agent)\(title.isEmpty ? "" : ", \(title)")\(organisation.isEmpty ? "" : " at \(organisation)"), "
                     + "has invited you to a remote support session\(ticket.map { " for ticket \($0)" } ?? "").")
        lines.append("")
        lines.append("To start, open this link and follow the steps on the page:")
        lines.append("")
        lines.append("    \(TextRules.oneLine(content.link, max: 2048))")
        if let code = content.connectionID {
            lines.append("")
            var line = "Or enter this connection ID in the support client: \(code.formatted)"
            if let expires = content.connectionIDExpires {
                line += " (valid until \(Self.timestamp(expires)))"
            }
            lines.append(line + ".")
        }
        lines.append("")
        lines.append("Nobody can see or control your computer until you agree in the support client,")
        lines.append("and you can end the session at any time.")
        lines.append("")
        lines.append("If you did not expect this message, you can ignore it.")
        body = lines.joined(separator: "\n") + "\n"
    }

    /// `2026-11-25 14:05 UTC`: unambiguous for a reader anywhere.
    static func timestamp(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)) UTC"
    }
}
