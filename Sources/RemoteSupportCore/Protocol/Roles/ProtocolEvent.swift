/// What an end user's or an agent's state machine reports, polled with `nextEvent()` in the order it
/// happened. Each case says which role sees it.
public enum ProtocolEvent: Hashable, Sendable {
    /// End user: in the broker's waiting list.
    case joined(SessionID)
    /// End user: an agent, as the broker vouches for them, asks to connect; answer with `consent`.
    case connectRequested(AgentInfo, mode: AccessMode)
    /// Agent: the broker accepted the token.
    case authenticated(agentID: String, AgentInfo)
    /// Agent: a session is waiting (new or changed).
    case lobbySession(LobbyEntry)
    /// Agent: a session left the lobby.
    case lobbySessionGone(SessionID, CloseReason)
    /// Agent: the connect failed.
    case connectRefused(SessionID, CloseReason, String)
    /// Both: keys agreed; the session runs with `mode`. `shortAuthenticationString` is the same on both
    /// sides unless someone sits in between.
    case sessionStarted(SessionID, mode: AccessMode, shortAuthenticationString: String)
    /// Both: the peer's first record arrived and confirmed both keys.
    case peerVerified(SessionFeatures)
    /// Agent: the screen's size and format; the framebuffer was reset (all black until updated).
    case screenInfo(width: Int, height: Int, format: PixelFormat)
    /// Agent: an update was applied to the framebuffer; these rectangles changed.
    case screenUpdated([Rect])
    /// Agent: the end user's pointer image (RGBA), and its position.
    case cursorShape(hotX: Int, hotY: Int, width: Int, height: Int, rgba: [UInt8])
    case cursorPosition(x: Int, y: Int)
    /// End user: the agent moved the pointer / pressed buttons / turned the wheel (only in control mode).
    case pointer(x: Int, y: Int, buttons: UInt16, wheelX: Int, wheelY: Int)
    /// End user: the agent pressed or released a key (X11 keysym; only in control mode).
    case key(keysym: UInt32, down: Bool)
    /// Both: clipboard text from the peer.
    case clipboard(String)
    /// Both: a chat line from the peer.
    case chat(String)
    /// Agent: the end user changed what the agent may do.
    case accessChanged(AccessMode)
    /// Agent: the end user paused (true) or resumed (false) sharing.
    case paused(Bool)
    /// End user: the flow-control window has room: share a frame now (`shareFrame`).
    case readyForFrame
    /// Both: the peer's connection dropped; it has `graceSeconds` to come back.
    case peerAway(graceSeconds: UInt32)
    /// Both: the peer came back (the viewer gets a full refresh).
    case peerResumed
    /// Both: our own dropped connection was resumed.
    case resumed(SessionID)
    /// Both: the session is over (an end user's connection closes next; an agent is back in the lobby).
    case sessionEnded(CloseReason, String)
    /// Both: the connection closed, by the peer or by us (after a protocol error, a timeout or `close`).
    /// Send what `takeOutput` still holds, then close the transport.
    case closed(CloseReason, String, byPeer: Bool)
}
