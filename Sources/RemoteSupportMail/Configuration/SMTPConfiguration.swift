/// Where and how to deliver: the operator's SMTP relay, its security, credentials and limits.
///
/// Secure by default: STARTTLS required, certificates verified against the system's trust roots, and
/// credentials sent only inside TLS. `description` never shows the password.
public struct SMTPConfiguration: Sendable, CustomStringConvertible {
    /// How the connection is protected. (Our policy, not a wire value: a closed enum.)
    public enum Security: String, Hashable, Sendable {
        /// Plain SMTP: no TLS at all (a relay on loopback or a trusted network). Credentials are refused unless
        /// `allowsPlaintextAuthentication` is set.
        case none
        /// Plain connection upgraded with STARTTLS before anything else; fails if the server does not offer it
        /// (RFC 3207). Usually port 587 (or 25).
        case startTLS
        /// TLS from the first byte ("implicit TLS", RFC 8314), usually port 465.
        case tls

        /// The usual port for this security.
        public var defaultPort: Int {
            switch self {
            case .none: 25
            case .startTLS: 587
            case .tls: 465
            }
        }
    }

    /// Username and password for AUTH PLAIN or LOGIN. Printing or dumping it never shows the password.
    public struct Credentials: Hashable, Sendable, CustomStringConvertible, CustomReflectable {
        /// Limits that keep the AUTH command short (RFC 4954 allows 12288 octets for it).
        public static let maximumLength = 1024

        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }

        public var description: String { "\(username) (password hidden)" }
        public var customMirror: Mirror { Mirror(self, children: ["username": username, "password": "(hidden)"]) }
    }

    /// How the server's certificate is checked.
    public struct TLS: Hashable, Sendable {
        public enum TrustRoots: Hashable, Sendable {
            /// The system's trust store.
            case system
            /// Only the CA certificates in this PEM file (a private CA, or a test CA).
            case pemFile(String)
        }

        public enum Verification: Hashable, Sendable {
            /// The chain must lead to a trust root and the certificate must name the host. The default.
            case full
            /// No check at all: anyone on the path can read the mail and the password. For a lab only.
            case insecureNoVerification
        }

        public var trustRoots: TrustRoots
        public var verification: Verification
        /// The name to verify the certificate against and to send as SNI; nil means `host` (an IP address
        /// is then checked against the certificate's IP addresses, and not sent as SNI).
        public var serverName: String?

        public init(trustRoots: TrustRoots = .system, verification: Verification = .full, serverName: String? = nil) {
            self.trustRoots = trustRoots
            self.verification = verification
            self.serverName = serverName
        }
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var credentials: Credentials?
    /// Lets credentials be sent without TLS (for a relay on loopback in tests). Off by default.
    public var allowsPlaintextAuthentication: Bool = false
    public var tls: TLS = TLS()
    /// Our name in EHLO/HELO: the broker's host name (RFC 5321 wants the client's FQDN or an address literal).
    public var heloName: String = "localhost"
    public var connectTimeout: Duration = .seconds(10)
    /// The longest wait for each reply, counted from sending the command (a slowly trickling reply does not
    /// extend it). With STARTTLS it includes the handshake; after DATA it includes sending the message.
    public var commandTimeout: Duration = .seconds(60)
    /// The largest rendered message we send, in octets.
    public var maximumMessageSize: Int = 10 * 1024 * 1024
    /// Caps on what the server may send in one reply.
    public var replyLimits: SMTPReplyParser.Limits = SMTPReplyParser.Limits()

    /// A configuration for `host`; the port defaults to the security's usual one.
    public init(host: String, port: Int? = nil, security: Security = .startTLS, credentials: Credentials? = nil) {
        self.host = host
        self.port = port ?? security.defaultPort
        self.security = security
        self.credentials = credentials
    }

    /// Throws `invalidConfiguration` for values that cannot work.
    public func validate() throws(MailError) {
        func fail(_ reason: String) -> MailError { MailError(.invalidConfiguration, reason) }
        let hostBytes = Array(host.utf8)
        guard !hostBytes.isEmpty, hostBytes.count <= 253,
            hostBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "@") })
        else { throw fail("host must be a name or an IP address") }
        guard (1...65535).contains(port) else { throw fail("port \(port) is not 1-65535") }
        let heloBytes = Array(heloName.utf8)
        guard MailAddress.isHostname(heloBytes) || Self.isAddressLiteral(heloBytes) else {
            throw fail("HELO name must be a host name or an address literal like [192.0.2.1]")
        }
        guard connectTimeout > .zero, commandTimeout > .zero else { throw fail("timeouts must be positive") }
        guard maximumMessageSize > 0 else { throw fail("maximum message size must be positive") }
        guard replyLimits.maximumLineLength >= 512, replyLimits.maximumLines >= 1 else {
            throw fail("reply limits must allow RFC 5321 replies (lines of 512 octets)")
        }
        if let credentials {
            for (name, value) in [("username", credentials.username), ("password", credentials.password)] {
                guard !value.isEmpty, value.utf8.count <= Credentials.maximumLength, !value.utf8.contains(0) else {
                    throw fail("\(name) must be 1-\(Credentials.maximumLength) octets without NUL")
                }
            }
        }
        if let serverName = tls.serverName, !MailAddress.isHostname(Array(serverName.utf8)) {
            throw fail("TLS server name must be a host name")
        }
    }

    /// `[...]` around printable ASCII without spaces or brackets.
    private static func isAddressLiteral(_ bytes: [UInt8]) -> Bool {
        bytes.count > 2 && bytes.count <= 255 && bytes.first == UInt8(ascii: "[") && bytes.last == UInt8(ascii: "]")
            && bytes.dropFirst().dropLast().allSatisfy {
                $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: "]")
            }
    }

    public var description: String {
        let scheme =
            switch security {
            case .none: "smtp"
            case .startTLS: "smtp+starttls"
            case .tls: "smtps"
            }
        let user = credentials.map { "\($0.username):***@" } ?? ""
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(user)\(hostPart):\(port)"
    }
}
