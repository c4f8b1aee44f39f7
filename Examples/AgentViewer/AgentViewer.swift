import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOSSL
import RemoteSupportClient
import RemoteSupportCore

/// The agent's side of a support session: the core's `AgentConnection` on a broker connection
/// (`PeerSession`): authenticates with the login's token, follows the lobby until the session asked for
/// waits (or prints the lobby and leaves), connects, and views: each applied update goes to the window
/// (`feed`) and to `--frame-out`; input from the window or stdin goes back while the end user lets it.
final class AgentViewer: @unchecked Sendable {
    struct Options {
        var address: BrokerAddress
        var token: String
        var choice: SessionChoice
        var mode: AccessMode
        var frameOut: String?
        var tls: TLSConfiguration
    }

    /// How long the lobby must be quiet after `authenticated` before it counts as complete (the broker
    /// sends its snapshot right behind `authenticated`): `--list` prints it, `--first` picks from it.
    static let lobbySettleMilliseconds: UInt64 = 300

    let feed = ScreenFeed()
    private let options: Options
    private let log: EventLog
    private let session: PeerSession<AgentConnection>
    private let lock = NIOLock()
    // Under `lock`:
    private var lobby: [LobbyEntry] = []
    private var authenticatedAt: UInt64?
    private var lobbyChangedAt: UInt64 = 0
    private var settled = false
    private var target: LobbyEntry?
    private var grantedMode: AccessMode?
    private var sas = ""
    private var buttons: UInt16 = 0
    /// The exit status, once the outcome is known.
    private var outcome: Int32?

    init(options: Options, log: EventLog, logger: Logger) {
        self.options = options
        self.log = log
        session = PeerSession(AgentConnection(now: PeerSession<AgentConnection>.now()), address: options.address,
                              tls: options.tls, tickInterval: .milliseconds(50), logger: logger)
    }

    /// Authenticates and serves until the viewer is done; returns the process's exit status: 0 when the
    /// session ended normally (or the lobby was listed), 1 on a refusal or a failure, 2 when the broker
    /// refused the token.
    func run() async -> Int32 {
        do { try session.with { try $0.authenticate(token: options.token) } } catch {
            log.say("cannot authenticate: \(error)")
            return 1
        }
        let error = await session.run(events: { await self.handle($0) }, everyTick: { self.tick() })
        feed.finish()
        if let error, lock.withLock({ authenticatedAt == nil }) { log.say("cannot reach the broker at \(options.address): \(error)") }
        if let status = lock.withLock({ outcome }) { return status }
        log.say("the connection to the broker ended\(error.map { ": \($0)" } ?? "")")
        return 1
    }

    /// Runs `body` with the decoded screen (nil before the first screen-info), under the session's lock:
    /// keep it short.
    func withScreen<R>(_ body: (UpdateDecoder?) throws -> R) rethrows -> R {
        try session.inspect { try body($0.screen) }
    }

    // MARK: Events

