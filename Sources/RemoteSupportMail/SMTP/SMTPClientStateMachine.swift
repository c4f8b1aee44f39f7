/// The client side of one SMTP session that delivers one message, as a pure state machine: no IO, no clock.
///
/// The host feeds what it receives (`receive`, split anywhere) and carries out the actions returned:
/// `.send(bytes)` (and arm the command timeout), `.startTLS` (put TLS under the connection before sending
/// anything more: the actions after it must already go through TLS), `.finish` (success: close). A throw
/// is a failure: the host drops the connection (sending QUIT first when the error carries a reply, as the
/// server is still listening). Timeouts are the host's: `step` says what was being waited for.
///
/// The dialogue, one command at a time (no pipelining):
///
///     greeting(220) -> EHLO(250) ---------------------------------> [AUTH] -> MAIL -> RCPT* -> DATA(354)
///                       \-5xx-> HELO(250) -/   \-> STARTTLS(220) -> EHLO again -/      -> content(250) -> QUIT
///     any state -> failed (after a throw; later input is ignored)
///
/// Policy enforced here, not left to the host:
/// - with `.startTLS` security nothing but EHLO and STARTTLS is sent before TLS; a server that does not offer
///   STARTTLS ends the session (`startTLSUnavailable`), never a fall back to plaintext;
/// - credentials only inside TLS unless `allowsPlaintextAuthentication`;
/// - bytes after the 220 to STARTTLS are refused: they arrived in plaintext and could be an attacker's
///   (CVE-2011-0411 style injection);
/// - a SIZE the server announced is honoured before MAIL FROM;
/// - after the server accepted the message (250 to the content) the session counts as delivered: whatever
///   QUIT brings (an odd reply, a close, a timeout) is not a failure, since a retry would send a duplicate.
struct SMTPClientStateMachine: Sendable {
    /// What is sent: the envelope and the message, already dot-stuffed and terminated (`DotStuffing`).
    struct Envelope: Hashable, Sendable {
        var from: String
        var recipients: [String]
        var content: [UInt8]
        /// The message's size before dot-stuffing (for SIZE).
        var size: Int
    }

    enum Action: Hashable, Sendable {
        case send([UInt8])
        case startTLS
        case finish
    }

    private enum State: Hashable, Sendable {
        case greeting
        case ehlo
        /// EHLO sent through the new TLS layer: its reply is the first sign that the handshake worked.
        case ehloOverNewTLS
        case helo
        case startTLS
        case authPlain
        case authLoginUsername
        case authLoginPassword
        case authLoginResult
        case mailFrom
        case rcptTo(index: Int)
        case data
        case message
        case quit
        case finished
        case failed(SMTPStep)
    }

    private let configuration: SMTPConfiguration
    private let envelope: Envelope
    private var state: State = .greeting
    private var parser: SMTPReplyParser
    private var extensions = SMTPServerExtensions()
    /// True from the start with implicit TLS, and from the `.startTLS` action on.
    private(set) var isTLSActive: Bool

    init(configuration: SMTPConfiguration, envelope: Envelope) {
        self.configuration = configuration
        self.envelope = envelope
        self.parser = SMTPReplyParser(limits: configuration.replyLimits)
        self.isTLSActive = configuration.security == .tls
    }

    /// The step whose reply is awaited (or, after a failure, the step that failed).
    var step: SMTPStep {
        switch state {
        case .greeting: .greeting
        case .ehlo, .helo: .ehlo
        case .startTLS, .ehloOverNewTLS: .starttls
        case .authPlain, .authLoginUsername, .authLoginPassword, .authLoginResult: .auth
        case .mailFrom: .mailFrom
        case .rcptTo: .rcptTo
        case .data: .data
        case .message: .message
        case .quit, .finished: .quit
        case .failed(let step): step
        }
    }

    /// True once the server accepted the message: from then on the session cannot fail.
    var hasDelivered: Bool { state == .quit || state == .finished }

    /// Takes received bytes; returns the actions to carry out, in order.
    mutating func receive(_ bytes: some Sequence<UInt8>) throws(MailError) -> [Action] {
        switch state {
        case .finished, .failed: return []
        default: break
        }
        do throws(MailError) {
            let replies = try parser.append(bytes)
            var actions: [Action] = []
            for (i, reply) in replies.enumerated() {
                let next = try handle(reply)
                actions += next
                if next.contains(.startTLS) && (i < replies.count - 1 || parser.hasPartialReply) {
                    throw MailError(
                        .malformedReply, "data after the 220 to STARTTLS: refusing possibly injected plaintext",
                        step: .starttls)
                }
                if state == .finished { break }
            }
            return actions
        } catch {
            var error = error
            if error.step == nil { error.step = step }
            if let credentials = configuration.credentials { error.redact(Self.secrets(of: credentials)) }
            state = .failed(step)
            throw error
        }
    }

    // MARK: - Replies

