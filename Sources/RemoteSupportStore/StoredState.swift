import Foundation
import RemoteSupportCore

/// A session's state as both stores keep it: flat columns (see docs/storage.md), turned back into the
/// one enum with every combination checked, so a damaged row is an error, not a half-valid session.
public struct StoredSessionState: Hashable, Sendable {
    public var status: String
    public var agentID: String?
    public var connectedAt: Int64?
    public var finishedAt: Int64?
    public var endReason: String?

    public init(status: String, agentID: String?, connectedAt: Int64?, finishedAt: Int64?, endReason: String?) {
        self.status = status
        self.agentID = agentID
        self.connectedAt = connectedAt
        self.finishedAt = finishedAt
        self.endReason = endReason
    }

    public init(_ state: SessionState) {
        switch state {
        case .waiting:
            self.init(status: "waiting", agentID: nil, connectedAt: nil, finishedAt: nil, endReason: nil)
        case .connected(let agent, let since):
            self.init(status: "connected", agentID: agent.description, connectedAt: since.millisecondsSince1970,
                      finishedAt: nil, endReason: nil)
        case .ended(let agent, let connected, let reason, let at):
            self.init(status: "ended", agentID: agent.description, connectedAt: connected.millisecondsSince1970,
                      finishedAt: at.millisecondsSince1970, endReason: reason.rawValue)
        case .cancelled(let reason, let at):
            self.init(status: "cancelled", agentID: nil, connectedAt: nil, finishedAt: at.millisecondsSince1970,
                      endReason: reason.rawValue)
        case .expired(let at):
            self.init(status: "expired", agentID: nil, connectedAt: nil, finishedAt: at.millisecondsSince1970,
                      endReason: nil)
        }
    }

    public func state() throws -> SessionState {
        func agent() throws -> AgentID {
            guard let text = agentID, let id = AgentID(text) else { throw StoreError(.corrupt, "session row without its agent") }
            return id
        }
        func time(_ value: Int64?) throws -> Date {
            guard let value else { throw StoreError(.corrupt, "session row without its time") }
            return Date(millisecondsSince1970: value)
        }
        func reason() throws -> SessionEndReason {
            guard let endReason else { throw StoreError(.corrupt, "session row without its end reason") }
            return SessionEndReason(rawValue: endReason)
        }
        switch status {
        case "waiting": return .waiting
        case "connected": return .connected(agent: try agent(), since: try time(connectedAt))
        case "ended":
            return .ended(agent: try agent(), connected: try time(connectedAt), reason: try reason(), at: try time(finishedAt))
        case "cancelled": return .cancelled(reason: try reason(), at: try time(finishedAt))
        case "expired": return .expired(at: try time(finishedAt))
        default: throw StoreError(.corrupt, "unknown session status")
        }
    }
}

extension StoreError {
    /// Wraps a domain validation error raised while reading a row back.
    public static func corrupt(_ what: String, _ error: any Error) -> StoreError {
        StoreError(.corrupt, "\(what): \(error)")
    }
}