    private func handle(_ event: ProtocolEvent) async {
        switch event {
        case .authenticated(let id, let info):
            log.say("signed in as \(info.name)")
            log.event("authenticated", ["agentID": id, "name": info.name])
            lock.withLock {
                authenticatedAt = PeerSession<AgentConnection>.now()
                lobby = []
                settled = false
                if grantedMode == nil { target = nil }
            }
        case .lobbySession(let entry):
            log.event("lobby-session", ["session": "\(entry.sessionID)", "name": entry.endUser.name, "machine": entry.endUser.machineName,
                                        "operatingSystem": entry.endUser.operatingSystem, "ticket": entry.ticket,
                                        "joinMethod": entry.joinMethod, "waitingSeconds": entry.waitingSeconds])
            let chosen = lock.withLock { () -> LobbyEntry? in
                lobby.removeAll { $0.sessionID == entry.sessionID }
                lobby.append(entry)
                lobbyChangedAt = PeerSession<AgentConnection>.now()
                // `first` takes the longest waiting of the snapshot; after that, whoever comes.
                guard target == nil, options.choice != .first || settled, options.choice.matches(entry) else { return nil }
                target = entry
                return entry
            }
            if let chosen { connect(to: chosen) }
        case .lobbySessionGone(let id, let reason):
            lock.withLock { lobby.removeAll { $0.sessionID == id } }
            log.event("lobby-session-gone", ["session": "\(id)", "reason": Int(reason.rawValue), "reasonText": "\(reason)"])
        case .connectRefused(let id, let reason, let message):
            log.say("the connection to the session was refused: \(Self.describe(reason, message))")
            log.event("connect-refused", ["session": "\(id)", "reason": Int(reason.rawValue), "reasonText": "\(reason)", "message": message])
            finish(1)
        case .sessionStarted(_, let mode, let code):
            let name = lock.withLock {
                grantedMode = mode
                sas = code
                return target?.endUser.name ?? "end user"
            }
            log.say("connected to \(name) (\(Self.modeName(mode))); security code \(code): compare it with the end user's")
            log.event("session-started", ["mode": Int(mode.rawValue), "sas": code])
            updateTitle()
        case .screenInfo(let width, let height, let format):
            log.event("screen-info", ["width": width, "height": height, "format": "\(format)"])
            feed.newScreen()
        case .screenUpdated(let rects):
            feed.changed(rects)
            writeFrame()
            log.event("screen-updated", ["rects": rects.count])
        case .accessChanged(let mode):
            lock.withLock { grantedMode = mode }
            log.say("the end user changed access to \(Self.modeName(mode))")
            log.event("access", ["mode": Int(mode.rawValue)])
            updateTitle()
        case .paused(let paused):
            log.say(paused ? "the end user paused sharing" : "the end user shares the screen again")
            log.event("paused", ["paused": paused])
        case .chat(let text):
            log.say("\(lock.withLock { target?.endUser.name ?? "end user" }): \(text)")
            log.event("chat", ["text": text])
        case .clipboard(let text):
            log.say("the end user sent clipboard text (\(text.utf8.count) bytes)")
            log.event("clipboard", ["text": text])
        case .peerAway(let grace):
            log.say("the end user's connection dropped; waiting up to \(grace) s")
            log.event("peer-away", ["grace": Int(grace)])
        case .peerResumed:
            log.say("the end user is back")
            log.event("peer-resumed")
        case .sessionEnded(let reason, let message):
            log.say("the session ended: \(Self.describe(reason, message))")
            log.event("session-ended", ["reason": Int(reason.rawValue), "reasonText": "\(reason)", "message": message])
            finish([CloseReason.normal, .endedByAgent, .endedByEndUser].contains(reason) ? 0 : 1)
        case .closed(let reason, let message, let byPeer):
            log.event("closed", ["reason": Int(reason.rawValue), "reasonText": "\(reason)", "message": message, "byPeer": byPeer])
            if reason == .peerLost && lock.withLock({ authenticatedAt == nil }) {
                // Never got in: no point trying again (`run` says why).
                finish(1)
            } else if byPeer && reason == .authenticationFailed {
                log.say("the broker refused the token: \(message.isEmpty ? "log in again" : message)")
                finish(2)
            } else if byPeer && lock.withLock({ outcome == nil }) && ![CloseReason.peerLost, .shuttingDown, .timeout].contains(reason) {
                // Not resumable: over.
                log.say("the broker closed the connection: \(Self.describe(reason, message))")
                finish(1)
            }
        default:
            break
        }
    }

    /// On the clock: once the lobby's snapshot is in, list it or pick from it.
    private func tick() {
        enum Step { case list([LobbyEntry]), connect(LobbyEntry), wait }
        let now = PeerSession<AgentConnection>.now()
        let step = lock.withLock { () -> Step? in
            guard let at = authenticatedAt, !settled, now >= max(at, lobbyChangedAt) + Self.lobbySettleMilliseconds else { return nil }
            settled = true
            if options.choice == .list { return .list(lobby) }
            guard target == nil else { return nil }
            guard let entry = options.choice.pick(from: lobby) else { return .wait }
            target = entry
            return .connect(entry)
        }
        switch step {
        case .list(let entries):
            printLobby(entries)
            finish(0)
        case .connect(let entry):
            connect(to: entry)
        case .wait:
            switch options.choice {
            case .id(let id): log.say("session \(id) is not waiting; waiting for it")
            case .named(let name): log.say("waiting for \(name) to join")
            default: log.say("no session is waiting; waiting for one")
            }
        case nil:
            break
        }
    }

    private func connect(to entry: LobbyEntry) {
        log.say("connecting to \(entry.endUser.name) on \(entry.endUser.machineName) (session \(entry.sessionID))")
        do {
            try session.with { try $0.connect(to: entry.sessionID, mode: options.mode) }
        } catch {
            log.say("cannot connect: \(error)")
            finish(1)
        }
    }

    /// Decides the exit status (the first decision counts) and closes the connection.
    private func finish(_ status: Int32) {
        let first = lock.withLock { () -> Bool in
            guard outcome == nil else { return false }
            outcome = status
            return true
        }
        if first { session.stop(.normal) }
    }

