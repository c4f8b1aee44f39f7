import ArgumentParser
import Foundation
import Logging
import NIOSSL
import RemoteSupportClient
import RemoteSupportCore

/// rs-client: the end user's side. Joins a broker's waiting list with a link or a 6-digit connection ID,
/// shows who wants to connect and asks before anything is shared, then shares the screen and applies the
/// agent's input while the end user allowed control. Type `pause`, `resume`, `view`, `control`,
/// `chat <text>` or `end` while it runs.
@main
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rs-client",
        abstract: "Get remote support: join with a link or a connection ID and share your screen once you allow it.")

    @Option(help: "The link your agent gave you (personal or invitation).") var link: String?
    @Option(help: "The 6-digit connection ID your agent gave you.") var code: String?
    @Option(help: "The broker's address, e.g. https://support.example.com (default: from --link).") var broker: String?
    @Option(help: "Use the protocol's TCP port (host:port) instead of the WebSocket at <broker>/ws.") var tcp: String?
    @Flag(help: "TLS on the --tcp connection.") var tls = false
    @Option(help: "A PEM file of certificates to trust (a broker with a private CA or a self-signed certificate).") var caFile: String?
    @Option(parsing: .unconditional, help: "Your name, as the agent sees it.") var name: String = NSUserName()
    @Option(help: "This machine's name (default: the host name).") var machine: String = ProcessInfo.processInfo.hostName
    @Option(help: "How to answer an agent: ask, control, view or decline (default ask).") var accept: String = "ask"
    @Option(help: "Share a made-up desktop of this size (WxH) instead of a real screen (1280x720 when there is no X display).")
    var synthetic: String?
    @Option(help: "The X display to share, e.g. :0 (default: $DISPLAY).") var display: String?
    @Flag(help: "Move a square on the synthetic desktop every frame (for frame-rate measurements).") var animate = false
    @Option(help: "Frames per second offered at most (default 30).") var fps: Int = 30
    @Option(help: "Write each shared frame to this PPM file (for tests and checks).") var frameOut: String?
    @Flag(help: "Print events as JSON lines on stdout (input received, session start and end).") var events = false

    func validate() throws {
        guard (link == nil) != (code == nil) else { throw ValidationError("give --link or --code (one of them)") }
        if code != nil && broker == nil && tcp == nil { throw ValidationError("--code needs --broker (or --tcp)") }
        guard ConsentPolicy(rawValue: accept) != nil else { throw ValidationError("--accept: ask, control, view or decline") }
        guard (1...120).contains(fps) else { throw ValidationError("--fps must be 1 to 120") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let log = EventLog(jsonLines: events)
        let (screen, desktop) = try screenToShare(log)

        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        if let caFile { tlsConfiguration.trustRoots = .file(caFile) }
        let options = SupportClient.Options(address: try address(), credential: link.map { .link($0) } ?? .connectionID(code!),
                                            info: EndUserInfo(name: name, machineName: machine, operatingSystem: Self.operatingSystem()),
                                            consent: ConsentPolicy(rawValue: accept)!, fps: fps, frameOut: frameOut, tls: tlsConfiguration)
        let client = SupportClient(options: options, screen: screen, desktop: desktop, log: log, logger: Logger(label: "rs-client"))
        log.say("joining \(options.address.description)")
        let commands = Task.detached {
            while let line = readLine() { client.command(line.trimmingCharacters(in: .whitespaces)) }
        }
        let status = await client.run()
        commands.cancel()
        throw ExitCode(status)
    }

    /// The X display (`--display`, else `$DISPLAY`) unless `--synthetic` is given; a made-up desktop without
    /// one, or when `$DISPLAY` cannot be opened (an explicit `--display` that cannot be opened is an error).
    private func screenToShare(_ log: EventLog) throws -> (any ScreenSource, (any LocalDesktop)?) {
        let environment = ProcessInfo.processInfo.environment["DISPLAY"].flatMap { $0.isEmpty ? nil : $0 }
        if synthetic == nil, let name = display ?? environment {
            do {
                let desktop = try X11Desktop(displayName: name)
                let s = desktop.screen
                log.say("sharing the X display \(name): \(s.width)x\(s.height), \(s.format), read with \(s.method)")
                return (s, desktop)
            } catch {
                if display != nil { throw ValidationError("--display: \(error)") }
                log.say("\(error); sharing a made-up desktop instead")
            }
        }
        let size = (synthetic ?? "1280x720").split(separator: "x").compactMap { Int($0) }
        guard size.count == 2, (1...8192).contains(size[0]), (1...8192).contains(size[1]) else {
            throw ValidationError("--synthetic: WIDTH x HEIGHT, e.g. 1280x720")
        }
        return (try SyntheticScreen(width: size[0], height: size[1], animate: animate), nil)
    }

    /// The WebSocket at the broker's address (`--broker`, or the link's scheme, host and port), or `--tcp`.
    private func address() throws -> BrokerAddress {
        do {
            if let tcp { return try BrokerAddress(tcp: tcp, tls: tls) }
            return try BrokerAddress(brokerURL: broker ?? link ?? "")
        } catch {
            throw ValidationError(error.description)
        }
    }

    private static func operatingSystem() -> String {
        let v = ProcessInfo.processInfo.operatingSystemVersion
        return "Linux \(v.majorVersion).\(v.minorVersion).\(v.patchVersion)"
    }
}