    private mutating func handle(_ reply: SMTPReply) throws(MailError) -> [Action] {
        switch state {
        case .greeting:
            guard reply.code == 220 else {
                throw MailError(.rejected, "server refused the session", step: step, reply: reply)
            }
            state = .ehlo
            return [command("EHLO \(configuration.heloName)")]

        case .ehlo, .ehloOverNewTLS:
            if reply.code == 250 {
                extensions = SMTPServerExtensions(ehloReply: reply)
                return try afterHello()
            }
            guard reply.isPermanentNegative else {
                throw MailError(.rejected, "EHLO refused", step: step, reply: reply)
            }
            // An old server without ESMTP: HELO gives no extensions, so STARTTLS and AUTH will be unavailable.
            state = .helo
            return [command("HELO \(configuration.heloName)")]

        case .helo:
            guard reply.code == 250 else {
                throw MailError(.rejected, "EHLO and HELO refused", step: step, reply: reply)
            }
            extensions = SMTPServerExtensions()
            return try afterHello()

        case .startTLS:
            guard reply.code == 220 else {
                throw MailError(.startTLSUnavailable, "server refused STARTTLS", step: step, reply: reply)
            }
            // RFC 3207: forget what the server said in plaintext and ask again over TLS.
            isTLSActive = true
            extensions = SMTPServerExtensions()
            state = .ehloOverNewTLS
            return [.startTLS, command("EHLO \(configuration.heloName)")]

        case .authPlain, .authLoginResult:
            guard reply.code == 235 else {
                throw MailError(.authenticationFailed, "server refused the credentials", step: step, reply: reply)
            }
            return try startMail()

        case .authLoginUsername, .authLoginPassword:
            guard reply.code == 334, let credentials = configuration.credentials else {
                throw MailError(.authenticationFailed, "AUTH LOGIN refused", step: step, reply: reply)
            }
            let isUsername = state == .authLoginUsername
            state = isUsername ? .authLoginPassword : .authLoginResult
            return [command(Base64.encode(Array((isUsername ? credentials.username : credentials.password).utf8)))]

        case .mailFrom:
            guard reply.code == 250 else { throw MailError(.rejected, "sender refused", step: step, reply: reply) }
            guard let first = envelope.recipients.first else { throw MailError(.invalidMessage, "no recipients") }
            state = .rcptTo(index: 0)
            return [command("RCPT TO:<\(first)>")]

        case .rcptTo(let index):
            guard reply.code == 250 || reply.code == 251 else {
                throw MailError(
                    .recipientRefused, "recipient <\(envelope.recipients[index])> refused", step: step, reply: reply)
            }
            if index + 1 < envelope.recipients.count {
                state = .rcptTo(index: index + 1)
                return [command("RCPT TO:<\(envelope.recipients[index + 1])>")]
            }
            state = .data
            return [command("DATA")]

        case .data:
            guard reply.code == 354 else { throw MailError(.rejected, "DATA refused", step: step, reply: reply) }
            state = .message
            return [.send(envelope.content)]

        case .message:
            guard reply.code == 250 else { throw MailError(.rejected, "message refused", step: step, reply: reply) }
            state = .quit
            return [command("QUIT")]

        case .quit:
            state = .finished
            return [.finish]

        case .finished, .failed:
            return []
        }
    }

    /// After EHLO or HELO: STARTTLS if required and not done yet, then AUTH if configured, then MAIL.
    private mutating func afterHello() throws(MailError) -> [Action] {
        if configuration.security == .startTLS && !isTLSActive {
            state = .startTLS
            guard extensions.supports("STARTTLS") else {
                throw MailError(
                    .startTLSUnavailable, "server does not offer STARTTLS; refusing to continue in plaintext",
                    step: .starttls)
            }
            return [command("STARTTLS")]
        }
        if let credentials = configuration.credentials {
            state = .authPlain
            guard isTLSActive || configuration.allowsPlaintextAuthentication else {
                throw MailError(
                    .authenticationUnavailable, "refusing to send credentials without TLS (use STARTTLS or TLS)",
                    step: .auth)
            }
            let mechanisms = extensions.authMechanisms
            if mechanisms.contains("PLAIN") {
                // RFC 4616: authorization identity (empty), NUL, user, NUL, password.
                let response = [0] + Array(credentials.username.utf8) + [0] + Array(credentials.password.utf8)
                return [command("AUTH PLAIN \(Base64.encode(response))")]
            }
            if mechanisms.contains("LOGIN") {
                state = .authLoginUsername
                return [command("AUTH LOGIN")]
            }
            let offered = mechanisms.sorted().prefix(8).joined(separator: " ")
            throw MailError(
                .authenticationUnavailable,
                "server offers no AUTH PLAIN or LOGIN" + (offered.isEmpty ? "" : " (offers \(offered))"), step: .auth)
        }
        return try startMail()
    }

    private mutating func startMail() throws(MailError) -> [Action] {
        state = .mailFrom
        if let limit = extensions.sizeLimit, envelope.size > limit {
            throw MailError(
                .messageTooLarge, "message is \(envelope.size) octets, server accepts \(limit)", step: .mailFrom)
        }
        let size = extensions.supports("SIZE") ? " SIZE=\(envelope.size)" : ""
        return [command("MAIL FROM:<\(envelope.from)>\(size)")]
    }

    private func command(_ line: String) -> Action { .send(Array((line + "\r\n").utf8)) }

    /// The forms in which we send the password: a server that echoes one back must not get it into our errors.
    private static func secrets(of credentials: SMTPConfiguration.Credentials) -> [String] {
        let plain = [0] + Array(credentials.username.utf8) + [0] + Array(credentials.password.utf8)
        return [credentials.password, Base64.encode(Array(credentials.password.utf8)), Base64.encode(plain)]
    }
}
