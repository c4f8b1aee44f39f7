/// An error of mail delivery: an extensible code, a human-readable reason, the SMTP step it happened in,
/// the server's reply (code and text) when there was one, and where it was thrown. Equality compares the code
/// only, so tests can `#expect(throws: MailError(.recipientRefused))`.
///
/// Never carries a password: reasons are written by this module, and server text is the server's reply only
/// (trimmed, control characters replaced, capped at `maximumServerTextLength` characters).
/// Codes 1-15 are the message's, 16-31 the configuration's, 32-47 the transport's, 48 on the SMTP dialogue's.
public struct MailError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// An address that is not a plain ASCII `local@domain` (controls, spaces, `<`, `>`, over 254 octets).
        public static let invalidAddress = Code(rawValue: 1)
        /// A message that cannot be rendered: no recipients, too many, a bad Message-ID.
        public static let invalidMessage = Code(rawValue: 2)
        /// The rendered message is over the configured maximum, or over the SIZE the server announced.
        public static let messageTooLarge = Code(rawValue: 3)
        /// A configuration value that cannot work (port, timeouts, HELO name, credentials, CA file).
        public static let invalidConfiguration = Code(rawValue: 16)
        /// An `smtp://`, `smtp+starttls://` or `smtps://` URL that cannot be parsed.
        public static let invalidURL = Code(rawValue: 17)
        /// The TCP connection could not be made (refused, unreachable, name not resolved).
        public static let connectionFailed = Code(rawValue: 32)
        /// The connection broke or the server closed it before the dialogue was over.
        public static let connectionClosed = Code(rawValue: 33)
        /// The connection, or the reply to a command, took longer than its timeout.
        public static let timeout = Code(rawValue: 34)
        /// The TLS handshake failed (certificate not trusted, wrong name, no common protocol).
        public static let tlsFailed = Code(rawValue: 35)
        /// A reply that breaks RFC 5321 or our caps (line too long, too many lines, bytes after STARTTLS).
        public static let malformedReply = Code(rawValue: 48)
        /// The server answered a command with a code we did not expect (the greeting, MAIL, DATA, ...).
        public static let rejected = Code(rawValue: 49)
        /// STARTTLS is required by the configuration but the server does not offer it.
        public static let startTLSUnavailable = Code(rawValue: 50)
        /// Credentials are configured but cannot be used: no TLS (and plaintext not allowed), or no PLAIN/LOGIN.
        public static let authenticationUnavailable = Code(rawValue: 51)
        /// The server refused the credentials (typically 535) or the AUTH exchange.
        public static let authenticationFailed = Code(rawValue: 52)
        /// The server refused a recipient (RCPT TO); nothing was sent.
        public static let recipientRefused = Code(rawValue: 53)

        public var description: String {
            switch self {
            case .invalidAddress: "invalid address"
            case .invalidMessage: "invalid message"
            case .messageTooLarge: "message too large"
            case .invalidConfiguration: "invalid configuration"
            case .invalidURL: "invalid SMTP URL"
            case .connectionFailed: "connection failed"
            case .connectionClosed: "connection closed"
            case .timeout: "timeout"
            case .tlsFailed: "TLS failed"
            case .malformedReply: "malformed reply"
            case .rejected: "rejected"
            case .startTLSUnavailable: "STARTTLS unavailable"
            case .authenticationUnavailable: "authentication unavailable"
            case .authenticationFailed: "authentication failed"
            case .recipientRefused: "recipient refused"
            default: "error \(rawValue)"
            }
        }
    }

    /// Server text longer than this (in characters) is cut, so a hostile server cannot fill our logs.
    public static let maximumServerTextLength = 512

    public var code: Code
    public var reason: String
    /// The SMTP step the error happened in; nil for errors before any connection (rendering, configuration).
    public var step: SMTPStep?
    /// The server's three-digit reply code (e.g. 535, 550), when the error is a reply.
    public var replyCode: Int?
    /// The server's reply text, lines joined by a space, trimmed and capped.
    public var serverText: String?
    public var file: String
    public var line: Int

    public init(
        _ code: Code, _ reason: String = "", step: SMTPStep? = nil, reply: SMTPReply? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.reason = reason
        self.step = step
        self.replyCode = reply?.code
        self.serverText = reply.map { Self.capped($0.text) }
        self.file = file
        self.line = line
    }

    /// True when trying again later may succeed: a 4xx reply, a timeout or a broken connection.
    /// (A timeout after the message content was sent may still have delivered it.)
    public var isTransient: Bool {
        if let replyCode { return (400..<500).contains(replyCode) }
        return code == .timeout || code == .connectionFailed || code == .connectionClosed
    }

    public var description: String {
        var text = "\(code)"
        if let step { text += " at \(step)" }
        if !reason.isEmpty { text += ": \(reason)" }
        if let replyCode { text += " (server: \(replyCode) \(serverText ?? ""))" }
        return text
    }

    public static func == (a: MailError, b: MailError) -> Bool { a.code == b.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// Replaces each secret (non-empty) in the reason and the server text by `***`.
    mutating func redact(_ secrets: [String]) {
        for secret in secrets where !secret.isEmpty {
            reason = reason.replacing(secret, with: "***")
            serverText = serverText?.replacing(secret, with: "***")
        }
    }

    /// Trims and cuts text from outside (server replies, OS error descriptions) for an error.
    static func capped(_ text: String) -> String {
        let trimmed = text.trimmingSpaces()
        guard trimmed.count > maximumServerTextLength else { return trimmed }
        return String(trimmed.prefix(maximumServerTextLength)) + "…"
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs (no Foundation needed).
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
