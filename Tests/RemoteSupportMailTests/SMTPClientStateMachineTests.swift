import Testing

@testable import RemoteSupportMail

/// The SMTP dialogue without a network: replies in, commands out.
@Suite struct SMTPClientStateMachineTests {
    static let envelope = SMTPClientStateMachine.Envelope(
        from: "support@example.com", recipients: ["a@example.com", "b@example.com"],
        content: DotStuffing.encode(Array("Subject: x\r\n\r\n.hi\r\n".utf8)), size: 19)

    private func machine(
        _ security: SMTPConfiguration.Security = .none, credentials: SMTPConfiguration.Credentials? = nil,
        plaintextAuth: Bool = false
    ) -> SMTPClientStateMachine {
        var configuration = SMTPConfiguration(host: "mx.example.com", security: security, credentials: credentials)
        configuration.heloName = "broker.example.com"
        configuration.allowsPlaintextAuthentication = plaintextAuth
        return SMTPClientStateMachine(configuration: configuration, envelope: Self.envelope)
    }

    /// Feeds `reply` and renders the actions as text: commands without CRLF, "<starttls>", "<finish>".
    private func feed(_ machine: inout SMTPClientStateMachine, _ reply: String) throws(MailError) -> [String] {
        try machine.receive(Array(reply.utf8)).map {
            switch $0 {
            case .send(let bytes): String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "⏎")
            case .startTLS: "<starttls>"
            case .finish: "<finish>"
            }
        }
    }

    private let content = "Subject: x⏎⏎..hi⏎.⏎"

    @Test func plainDelivery() throws {
        var m = machine()
        #expect(try feed(&m, "220 mx ready\r\n") == ["EHLO broker.example.com⏎"])
        #expect(
            try feed(&m, "250-mx\r\n250-SIZE 1000\r\n250 8BITMIME\r\n") == ["MAIL FROM:<support@example.com> SIZE=19⏎"])
        #expect(m.step == .mailFrom)
        #expect(try feed(&m, "250 ok\r\n") == ["RCPT TO:<a@example.com>⏎"])
        #expect(try feed(&m, "250 ok\r\n") == ["RCPT TO:<b@example.com>⏎"])
        #expect(try feed(&m, "251 will forward\r\n") == ["DATA⏎"])
        #expect(try feed(&m, "354 go\r\n") == [content])
        #expect(!m.hasDelivered)
        #expect(try feed(&m, "250 queued\r\n") == ["QUIT⏎"])
        #expect(m.hasDelivered)
        #expect(try feed(&m, "221 bye\r\n") == ["<finish>"])
        #expect(try feed(&m, "250 late junk\r\n") == [])
    }

    @Test func startTLSThenAuthPlain() throws {
        var m = machine(.startTLS, credentials: .init(username: "bob", password: "secret"))
        #expect(try feed(&m, "220 mx\r\n") == ["EHLO broker.example.com⏎"])
        // AUTH offered in plaintext is not used: STARTTLS comes first.
        #expect(try feed(&m, "250-mx\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n") == ["STARTTLS⏎"])
        #expect(!m.isTLSActive)
        #expect(try feed(&m, "220 go ahead\r\n") == ["<starttls>", "EHLO broker.example.com⏎"])
        #expect(m.isTLSActive)
        // "\0bob\0secret" in base64.
        #expect(try feed(&m, "250-mx\r\n250 AUTH LOGIN PLAIN\r\n") == ["AUTH PLAIN AGJvYgBzZWNyZXQ=⏎"])
        #expect(try feed(&m, "235 ok\r\n") == ["MAIL FROM:<support@example.com>⏎"])
    }

    @Test func authLogin() throws {
        var m = machine(.tls, credentials: .init(username: "bob", password: "secret"))
        _ = try feed(&m, "220 mx\r\n")
        #expect(try feed(&m, "250-mx\r\n250 AUTH LOGIN\r\n") == ["AUTH LOGIN⏎"])
        #expect(try feed(&m, "334 VXNlcm5hbWU6\r\n") == ["Ym9i⏎"])
        #expect(try feed(&m, "334 UGFzc3dvcmQ6\r\n") == ["c2VjcmV0⏎"])
        #expect(try feed(&m, "235 ok\r\n") == ["MAIL FROM:<support@example.com>⏎"])
    }

    @Test func wrongPassword() throws {
        var m = machine(.tls, credentials: .init(username: "bob", password: "secret"))
        _ = try feed(&m, "220 mx\r\n")
        _ = try feed(&m, "250-mx\r\n250 AUTH PLAIN\r\n")
        #expect {
            try feed(&m, "535 5.7.8 Authentication credentials invalid\r\n")
        } throws: { error in
            let error = error as! MailError
            return error.code == .authenticationFailed && error.replyCode == 535 && error.step == .auth
                && error.serverText == "5.7.8 Authentication credentials invalid" && !"\(error)".contains("secret")
        }
        #expect(try feed(&m, "250 ignored after failure\r\n") == [])
    }

    @Test func echoedPasswordIsRedacted() throws {
        var m = machine(.tls, credentials: .init(username: "bob", password: "secret"))
        _ = try feed(&m, "220 mx\r\n")
        _ = try feed(&m, "250-mx\r\n250 AUTH PLAIN\r\n")
        #expect {
            try feed(&m, "535 bad AGJvYgBzZWNyZXQ= (secret)\r\n")
        } throws: { error in
            (error as! MailError).serverText == "bad *** (***)"
        }
    }

    @Test func startTLSNotOffered() throws {
        var m = machine(.startTLS)
        _ = try feed(&m, "220 mx\r\n")
        #expect(throws: MailError(.startTLSUnavailable)) { try feed(&m, "250-mx\r\n250 AUTH PLAIN\r\n") }
        #expect(m.step == .starttls)
    }

    @Test func startTLSRefused() throws {
        var m = machine(.startTLS)
        _ = try feed(&m, "220 mx\r\n")
        _ = try feed(&m, "250-mx\r\n250 STARTTLS\r\n")
        #expect(throws: MailError(.startTLSUnavailable)) { try feed(&m, "454 TLS not available\r\n") }
    }

    @Test(
        "bytes after the 220 to STARTTLS are refused (injection)",
        arguments: [
            "220 go\r\n250 fake EHLO\r\n", "220 go\r\n2", "220 go\r\n250-partial\r\n",
        ])
    func startTLSInjection(_ replies: String) throws {
        var m = machine(.startTLS)
        _ = try feed(&m, "220 mx\r\n")
        _ = try feed(&m, "250-mx\r\n250 STARTTLS\r\n")
        #expect {
            try feed(&m, replies)
        } throws: { error in
            (error as! MailError).code == .malformedReply && (error as! MailError).step == .starttls
        }
    }

    @Test func noCredentialsInPlaintext() throws {
        var m = machine(.none, credentials: .init(username: "bob", password: "secret"))
        _ = try feed(&m, "220 mx\r\n")
        #expect(throws: MailError(.authenticationUnavailable)) { try feed(&m, "250-mx\r\n250 AUTH PLAIN\r\n") }

        var allowed = machine(.none, credentials: .init(username: "bob", password: "secret"), plaintextAuth: true)
        _ = try feed(&allowed, "220 mx\r\n")
        #expect(try feed(&allowed, "250-mx\r\n250 AUTH PLAIN\r\n") == ["AUTH PLAIN AGJvYgBzZWNyZXQ=⏎"])
    }

    @Test func noUsableMechanism() throws {
        var m = machine(.tls, credentials: .init(username: "bob", password: "secret"))
        _ = try feed(&m, "220 mx\r\n")
        #expect(throws: MailError(.authenticationUnavailable)) { try feed(&m, "250-mx\r\n250 AUTH CRAM-MD5\r\n") }
        var none = machine(.tls, credentials: .init(username: "bob", password: "secret"))
        _ = try feed(&none, "220 mx\r\n")
        #expect(throws: MailError(.authenticationUnavailable)) { try feed(&none, "250 mx\r\n") }
    }

    @Test func heloFallback() throws {
        var m = machine()
        _ = try feed(&m, "220 mx\r\n")
        #expect(try feed(&m, "502 5.5.1 unrecognized command\r\n") == ["HELO broker.example.com⏎"])
        #expect(try feed(&m, "250 mx\r\n") == ["MAIL FROM:<support@example.com>⏎"])

        // With STARTTLS required, HELO (no extensions) cannot go on.
        var secure = machine(.startTLS)
        _ = try feed(&secure, "220 mx\r\n")
        _ = try feed(&secure, "500 what\r\n")
        #expect(throws: MailError(.startTLSUnavailable)) { try feed(&secure, "250 mx\r\n") }
    }

    @Test func sizeLimitHonoured() throws {
        var m = machine()
        _ = try feed(&m, "220 mx\r\n")
        #expect(throws: MailError(.messageTooLarge)) { try feed(&m, "250-mx\r\n250 SIZE 10\r\n") }
    }

    @Test(
        "unexpected codes at each step",
        arguments: [
            (["554 go away"], SMTPStep.greeting, MailError.Code.rejected, 554),
            (["220 mx", "421 busy"], .ehlo, .rejected, 421),
            (["220 mx", "250 mx", "550 sender refused"], .mailFrom, .rejected, 550),
            (["220 mx", "250 mx", "250 ok", "550 5.1.1 no such user"], .rcptTo, .recipientRefused, 550),
            (["220 mx", "250 mx", "250 ok", "250 ok", "452 too many recipients"], .rcptTo, .recipientRefused, 452),
            (["220 mx", "250 mx", "250 ok", "250 ok", "250 ok", "554 no valid recipients"], .data, .rejected, 554),
            (["220 mx", "250 mx", "250 ok", "250 ok", "250 ok", "354 go", "552 too big"], .message, .rejected, 552),
        ])
    func unexpectedCodes(_ replies: [String], _ step: SMTPStep, _ code: MailError.Code, _ replyCode: Int) throws {
        var m = machine()
        for reply in replies.dropLast() { _ = try feed(&m, reply + "\r\n") }
        #expect {
            try feed(&m, replies.last! + "\r\n")
        } throws: { error in
            let error = error as! MailError
            return error.code == code && error.step == step && error.replyCode == replyCode
                && error.isTransient == (replyCode < 500)
        }
    }

    @Test func quitProblemsDoNotFailADeliveredMessage() throws {
        var m = machine()
        for reply in ["220 mx", "250 mx", "250 ok", "250 ok", "250 ok", "354 go", "250 queued"] {
            _ = try feed(&m, reply + "\r\n")
        }
        #expect(m.hasDelivered)
        #expect(try feed(&m, "500 odd\r\n") == ["<finish>"])
    }

    @Test func oneChunkWithSeveralReplies() throws {
        var m = machine()
        // Replies that arrive together are answered one after the other.
        #expect(
            try feed(&m, "220 mx\r\n250 mx\r\n") == ["EHLO broker.example.com⏎", "MAIL FROM:<support@example.com>⏎"])
    }

    @Test func malformedReplyHasStep() throws {
        var m = machine()
        _ = try feed(&m, "220 mx\r\n")
        #expect {
            try feed(&m, "hello\r\n")
        } throws: { error in
            (error as! MailError).code == .malformedReply && (error as! MailError).step == .ehlo
        }
    }
}
