import ArgumentParser
import Foundation
import Logging
import NIOSSL
import RemoteSupportClient
import RemoteSupportCore

/// rs-viewer: the agent's side. Logs in to the broker (or takes a token), follows the lobby, connects to
/// a waiting session, and shows the end user's screen in a window (or, `--headless`, in a file), sending
/// mouse and keyboard while the end user allows control. Type `chat <text>`, `clipboard <text>`,
/// `refresh` or `end` while it runs (and, headless, `click`, `move`, `key`, `type`).
@main
struct ViewerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rs-viewer",
        abstract: "Log in as an agent, pick a waiting session and view and control its screen.",
        discussion: """
            Exit status: 0 when the session ended normally (either side ended it) or the lobby was listed, \
            1 when the connection was refused or failed, 2 on bad usage or a login problem.
            Commands on stdin: click X Y [BUTTON], move X Y, key KEYSYM (0xff0d or decimal), type TEXT \
            (\\n is Return), clipboard TEXT, chat TEXT, refresh, end.
            """)

    // Secrets and names may begin with "-" (a base64url token does one time in 64): such options take
    // the next argument whatever it looks like.
    @Option(help: "The broker's address.") var broker: String = "http://127.0.0.1:8080"
    @Option(help: "Your e-mail address (log in with it and a password).") var email: String?
    @Option(parsing: .unconditional, help: "Your password (visible to other users of this machine: prefer --password-file or RS_PASSWORD).") var password: String?
    @Option(help: "A file whose first line is your password.") var passwordFile: String?
    @Option(parsing: .unconditional, help: "A bearer token from an earlier login, instead of --email.") var token: String?
    @Option(help: "Use the protocol's TCP port (host:port) instead of the WebSocket at <broker>/ws.") var tcp: String?
    @Flag(help: "TLS on the --tcp connection.") var tls = false
    @Option(help: "A PEM file of certificates to trust (a broker with a private CA or a self-signed certificate).") var caFile: String?

    @Flag(help: "Print the waiting sessions and exit.") var list = false
    @Option(help: "Connect to this waiting session (its id).") var session: String?
    @Option(parsing: .unconditional, help: "Wait for an end user of this name and connect to them.") var waitFor: String?
    @Flag(help: "Connect to the session waiting longest (or the next to come).") var first = false
    @Option(help: "What to ask the end user for: control or view.") var mode: String = "control"

    @Flag(help: "No window: the screen goes to --frame-out, input comes from stdin.") var headless = false
    @Option(help: "Write the screen to this PPM file after every update.") var frameOut: String?
    @Flag(help: "Print events as JSON lines on stdout.") var events = false

    /// Bad usage exits with status 2 (ArgumentParser's own is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var viewer = command as? AsyncParsableCommand { try await viewer.run() } else { try command.run() }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    func validate() throws {
        guard (token == nil) != (email == nil) else { throw ValidationError("give --email (and a password) or --token") }
        if token != nil && (password != nil || passwordFile != nil) { throw ValidationError("--password and --password-file go with --email") }
        guard [list, session != nil, waitFor != nil, first].filter({ $0 }).count == 1 else {
            throw ValidationError("give one of --list, --session <id>, --wait-for <name>, --first")
        }
        if let session, SessionID(session) == nil { throw ValidationError("--session: \(session) is not a session id") }
        guard mode == "control" || mode == "view" else { throw ValidationError("--mode: control or view") }
        if tls && tcp == nil { throw ValidationError("--tls goes with --tcp") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let log = EventLog(jsonLines: events)
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        if let caFile { tlsConfiguration.trustRoots = .file(caFile) }
        let address = try address()

        let bearer: String
        if let token {
            bearer = token
        } else {
            let secret = try readPassword()
            do {
                bearer = try await BrokerLogin.login(broker: broker, email: email!, password: secret, tls: tlsConfiguration).token
            } catch {
                log.say(error.description)
                throw ExitCode(error.kind == .refused ? 2 : 1)
            }
        }

        if !headless {
            do { try await MainActor.run { try ViewerWindow.initialize() } } catch {
                log.say("\(error)")
                throw ExitCode(1)
            }
        }
        let viewer = AgentViewer(options: .init(address: address, token: bearer, choice: choice(), mode: mode == "view" ? .viewOnly : .control,
                                                frameOut: frameOut, tls: tlsConfiguration),
                                 log: log, logger: Logger(label: "rs-viewer"))
        log.say("connecting to \(address)")
        // stdin on a thread of its own: a blocked read must not hold one of the few task threads.
        Thread.detachNewThread {
            while let line = readLine() { viewer.command(line.trimmingCharacters(in: .whitespaces)) }
        }
        let status: Int32
        if headless {
            // Ctrl-C or SIGTERM ends the session properly (the window's SDL turns them into a close).
            let interrupts = [SIGINT, SIGTERM].map { signalNumber in
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler { viewer.endSession() }
                source.resume()
                return source
            }
            defer { interrupts.forEach { $0.cancel() } }
            status = await viewer.run()
        } else {
            // The window on the main thread; the network on PeerSession's tasks.
            let network = Task { await viewer.run() }
            await MainActor.run { ViewerWindow(viewer: viewer, log: log).run() }
            status = await network.value
        }
        throw ExitCode(status)
    }

    private func choice() -> SessionChoice {
        if let session, let id = SessionID(session) { return .id(id) }
        if let waitFor { return .named(waitFor) }
        return first ? .first : .list
    }

    /// The password from --password, --password-file, RS_PASSWORD, or asked at the terminal (not echoed).
    private func readPassword() throws -> String {
        if let password { return password }
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw ValidationError("--password-file: cannot read \(passwordFile)")
            }
            return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        if let value = ProcessInfo.processInfo.environment["RS_PASSWORD"] { return value }
        if isatty(0) == 1, let typed = getpass("Password for \(email ?? ""): ") { return String(cString: typed) }
        throw ValidationError("give the password with --password-file, RS_PASSWORD or --password")
    }

    /// The WebSocket at --broker, or --tcp.
    private func address() throws -> BrokerAddress {
        do {
            if let tcp { return try BrokerAddress(tcp: tcp, tls: tls) }
            return try BrokerAddress(brokerURL: broker)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
