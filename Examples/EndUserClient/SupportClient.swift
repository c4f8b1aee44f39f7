import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOSSL
import RemoteSupportClient
import RemoteSupportCore

/// The end user's side of a support session: the core's `EndUserConnection` on a broker connection
/// (`PeerSession`): asks for consent, applies the agent's input to the screen, and offers the screen at
/// `fps` while a session runs (the encoder sends only what changed, within the flow-control window).
final class SupportClient: @unchecked Sendable {
    struct Options {
        var address: BrokerAddress
        var credential: JoinCredential
        var info: EndUserInfo
        var consent: ConsentPolicy
        var fps: Int
        var frameOut: String?
        var tls: TLSConfiguration
    }

    private let options: Options
    private let screen: any ScreenSource
    /// A real desktop's indicator and clipboard (nil for the synthetic one).
    private let desktop: (any LocalDesktop)?
    private let log: EventLog
    private let session: PeerSession<EndUserConnection>
    private let lock = NIOLock()
    private var agentName = ""
    private var mode = AccessMode.control
    private var paused = false
    private var writtenVersion = 0
    private var joinedOnce = false
    private var failure: String?

    init(options: Options, screen: any ScreenSource, desktop: (any LocalDesktop)? = nil, log: EventLog, logger: Logger) {
        self.options = options
        self.screen = screen
        self.desktop = desktop
        self.log = log
        session = PeerSession(EndUserConnection(now: PeerSession<EndUserConnection>.now()), address: options.address,
                              tls: options.tls, tickInterval: .milliseconds(max(10, 1000 / max(1, options.fps))), logger: logger)
    }

    /// Joins and serves until the session is over; returns the process's exit status.
    func run() async -> Int32 {
        do { try session.with { try $0.join(options.credential, options.info) } } catch {
            log.say("cannot join: \(error)")
            return 2
        }
        let error = await session.run(events: { await self.handle($0) }, everyTick: { self.shareScreen() })
        if let error, !joinedOnce { log.say("cannot reach the broker at \(options.address): \(error)") }
        if let failure { log.say(failure); return 1 }
        return joinedOnce ? 0 : 1
    }

    // MARK: Events

    private func handle(_ event: ProtocolEvent) async {
        switch event {
        case .joined(let id):
            joinedOnce = true
            log.say("waiting for an agent (session \(id))")
            log.event("joined", ["session": "\(id)"])
        case .connectRequested(let agent, let mode):
            agentName = agent.name
            log.event("connect-requested", ["agent": agent.name, "jobTitle": agent.jobTitle, "organisation": agent.organisation,
                                            "mode": Int(mode.rawValue)])
            // Answered on the side: reading (pings, a withdrawn request) goes on while the person decides.
            Task {
                let answer = await options.consent.answer(agent, asking: mode, log: log)
                do { try session.with { try $0.consent(answer) } } catch { log.say("could not answer: \(error)") }
                if answer == nil { log.say("declined; still waiting") }
            }
        case .sessionStarted(_, let mode, let sas):
            log.say("being supported by \(agentName) (\(mode)); security code \(sas): compare it with your agent's")
            log.event("session-started", ["mode": Int(mode.rawValue), "sas": sas])
            lock.withLock { (self.mode, paused) = (mode, false) }
            desktop?.sessionStarted(agent: agentName, mode: mode) { [weak self] text in self?.sendLocalClipboard(text) }
        case .peerVerified, .readyForFrame, .peerResumed:
            shareScreen()
        case .pointer(let x, let y, let buttons, let wheelX, let wheelY):
            screen.pointer(x: x, y: y, buttons: buttons, wheelX: wheelX, wheelY: wheelY)
            log.event("pointer", ["x": x, "y": y, "buttons": Int(buttons), "wheelX": wheelX, "wheelY": wheelY])
            shareScreen()
        case .key(let keysym, let down):
            screen.key(keysym: keysym, down: down)
            log.event("key", ["keysym": Int(keysym), "down": down])
            shareScreen()
        case .clipboard(let text):
            log.say("the agent sent clipboard text (\(text.utf8.count) bytes)")
            log.event("clipboard", ["text": text])
            desktop?.setClipboard(text)
        case .chat(let text):
            log.say("\(agentName): \(text)")
            log.event("chat", ["text": text])
        case .peerAway(let grace):
            log.say("the agent's connection dropped; waiting up to \(grace) s")
        case .sessionEnded(let reason, let message):
            log.say("the session ended: \(reason)\(message.isEmpty ? "" : " (\(message))")")
            log.event("session-ended", ["reason": Int(reason.rawValue), "reasonText": "\(reason)", "message": message])
            desktop?.sessionEnded()
        case .closed(let reason, let message, let byPeer):
            if reason == .joinRefused || reason == .rateLimited { failure = "the broker refused to join: \(message)" }
            log.event("closed", ["reason": Int(reason.rawValue), "reasonText": "\(reason)", "message": message, "byPeer": byPeer])
            desktop?.sessionEnded()
        default:
            break
        }
    }

    // MARK: Commands (stdin)

    /// A line from the end user: pause, resume, view, control, end, chat <text>, clipboard <text>.
    func command(_ line: String) {
        let (word, rest) = line.firstIndex(of: " ").map { (String(line[..<$0]), String(line[line.index(after: $0)...])) } ?? (line, "")
        do {
            switch word {
            case "pause": try session.with { try $0.setPaused(true) }; desktopChanged(paused: true)
            case "resume": try session.with { try $0.setPaused(false) }; desktopChanged(paused: false)
            case "view": try session.with { try $0.setAccess(.viewOnly) }; desktopChanged(mode: .viewOnly)
            case "control": try session.with { try $0.setAccess(.control) }; desktopChanged(mode: .control)
            case "chat": try session.with { try $0.sendChat(rest) }
            case "clipboard": try session.with { try $0.sendClipboard(rest) }
            case "end", "quit":
                session.with { $0.endSession() }
            case "": return
            default: log.say("commands: pause, resume, view, control, chat <text>, clipboard <text>, end")
            }
            log.event("command", ["command": word])
        } catch {
            log.say("\(word): \(error)")
        }
    }

    /// Updates the indicator after the end user changed the mode or paused.
    private func desktopChanged(mode newMode: AccessMode? = nil, paused newPaused: Bool? = nil) {
        let now = lock.withLock { () -> (mode: AccessMode, paused: Bool) in
            if let newMode { self.mode = newMode }
            if let newPaused { self.paused = newPaused }
            return (self.mode, self.paused)
        }
        desktop?.sessionChanged(mode: now.mode, paused: now.paused)
    }

    /// The end user copied text during the session: it goes to the agent.
    private func sendLocalClipboard(_ text: String) {
        do {
            try session.with { try $0.sendClipboard(text) }
            log.event("clipboard-sent", ["bytes": text.utf8.count])
        } catch {
            log.say("could not send the clipboard: \(error)")
        }
    }

    // MARK: The screen

    /// Offers the current frame when the session can take one (the encoder skips what did not change).
    private func shareScreen() {
        session.with { peer in
            guard peer.canShareFrame else { return }
            screen.withFrame { view, version in
                do {
                    let sent = try peer.shareFrame(view)
                    if sent, let path = options.frameOut, version != writtenVersion {
                        try writePPM(view, to: path)
                        writtenVersion = version
                    }
                } catch {
                    log.say("sharing the screen failed: \(error)")
                }
            }
        }
    }
}
