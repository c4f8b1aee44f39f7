/// How an end user reached the agent. Open: a method this build does not know survives reading.
public struct JoinMethod: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The agent's permanent personal link.
    public static let personalLink = JoinMethod(rawValue: "personal-link")
    /// A signed invitation link (with ticket and/or name).
    public static let invitation = JoinMethod(rawValue: "invitation")
    /// A 6-digit connection ID.
    public static let connectionID = JoinMethod(rawValue: "connection-id")

    public var description: String { rawValue }
}
