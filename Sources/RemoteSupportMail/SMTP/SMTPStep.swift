/// Where in the SMTP dialogue something happened, for errors and timeouts.
///
/// An open struct (not an enum) so steps can be added (say for a future extension) without breaking
/// callers that switch over the ones they know.
public struct SMTPStep: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Opening the TCP connection (and, for implicit TLS, nothing else yet).
    public static let connect = SMTPStep(rawValue: "connect")
    /// Waiting for the server's 220 greeting (with implicit TLS this includes the handshake).
    public static let greeting = SMTPStep(rawValue: "greeting")
    /// EHLO, or HELO when the server refused EHLO.
    public static let ehlo = SMTPStep(rawValue: "ehlo")
    /// The STARTTLS command, the TLS handshake, and the first EHLO through TLS (whose reply is the first sign
    /// that the handshake worked).
    public static let starttls = SMTPStep(rawValue: "starttls")
    /// AUTH PLAIN or AUTH LOGIN.
    public static let auth = SMTPStep(rawValue: "auth")
    /// MAIL FROM.
    public static let mailFrom = SMTPStep(rawValue: "mailFrom")
    /// RCPT TO, once per recipient.
    public static let rcptTo = SMTPStep(rawValue: "rcptTo")
    /// The DATA command (the server's 354 go-ahead).
    public static let data = SMTPStep(rawValue: "data")
    /// The message content and its terminating dot: the server's verdict on the message itself.
    public static let message = SMTPStep(rawValue: "message")
    /// QUIT.
    public static let quit = SMTPStep(rawValue: "quit")

    public var description: String { rawValue }
}
