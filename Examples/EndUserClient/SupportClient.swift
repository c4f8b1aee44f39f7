import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import RemoteSupportCore

/// The end user's side of a support session: the core's `EndUserConnection` (sans-IO) on a real
/// transport. A reader feeds received bytes into the state machine and acts on its events (asks for
/// consent, applies input to the screen); a writer sends its output and, while a session runs, offers
/// the screen at `fps` (the encoder sends only what changed, within the flow-control window). A dropped
/// connection is resumed within the broker's grace period.
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
    private let log: EventLog
    private let logger: Logger
    private let lock = NIOLock()
    private let peer: EndUserConnection
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>
    private var agentName = ""
    private var writtenVersion = 0
    private var joinedOnce = false
    private var ended = false
    private var failure: String?

    init(options: Options, screen: any ScreenSource, log: EventLog, logger: Logger) {
        self.options = options
        self.screen = screen
        self.log = log
        self.logger = logger
        peer = EndUserConnection(now: Self.now())
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds / 1_000_000 }

    /// Joins and serves until the session is over; returns the process's exit status.
    func run() async -> Int32 {
        do { try with { try $0.join(options.credential, options.info) } } catch {
            log.say("cannot join: \(error)")
            return 2
        }
        var attempt = 0
        while true {
            do {
                try await BrokerTransport.run(options.address, tls: options.tls, logger: logger) { inbound, write in
                    await self.pump(inbound: inbound, write: write)
                }
            } catch {
                log.say("connection to \(options.address.description) failed: \(error)")
            }
            let canResume = lock.withLock { () -> Bool in
                if !peer.isClosed { _ = peer.connectionLost(now: Self.now()) }
                drainEvents()
                return peer.canResume && !ended
            }
            // A dropped connection comes back within the grace period (PROTOCOL.md 13), a few times.
            guard canResume, attempt < 8 else { break }
            attempt += 1
            log.say("connection lost; resuming (attempt \(attempt))")
            try? await Task.sleep(for: .milliseconds(250 * attempt))
            do { try with { try $0.reconnect(now: Self.now()) } } catch { break }
        }
        if let failure { log.say(failure); return 1 }
        return joinedOnce ? 0 : 1
    }

    /// Runs `body` on the state machine, then lets the writer send what it queued.
    @discardableResult
    func with<T>(_ body: (EndUserConnection) throws -> T) rethrows -> T {
        let result = try lock.withLock { try body(peer) }
        wake.yield()
        return result
    }

    // MARK: The connection

    private func pump(inbound: AnyAsyncSequence<ByteBuffer>, write: @escaping @Sendable ([UInt8]) async throws -> Void) async {
        wake.yield()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.writeLoop(write) }
            group.addTask {
                // The clock: keepalive and timeouts, and the screen offered at the frame rate.
                let interval = max(10, 1000 / max(1, self.options.fps))
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(interval))
                    self.with { $0.tick(now: Self.now()) }
                    self.shareScreen()
                }
            }
            do {
                for try await buffer in inbound {
                    let events = lock.withLock { () -> [ProtocolEvent] in
                        buffer.withUnsafeReadableBytes { peer.receive($0, now: Self.now()) }
                        return drainEvents()
                    }
                    for e in events { await handle(e) }
                    wake.yield()
                    if lock.withLock({ peer.isClosed }) { break }
                }
            } catch {}
            group.cancelAll()
        }
    }

    private func writeLoop(_ write: @escaping @Sendable ([UInt8]) async throws -> Void) async {
        for await _ in wakes {
            let (bytes, closed) = lock.withLock { (peer.takeOutput(), peer.isClosed) }
            if !bytes.isEmpty { do { try await write(bytes) } catch { return } }
            if closed { return }
        }
    }

    /// Under the lock: the events the state machine has, with the ones handled at once (input) applied.
    @discardableResult
    private func drainEvents() -> [ProtocolEvent] {
        var events: [ProtocolEvent] = []
        while let e = peer.nextEvent() { events.append(e) }
        return events
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
                do { try with { try $0.consent(answer) } } catch { log.say("could not answer: \(error)") }
                if answer == nil { log.say("declined; still waiting") }
            }
        case .sessionStarted(_, let mode, let sas):
            log.say("being supported by \(agentName) (\(mode)); security code \(sas): compare it with your agent's")
            log.event("session-started", ["mode": Int(mode.rawValue), "sas": sas])
        case .peerVerified, .readyForFrame, .peerResumed:
            shareScreen()
        case .pointer(let x, let y, let buttons, let wheelX, let wheelY):
            screen.pointer(x: x, y: y, buttons: buttons)
            log.event("pointer", ["x": x, "y": y, "buttons": Int(buttons), "wheelX": wheelX, "wheelY": wheelY])
            shareScreen()
        case .key(let keysym, let down):
            screen.key(keysym: keysym, down: down)
            log.event("key", ["keysym": Int(keysym), "down": down])
            shareScreen()
        case .clipboard(let text):
            log.say("the agent sent clipboard text (\(text.utf8.count) bytes)")
            log.event("clipboard", ["text": text])
        case .chat(let text):
            log.say("\(agentName): \(text)")
            log.event("chat", ["text": text])
        case .peerAway(let grace):
            log.say("the agent's connection dropped; waiting up to \(grace) s")
        case .sessionEnded(let reason, let message):
            ended = true
            log.say("the session ended: \(reason)\(message.isEmpty ? "" : " (\(message))")")
            log.event("session-ended", ["reason": Int(reason.rawValue), "reasonText": "\(reason)", "message": message])
        case .closed(let reason, let message, let byPeer):
            if reason == .joinRefused || reason == .rateLimited { failure = "the broker refused to join: \(message)" }
            log.event("closed", ["reason": Int(reason.rawValue), "reasonText": "\(reason)", "message": message, "byPeer": byPeer])
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
            case "pause": try with { try $0.setPaused(true) }
            case "resume": try with { try $0.setPaused(false) }
            case "view": try with { try $0.setAccess(.viewOnly) }
            case "control": try with { try $0.setAccess(.control) }
            case "chat": try with { try $0.sendChat(rest) }
            case "clipboard": try with { try $0.sendClipboard(rest) }
            case "end", "quit":
                lock.withLock { ended = true }
                with { $0.endSession() }
            case "": return
            default: log.say("commands: pause, resume, view, control, chat <text>, clipboard <text>, end")
            }
            log.event("command", ["command": word])
        } catch {
            log.say("\(word): \(error)")
        }
    }

    // MARK: The screen

    /// Offers the current frame when the session can take one (the encoder skips what did not change).
    private func shareScreen() {
        lock.withLock {
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
        wake.yield()
    }
}
