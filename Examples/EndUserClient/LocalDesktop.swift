import RemoteSupportCore

/// What a real desktop does around the shared screen while a session runs: shows that someone is
/// connected, shares the clipboard, and lets go of what the agent held at the end.
/// (The synthetic desktop has none of this.) Calls come from the session's event handling, in order.
protocol LocalDesktop: AnyObject, Sendable {
    /// The session runs: show the indicator, start sending local clipboard changes to `clipboardChanged`.
    func sessionStarted(agent: String, mode: AccessMode, clipboardChanged: @escaping @Sendable (String) -> Void)
    /// The end user paused or resumed, or changed what the agent may do.
    func sessionChanged(mode: AccessMode, paused: Bool)
    /// The session is over: remove the indicator, stop the clipboard, release held keys and buttons.
    func sessionEnded()
    /// Clipboard text from the agent.
    func setClipboard(_ text: String)
}
