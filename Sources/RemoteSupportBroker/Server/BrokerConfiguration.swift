import Foundation
import RemoteSupportCore
import RemoteSupportStore

/// Everything the broker is started with (flags, environment or config file in `rs-broker`).
public struct BrokerConfiguration: Sendable {
    /// The address to listen on. Without TLS only loopback is allowed (the protocol and the logins must
    /// not cross a network unencrypted) unless `allowPlaintext` is set for a TLS front end.
    public var host = "127.0.0.1"
    /// HTTP(S) and WebSocket port; 0 picks a free one.
    public var port = 8080
    /// The wire protocol over TCP (TLS when a certificate is given); 0 picks a free one, nil turns it off.
    public var protocolPort: Int? = 8081
    /// The base of every link the broker hands out; default `http(s)://host:port`.
    public var publicURL: String?
    /// The folder of the SQLite store (made if missing), used unless `databaseURL` is set.
    public var dataDirectory = "rs-data"
    /// A PostgreSQL URL (`postgres://user:pass@host:port/db?sslmode=...`) instead of SQLite.
    public var databaseURL: String?
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// The mail relay for invitation e-mails (`smtp://`, `smtp+starttls://`, `smtps://`); none: the
    /// console offers a mailto: link.
    public var smtpURL: String?
    /// The From address of invitation e-mails.
    public var mailFrom = "support@localhost"
    /// The organisation's name, shown to end users with the agent's name.
    public var organisation = ""
    /// The first administrator's e-mail (on an empty store).
    public var adminEmail = "admin@localhost"
    /// A folder to serve the console from instead of the copy built into the broker (for working on the
    /// console's HTML, CSS and JavaScript without rebuilding).
    public var consoleDirectory: String?
    /// Serve plain HTTP/TCP on a non-loopback address (behind a TLS-terminating front end).
    public var allowPlaintext = false
    /// Hub limits: grace period, relay buffer per session direction, connections, keepalive.
    public var hub = SessionHub.Settings()
    /// Password hashing cost (tests lower it).
    public var passwordHashing = PasswordHashParameters.default
    /// How long a graceful shutdown waits for peers to leave.
    public var shutdownGrace: Duration = .seconds(5)
    /// How often waiting sessions are checked for expiry.
    public var expirySweep: Duration = .seconds(30)

    public init() {}

    public var usesTLS: Bool { tlsCertificatePath != nil }

    /// Checks what can be checked before opening anything; the message says what to change.
    public func validate() throws(ConfigurationError) {
        guard (0...65535).contains(port) else { throw ConfigurationError("--port must be 0 to 65535, not \(port)") }
        if let p = protocolPort, !(0...65535).contains(p) {
            throw ConfigurationError("--protocol-port must be 0 to 65535, not \(p)")
        }
        if (tlsCertificatePath == nil) != (tlsKeyPath == nil) {
            throw ConfigurationError("--tls-cert and --tls-key go together")
        }
        if !usesTLS && !allowPlaintext && !Self.isLoopback(host) {
            throw ConfigurationError("""
                listening on \(host) without TLS would send logins and tokens in the clear: give --tls-cert and \
                --tls-key, or --allow-plaintext behind a TLS-terminating proxy
                """)
        }
        if let folder = consoleDirectory, !FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("index.html")) {
            throw ConfigurationError("--console-dir \(folder) has no index.html")
        }
        if let url = publicURL {
            do { _ = try PublicURL(url) } catch { throw ConfigurationError("--public-url: \(error.reason)") }
        }
        guard hub.relayBufferBytes >= 64 * 1024 else { throw ConfigurationError("--relay-buffer must be at least 65536 bytes") }
        guard hub.maximumConnections >= 1 else { throw ConfigurationError("--max-connections must be at least 1") }
        guard hub.graceSeconds >= 1 else { throw ConfigurationError("--grace must be at least 1 second") }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.")
    }

    /// The public URL, given or derived from where the broker listens.
    func resolvedPublicURL(httpPort: Int) throws -> PublicURL {
        if let publicURL { return try PublicURL(publicURL) }
        let h = host.contains(":") ? "[\(host)]" : (host == "0.0.0.0" ? "127.0.0.1" : host)
        return try PublicURL("\(usesTLS ? "https" : "http")://\(h):\(httpPort)")
    }
}
