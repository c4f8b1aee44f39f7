/// What an agent may do. Open (a stored role this build does not know survives reading and grants
/// nothing): admins add and disable agents, read the audit log and may connect to any waiting session.
public struct AgentRole: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let admin = AgentRole(rawValue: "admin")
    public static let agent = AgentRole(rawValue: "agent")

    public var isAdmin: Bool { self == .admin }
    public var description: String { rawValue }
}
