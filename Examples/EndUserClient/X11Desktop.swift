import Foundation
import RemoteSupportCore

/// The end user's X11 session: the root window as the shared screen (`X11Screen`, with XTest input),
/// the clipboard (`X11Clipboard`) and the "being supported" indicator (`SupportIndicator`), each on its
/// own connection to the display.
final class X11Desktop: LocalDesktop, @unchecked Sendable {
    let screen: X11Screen
    private let clipboard: X11Clipboard
    private let indicator: SupportIndicator
    private let lock = NSLock()
    private var agent = ""
    private var clipboardChanged: (@Sendable (String) -> Void)?

    init(displayName: String) throws(X11Error) {
        screen = try X11Screen(displayName: displayName)
        indicator = try SupportIndicator(displayName: displayName)
        let forward = Forward()
        clipboard = try X11Clipboard(displayName: displayName) { text in forward.desktop?.localClipboardChanged(text) }
        forward.desktop = self
    }

    /// Lets the clipboard's thread reach the desktop that owns it (set once, after init).
    private final class Forward: @unchecked Sendable {
        weak var desktop: X11Desktop?
    }

    private func localClipboardChanged(_ text: String) {
        lock.withLock { clipboardChanged }?(text)
    }

    func sessionStarted(agent: String, mode: AccessMode, clipboardChanged: @escaping @Sendable (String) -> Void) {
        lock.withLock {
            self.agent = agent
            self.clipboardChanged = clipboardChanged
        }
        indicator.show(Self.text(agent: agent, mode: mode, paused: false))
        clipboard.watch(true)
    }

    func sessionChanged(mode: AccessMode, paused: Bool) {
        indicator.show(Self.text(agent: lock.withLock { agent }, mode: mode, paused: paused))
    }

    func sessionEnded() {
        lock.withLock { clipboardChanged = nil }
        clipboard.watch(false)
        indicator.hide()
        screen.releaseInput()
    }

    func setClipboard(_ text: String) { clipboard.set(text) }

    static func text(agent: String, mode: AccessMode, paused: Bool) -> String {
        paused
            ? "Paused: \(agent) sees nothing now - type 'resume' or 'end' in the terminal"
            : "Being supported by \(agent) (\(mode)) - type 'end' in the terminal to stop"
    }
}
