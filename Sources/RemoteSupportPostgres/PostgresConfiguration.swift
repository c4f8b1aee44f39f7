import Foundation
import PostgresNIO
import RemoteSupportStore

/// Where and how to reach the database, parsed from a libpq-style URL:
///
///     postgres://user:password@host:port/database?sslmode=require
///
/// `postgresql://` works too; user and password are percent-decoded; the port defaults to 5432 and the
/// database to the user's name (the server's rule). Query parameters, as libpq reads them:
/// - `sslmode`: `disable`; `prefer` (the default: TLS when the server offers it); `require` (TLS, the
///   certificate not checked, as libpq does); `verify-ca` (the chain checked); `verify-full` (the chain and
///   the host name checked).
/// - `sslrootcert`: a PEM file of CA certificates to check the server's against (else the system's).
///
/// Any other parameter is an error, so a typo such as `sslmod=require` cannot quietly turn TLS off. The
/// password never appears in `description` or in an error.
public struct PostgresConfiguration: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String?
    public var tlsMode: TLSMode
    public var rootCertificatePath: String?

    /// `StoreError(.unavailable)` saying what is wrong with `url` (without its password).
    public init(url: String) throws {
        func invalid(_ what: String) -> StoreError {
            StoreError(.unavailable, "invalid PostgreSQL URL \(Self.redacted(url)): \(what)")
        }
        guard url.utf8.count <= 4096, let components = URLComponents(string: url) else {
            throw invalid("expected postgres://user:password@host:port/database")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("the scheme must be postgres:// or postgresql://")
        }
        guard var host = components.host, !host.isEmpty else { throw invalid("no host") }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let username = components.user, !username.isEmpty else { throw invalid("no user name") }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw invalid("port \(port) is out of range") }
        var path = components.path
        if path.hasPrefix("/") { path.removeFirst() }
        guard !path.contains("/") else { throw invalid("the path must be just the database name") }

        var tlsMode = TLSMode.prefer
        var rootCertificatePath: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw invalid("sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tlsMode = mode
            case "sslrootcert":
                guard let value = item.value, !value.isEmpty else { throw invalid("sslrootcert needs a file") }
                rootCertificatePath = value
            default:
                throw invalid("unknown parameter \(item.name.debugDescription) (known: sslmode, sslrootcert)")
            }
        }

        self.host = host
        self.port = port
        self.username = username
        self.password = components.password
        self.database = path.isEmpty ? nil : path
        self.tlsMode = tlsMode
        self.rootCertificatePath = rootCertificatePath
    }

    /// `host:port`, for messages.
    public var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The URL without its password.
    public var description: String {
        let database = self.database.map { "/\($0)" } ?? ""
        return "postgres://\(username)@\(endpoint)\(database)?sslmode=\(tlsMode.rawValue)"
    }

    /// The pool's configuration; every connection starts with `search_path` set to `schema` alone.
    func clientConfiguration(schema: String, maximumConnections: Int) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(host: host, port: port, username: username, password: password,
                                                         database: database, tls: clientTLS)
        configuration.options.additionalStartupParameters = Self.startupParameters(schema: schema)
        configuration.options.maximumConnections = max(1, maximumConnections)
        return configuration
    }

    /// The same for one connection outside the pool (the startup check and migrations).
    func connectionConfiguration(schema: String) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch tlsConfiguration {
        case nil: tls = .disable
        case let configuration?:
            let context: NIOSSLContext
            do {
                context = try NIOSSLContext(configuration: configuration)
            } catch {
                throw StoreError(.unavailable, "cannot set up TLS for PostgreSQL at \(endpoint): \(error)")
            }
            tls = tlsMode == .prefer ? .prefer(context) : .require(context)
        }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: username, password: password,
                                                             database: database, tls: tls)
        configuration.options.additionalStartupParameters = Self.startupParameters(schema: schema)
        return configuration
    }

    private var clientTLS: PostgresClient.Configuration.TLS {
        guard let configuration = tlsConfiguration else { return .disable }
        return tlsMode == .prefer ? .prefer(configuration) : .require(configuration)
    }

    private var tlsConfiguration: TLSConfiguration? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tlsMode {
        case .disable: return nil
        case .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let rootCertificatePath { configuration.trustRoots = .file(rootCertificatePath) }
        return configuration
    }

    /// Session defaults sent with the startup message (no SQL needed per connection). The schema was
    /// validated as `[a-z_][a-z0-9_]*`; quoted all the same.
    private static func startupParameters(schema: String) -> [(String, String)] {
        [("search_path", "\"\(schema)\""), ("application_name", "remotesupport")]
    }

    /// `url` with anything between `://` and `@` after the first `:` replaced, so a password is never printed.
    static func redacted(_ url: String) -> String {
        guard let start = url.range(of: "://"), let at = url[start.upperBound...].lastIndex(of: "@") else {
            return String(url.prefix(200))
        }
        let userInfo = url[start.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return String(url.prefix(200)) }
        return String((url[..<colon] + ":***" + url[at...]).prefix(200))
    }
}