    private func printLobby(_ entries: [LobbyEntry]) {
        log.event("lobby", ["count": entries.count])
        guard !log.jsonLines else { return }
        guard !entries.isEmpty else {
            print("No session is waiting.")
            return
        }
        let rows = [["SESSION", "NAME", "MACHINE", "TICKET", "JOINED BY", "WAITING"]]
            + entries.sorted { $0.joinedAt < $1.joinedAt }.map {
                ["\($0.sessionID)", $0.endUser.name, $0.endUser.machineName, $0.ticket.isEmpty ? "-" : $0.ticket, $0.joinMethod, $0.waitingText]
            }
        let widths = (0..<6).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces))
        }
    }

    // MARK: The screen

    /// "<end user> - <mode> - security code 123 456"
    private func updateTitle() {
        let title = lock.withLock { () -> String? in
            guard let mode = grantedMode else { return nil }
            return "\(target?.endUser.name ?? "end user") - \(Self.modeName(mode)) - security code \(sas)"
        }
        if let title { feed.setTitle(title) }
    }

    private func writeFrame() {
        guard let path = options.frameOut, let snapshot = withScreen({ $0.map(FrameFile.Snapshot.init) }) else { return }
        do { try FrameFile.write(FrameFile.ppm(of: snapshot), to: path) } catch { log.say("cannot write \(path): \(error)") }
    }

    // MARK: Input (the window, stdin)

    /// The pointer at (x, y) of the end user's screen; false when input is not allowed now.
    @discardableResult
    func pointer(x: Int, y: Int, buttons: UInt16, wheelX: Int = 0, wheelY: Int = 0) -> Bool {
        lock.withLock { self.buttons = buttons }
        return (try? session.with { try $0.sendPointer(x: x, y: y, buttons: buttons, wheelX: wheelX, wheelY: wheelY) }) ?? false
    }

    @discardableResult
    func key(_ keysym: UInt32, down: Bool) -> Bool {
        (try? session.with { try $0.sendKey(keysym: keysym, down: down) }) ?? false
    }

    /// Ends the session (the window closed, or `end`): the end user is told, and the viewer leaves.
    func endSession() {
        do {
            try session.with { try $0.endSession(.endedByAgent) }
            log.say("you ended the session")
            finish(0)
        } catch {
            // No session (still waiting in the lobby): just leave.
            finish(lock.withLock { grantedMode == nil } ? 1 : 0)
        }
    }

    /// A line from stdin: click X Y [BUTTON], move X Y, key KEYSYM, type TEXT, clipboard TEXT, chat TEXT,
    /// refresh, end.
    func command(_ line: String) {
        let (word, rest) = line.firstIndex(of: " ").map { (String(line[..<$0]), String(line[line.index(after: $0)...])) } ?? (line, "")
        let numbers = rest.split(separator: " ").map { Int($0) }
        var sent = true
        do {
            switch word {
            case "click":
                guard (2...3).contains(numbers.count), let x = numbers[0], let y = numbers[1],
                      let button = numbers.count == 3 ? numbers[2] : 1, (1...5).contains(button) else { return usage("click X Y [BUTTON 1-5]") }
                sent = pointer(x: x, y: y, buttons: 1 << (button - 1)) && pointer(x: x, y: y, buttons: 0)
            case "move":
                guard numbers.count == 2, let x = numbers[0], let y = numbers[1] else { return usage("move X Y") }
                sent = pointer(x: x, y: y, buttons: lock.withLock { buttons })
            case "key":
                guard let keysym = Keysym.parse(rest.trimmingCharacters(in: .whitespaces)) else { return usage("key KEYSYM (0xff0d or 65293)") }
                sent = key(keysym, down: true) && key(keysym, down: false)
            case "type":
                sent = Keysym.typing(Self.unescape(rest)).allSatisfy { key($0.keysym, down: $0.down) }
            case "clipboard": try session.with { try $0.sendClipboard(Self.unescape(rest)) }
            case "chat": try session.with { try $0.sendChat(rest) }
            case "refresh": try session.with { try $0.requestRefresh() }
            case "end", "quit": endSession()
            case "": return
            default: return usage("click X Y [BUTTON], move X Y, key KEYSYM, type TEXT, clipboard TEXT, chat TEXT, refresh, end")
            }
        } catch {
            log.say("\(word): \(error)")
            return
        }
        if !sent { log.say("\(word): not sent: no session, or the end user has not granted control (or paused)") }
        log.event("command", ["command": word, "sent": sent])
    }

    private func usage(_ text: String) { log.say("usage: \(text)") }

    /// `\n` is a newline and `\\` a backslash in `type` and `clipboard` text (a line cannot hold a newline).
    static func unescape(_ text: String) -> String {
        var out = "", escaped = false
        for c in text {
            if escaped {
                out.append(c == "n" ? "\n" : c == "t" ? "\t" : c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return escaped ? out + "\\" : out
    }

    static func modeName(_ mode: AccessMode) -> String { mode == .control ? "control" : "view only" }

    static func describe(_ reason: CloseReason, _ message: String) -> String {
        "\(reason)" + (message.isEmpty ? "" : " (\(message))")
    }
}
