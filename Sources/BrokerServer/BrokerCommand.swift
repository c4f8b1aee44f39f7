import ArgumentParser
import Foundation
import Logging
import RemoteSupportBroker

/// rs-broker: the broker server. Every flag has an environment variable (`RS_<FLAG>`, e.g. `RS_PORT`) and
/// a key in the optional config file (`--config`, lines of `key = value`, the flag's name without
/// dashes); a flag wins over the environment, which wins over the file.
@main
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rs-broker",
        abstract: "The remote-support broker: accounts, invitations, the live lobby and the session relay.",
        discussion: """
            Every option can also come from the environment (RS_PORT, RS_DATABASE_URL, ...) or from a config \
            file given with --config (lines of `port = 8080`, `database-url = postgres://...`, # comments).
            """)

    @Option(help: "A config file of `key = value` lines (keys are the long option names).") var config: String?
    @Option(help: "Address to listen on (default 127.0.0.1; others need TLS or --allow-plaintext).") var host: String?
    @Option(help: "HTTP(S) and WebSocket port (default 8080; 0 picks a free one).") var port: Int?
    @Option(help: "TCP port of the wire protocol (default 8081; 0 picks a free one; --protocol-port=-1 turns it off).") var protocolPort: Int?
    @Option(help: "The base URL in links (default http(s)://host:port).") var publicURL: String?
    @Option(help: "Folder of the SQLite store (default ./rs-data).") var data: String?
    @Option(help: "PostgreSQL URL instead of SQLite (postgres://user:pass@host:5432/db?sslmode=require).") var databaseURL: String?
    @Option(help: "PEM certificate chain: serves HTTPS, WSS and TLS on the protocol port.") var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Option(help: "Mail relay for invitations: smtp://, smtp+starttls:// or smtps://user:pass@host:port.") var smtpURL: String?
    @Option(help: "From address of invitation e-mails.") var mailFrom: String?
    @Option(help: "Organisation name shown to end users.") var organisation: String?
    @Option(help: "E-mail of the first administrator (on an empty store).") var adminEmail: String?
    @Option(help: "Seconds a dropped peer may take to resume (default 60).") var grace: Int?
    @Option(help: "Bytes buffered per session direction before the sender is slowed (default 1048576).") var relayBuffer: Int?
    @Option(help: "Most protocol connections at once (default 20000).") var maxConnections: Int?
    @Option(help: "Serve the console from this folder instead of the built-in copy (for console development).") var consoleDir: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error (default info).") var logLevel: String?
    @Flag(help: "Serve plain HTTP/TCP on a non-loopback address (only behind a TLS-terminating proxy).") var allowPlaintext = false

    func run() async throws {
        let settings: Settings
        do {
            settings = try Settings(file: config, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError("\(error)")
        }
        var c = BrokerConfiguration()
        c.host = host ?? settings["host"] ?? c.host
        c.port = try port ?? settings.int("port") ?? c.port
        let protocolPort = try self.protocolPort ?? settings.int("protocol-port") ?? 8081
        c.protocolPort = protocolPort < 0 ? nil : protocolPort
        c.publicURL = publicURL ?? settings["public-url"]
        c.dataDirectory = data ?? settings["data"] ?? c.dataDirectory
        c.databaseURL = databaseURL ?? settings["database-url"]
        c.tlsCertificatePath = tlsCert ?? settings["tls-cert"]
        c.tlsKeyPath = tlsKey ?? settings["tls-key"]
        c.smtpURL = smtpURL ?? settings["smtp-url"]
        c.mailFrom = mailFrom ?? settings["mail-from"] ?? c.mailFrom
        c.organisation = organisation ?? settings["organisation"] ?? c.organisation
        c.adminEmail = adminEmail ?? settings["admin-email"] ?? c.adminEmail
        c.consoleDirectory = consoleDir ?? settings["console-dir"]
        c.allowPlaintext = allowPlaintext || settings["allow-plaintext"] == "true"
        if let g = try grace ?? settings.int("grace") { c.hub.graceSeconds = UInt32(clamping: g) }
        if let b = try relayBuffer ?? settings.int("relay-buffer") { c.hub.relayBufferBytes = b }
        if let m = try maxConnections ?? settings.int("max-connections") { c.hub.maximumConnections = m }

        let levelText = logLevel ?? settings["log-level"] ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else { throw ValidationError("--log-level: unknown level \(levelText)") }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "rs-broker")

        let broker: RunningBroker
        do {
            broker = try await Broker.start(c, logger: logger, gracefulShutdownSignals: [.sigterm, .sigint])
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("rs-broker: \(error)\n".utf8))
            throw ExitCode(2)
        }
        var lines = ["rs-broker \(Broker.version) is serving",
                     "  console:  \(broker.consoleURL)",
                     "  API:      \(broker.publicURL)/api/v1  (described at \(broker.publicURL)/openapi.yaml)",
                     "  protocol: WebSocket \(broker.publicURL.replacingOccurrences(of: "http", with: "ws"))/ws"]
        if let p = broker.protocolPort { lines.append("            TCP\(c.usesTLS ? "+TLS" : "") \(c.host):\(p)") }
        lines.append("  store:    \(c.databaseURL == nil ? "SQLite in \(c.dataDirectory)/" : "PostgreSQL")")
        if let admin = broker.firstAdmin {
            lines.append("")
            lines.append("First start: log in as \(admin.email) with the one-time password")
            lines.append("    \(admin.password)")
            lines.append("(it must be changed at the first login; it is not shown again)")
        }
        // Written at once, unbuffered: scripts wait for these lines.
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        try await broker.wait()
    }
}

/// Options from the environment (`RS_FLAG_NAME`) and a config file (`flag-name = value`).
struct Settings {
    private var values: [String: String] = [:]

    init(file: String?, environment: [String: String]) throws {
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("--config: cannot read \(file)")
            }
            do { values = try ConfigFile.parse(text) } catch { throw ValidationError("--config \(file): \(error)") }
        }
        for (name, value) in environment where name.hasPrefix("RS_") {
            values[name.dropFirst(3).lowercased().replacingOccurrences(of: "_", with: "-")] = value
        }
    }

    subscript(key: String) -> String? { values[key] }

    func int(_ key: String) throws -> Int? {
        guard let text = values[key] else { return nil }
        guard let n = Int(text) else { throw ValidationError("\(key): \(text) is not a number") }
        return n
    }
}
