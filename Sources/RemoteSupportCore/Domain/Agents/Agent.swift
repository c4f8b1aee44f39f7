import Foundation

/// A helpdesk agent's account, without its secret (the password hash lives in `AgentCredential`, so
/// nothing that lists agents can leak it).
///
/// Invariants: `email` unique among agents case-insensitively; `slug` unique and permanent (their
/// personal link must keep working when they change their name); `name` and `jobTitle` pass `TextRules`.
public struct Agent: Hashable, Sendable, Codable, Identifiable {
    public let id: AgentID
    public var email: EmailAddress
    public var name: String
    public var jobTitle: String
    public var role: AgentRole
    public var enabled: Bool
    /// The personal link's path component: `<public URL>/join/<slug>`.
    public let slug: AgentSlug
    public let created: Date
    public var lastLogin: Date?

    public init(id: AgentID = AgentID(), email: EmailAddress, name: String, jobTitle: String = "",
                role: AgentRole = .agent, enabled: Bool = true, slug: AgentSlug, created: Date,
                lastLogin: Date? = nil) throws(DomainError) {
        self.id = id
        self.email = email
        self.name = try TextRules.displayName.validate(name)
        self.jobTitle = try TextRules.jobTitle.validate(jobTitle)
        self.role = role
        self.enabled = enabled
        self.slug = slug
        self.created = created
        self.lastLogin = lastLogin
    }

    /// Profile edit by the agent: each field validated, nothing changed if any is invalid.
    public mutating func updateProfile(_ edit: ProfileEdit) throws(DomainError) {
        var copy = self
        if let name = edit.name { copy.name = try TextRules.displayName.validate(name) }
        if let title = edit.jobTitle { copy.jobTitle = try TextRules.jobTitle.validate(title) }
        if let email = edit.email { copy.email = try EmailAddress(email) }
        self = copy
    }
}

/// The fields an agent may change about themselves; nil leaves a field as it is.
public struct ProfileEdit: Sendable, Codable, Hashable {
    public var name: String?
    public var email: String?
    public var jobTitle: String?

    public init(name: String? = nil, email: String? = nil, jobTitle: String? = nil) {
        self.name = name
        self.email = email
        self.jobTitle = jobTitle
    }
}
