/// What the broker's side of one peer's connection reports, polled with `nextEvent()`.
public enum BrokerEvent: Hashable, Sendable {
    /// The peer's hello arrived: who it is and what it runs.
    case hello(PeerRole, software: String)
    /// An end user wants to join; answer with `acceptJoin` or `close(.joinRefused, ...)`.
    case joinRequested(JoinCredential, EndUserInfo)
    /// An agent shows a token; answer with `acceptAgent` or `close(.authenticationFailed, ...)`.
    case authenticateRequested(token: String)
    /// A peer comes back with a resume token; answer with `acceptResume` or `close(.resumeRefused, ...)`.
    case resumeRequested(ResumeToken)
    /// An agent asks to connect; ask the end user (`requestConsent` on their connection), then
    /// `sendConnected` or `refuseConnect`.
    case connectRequested(SessionID, mode: AccessMode, agentKey: KeyShare)
    /// The end user answered a connect request: nil declined.
    case consentAnswered(AccessMode?, endUserKey: KeyShare?)
    /// A session record to relay, unread, to the other side (`relay`).
    case record(SessionRecord)
    /// The peer ended the session (an agent stays connected, in the lobby).
    case sessionEndRequested(CloseReason, String)
    /// The connection closed: by the peer (with its reason), or here after an error or `close`.
    case closed(CloseReason, String, byPeer: Bool)
}
