import Foundation
import RemoteSupportCore

/// What happens to sessions, as the hub tells its listeners: the lobby (protocol agents and consoles),
/// webhooks and metrics.
public enum SessionChange: Sendable {
    /// An end user joined and waits.
    case waiting(SupportSession)
    /// An agent connected to it.
    case connected(SupportSession, agent: Agent)
    /// It left the lobby without a connection (the end user left, expired, refused).
    case cancelled(SessionID, reason: String)
    /// A connected session ended.
    case ended(SessionID, reason: String)

    public var sessionID: SessionID {
        switch self {
        case .waiting(let s), .connected(let s, _): s.id
        case .cancelled(let id, _), .ended(let id, _): id
        }
    }

    /// The webhook and event-stream name.
    public var kind: String {
        switch self {
        case .waiting: "session.waiting"
        case .connected: "session.connected"
        case .cancelled: "session.cancelled"
        case .ended: "session.ended"
        }
    }
}

/// Someone who follows the lobby: sees a waiting session if `agent` may (their own, or all for an admin).
struct LobbySubscriber: Sendable {
    let agent: Agent
    /// Called under the hub's lock: must not block (queue the change and return).
    let deliver: @Sendable (LobbyDelivery) -> Void
    /// Called when the broker shuts down: end the stream (so the request it serves can finish).
    var finish: @Sendable () -> Void = {}
}

/// One lobby change for one subscriber.
public enum LobbyDelivery: Sendable {
    case added(SupportSession)
    case removed(SessionID, reason: CloseReason)
}

extension LobbyEntry {
    init(_ session: SupportSession) {
        self.init(sessionID: session.id,
                  endUser: EndUserInfo(name: session.displayName, machineName: session.endUser.machineName,
                                       operatingSystem: session.endUser.operatingSystem),
                  ticket: session.ticket ?? "", joinMethod: session.joinMethod.rawValue,
                  joinedAt: Int64(session.created.timeIntervalSince1970 * 1000))
    }
}
