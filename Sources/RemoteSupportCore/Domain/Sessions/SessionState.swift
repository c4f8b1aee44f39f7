import Foundation

/// Where a support session is. Every state carries what only it has, so "connected without an agent" or
/// "ended without a reason" cannot be represented.
///
///     waiting ──connect──> connected ──end──> ended
///        │ └──cancel──> cancelled
///        └────expire──> expired
public enum SessionState: Hashable, Sendable {
    case waiting
    case connected(agent: AgentID, since: Date)
    case ended(agent: AgentID, connected: Date, reason: SessionEndReason, at: Date)
    case cancelled(reason: SessionEndReason, at: Date)
    case expired(at: Date)

    public var status: SessionStatus {
        switch self {
        case .waiting: .waiting
        case .connected: .connected
        case .ended: .ended
        case .cancelled: .cancelled
        case .expired: .expired
        }
    }

    /// When the session stopped, for the final states.
    public var finished: Date? {
        switch self {
        case .waiting, .connected: nil
        case .ended(_, _, _, let at), .cancelled(_, let at), .expired(let at): at
        }
    }
}

/// The state's name, for queries, storage and display.
public enum SessionStatus: String, Hashable, Sendable, Codable, CaseIterable {
    case waiting, connected, ended, cancelled, expired

    public var isFinal: Bool { self == .ended || self == .cancelled || self == .expired }
}

/// Why a session stopped. Open, so new reasons (from newer clients) survive storage.
public struct SessionEndReason: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = String(rawValue.prefix(64)) }

    public static let agentEnded = SessionEndReason(rawValue: "agent-ended")
    public static let endUserEnded = SessionEndReason(rawValue: "end-user-ended")
    public static let endUserLeft = SessionEndReason(rawValue: "end-user-left")
    public static let agentDeclined = SessionEndReason(rawValue: "agent-declined")
    public static let consentDenied = SessionEndReason(rawValue: "consent-denied")
    public static let connectionLost = SessionEndReason(rawValue: "connection-lost")
    public static let brokerRestarted = SessionEndReason(rawValue: "broker-restarted")
    public static let waitedTooLong = SessionEndReason(rawValue: "waited-too-long")

    public var description: String { rawValue }
}
