import Foundation
import RemoteSupportMail
import Testing

/// Real SMTP sessions against aiosmtpd (see `TestSMTPServer`) and misbehaving sockets on 127.0.0.1.
@Suite struct SMTPDeliveryTests {
    static let body = """
        Hello Zoë,

        .a line that starts with a dot
        ..and one with two
        .
        The line above is a lone dot, which must not end the message.
        A long line: \(String(repeating: "0123456789", count: 20)) end.
        Unicode: 李雷 🎉 Ünal
        Trailing spaces stay:   
        """

    /// A message with every kind of hostile or awkward text.
    static func message(to recipients: [String] = ["alice@example.com", "li@example.org"]) throws -> MailMessage {
        var to = try recipients.map { try MailAddress($0) }
        to[0].displayName = "Bob\r\nBcc: evil@x.com"
        if to.count > 1 { to[1].displayName = "李雷" }
        return MailMessage(
            from: try MailAddress("support@example.com", displayName: "Zoë Ünal"), to: to,
            replyTo: try MailAddress("helpdesk@example.com", displayName: "Help \"Desk\", Tier 2"),
            subject: "Ticket #42\r\nBcc: evil@x.com\u{0} — Zoë asks for help", body: body)
    }

    private func configuration(_ port: Int, _ security: SMTPConfiguration.Security = .none) -> SMTPConfiguration {
        var configuration = SMTPConfiguration(host: "127.0.0.1", port: port, security: security)
        configuration.heloName = "broker.test"
        configuration.connectTimeout = .seconds(5)
        configuration.commandTimeout = .seconds(5)
        return configuration
    }

    /// `configuration` trusting only the test server's certificate.
    private func trusting(_ configuration: SMTPConfiguration, _ server: TestSMTPServer) throws -> SMTPConfiguration {
        var configuration = configuration
        configuration.tls.trustRoots = .pemFile(try #require(server.certificate).certificatePath)
        return configuration
    }

    /// Checks what the server received against `message()`.
    private func expectDelivered(_ delivery: TestSMTPServer.Delivery) {
        #expect(delivery.mail_from == "support@example.com")
        #expect(delivery.rcpt_tos == ["alice@example.com", "li@example.org"])
        #expect(!delivery.header_names.contains { $0.lowercased() == "bcc" })
        #expect(!delivery.raw.lowercased().components(separatedBy: "\r\n").contains { $0.hasPrefix("bcc:") })
        #expect(delivery.from == [["Zoë Ünal", "support@example.com"]])
        #expect(delivery.to == [["Bob Bcc: evil@x.com", "alice@example.com"], ["李雷", "li@example.org"]])
        #expect(delivery.reply_to == [["Help \"Desk\", Tier 2", "helpdesk@example.com"]])
        #expect(delivery.subject == "Ticket #42 Bcc: evil@x.com  — Zoë asks for help")
        #expect(delivery.content_type == "text/plain")
        #expect(delivery.body.replacingOccurrences(of: "\r\n", with: "\n") == Self.body + "\n")
        #expect(delivery.defects.isEmpty)
        for line in delivery.raw.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78)
        }
    }

    @Test func plainDelivery() async throws {
        let server = try TestSMTPServer()
        defer { server.stop() }
        try await SMTPClient(configuration: configuration(server.port)).send(Self.message())
        let deliveries = try server.deliveries()
        try #require(deliveries.count == 1)
        expectDelivered(deliveries[0])
        #expect(!deliveries[0].tls)
    }

    @Test func startTLSWithAuthPlain() async throws {
        let server = try TestSMTPServer(.init(startTLS: true, auth: ("bob", "s3cret:pässword")))
        defer { server.stop() }
        var configuration = try trusting(configuration(server.port, .startTLS), server)
        configuration.credentials = .init(username: "bob", password: "s3cret:pässword")
        try await SMTPClient(configuration: configuration).send(Self.message())
        let deliveries = try server.deliveries()
        try #require(deliveries.count == 1)
        expectDelivered(deliveries[0])
        #expect(deliveries[0].tls)
        #expect(deliveries[0].authenticated)
    }

    @Test func wrongPassword() async throws {
        let server = try TestSMTPServer(.init(startTLS: true, auth: ("bob", "right")))
        defer { server.stop() }
        var configuration = try trusting(configuration(server.port, .startTLS), server)
        configuration.credentials = .init(username: "bob", password: "wrong-hunter2")
        await #expect {
            try await SMTPClient(configuration: configuration).send(Self.message())
        } throws: { error in
            let error = error as! MailError
            return error.code == .authenticationFailed && error.replyCode == 535 && error.step == .auth
                && !"\(error)".contains("hunter2") && !error.isTransient
        }
        #expect(try server.deliveries().isEmpty)
    }

    @Test func startTLSRequiredButNotOffered() async throws {
        let server = try TestSMTPServer()
        defer { server.stop() }
        await #expect {
            try await SMTPClient(configuration: configuration(server.port, .startTLS)).send(Self.message())
        } throws: { error in
            let error = error as! MailError
            return error.code == .startTLSUnavailable && error.step == .starttls
        }
        #expect(try server.deliveries().isEmpty)
    }

    @Test func recipientRefused() async throws {
        let server = try TestSMTPServer(.init(refuse: ["nobody@example.com"]))
        defer { server.stop() }
        await #expect {
            try await SMTPClient(configuration: configuration(server.port))
                .send(Self.message(to: ["alice@example.com", "nobody@example.com"]))
        } throws: { error in
            let error = error as! MailError
            return error.code == .recipientRefused && error.replyCode == 550 && error.step == .rcptTo
                && error.reason.contains("nobody@example.com")
                && (error.serverText ?? "").contains("Recipient address rejected")
        }
        #expect(try server.deliveries().isEmpty)
    }

    @Test func implicitTLSWithServerName() async throws {
        let server = try TestSMTPServer(.init(implicitTLS: true, certificateNames: .localhostOnly))
        defer { server.stop() }
        // The certificate names only "localhost": connecting to 127.0.0.1 verifies through the server name.
        var configuration = try trusting(configuration(server.port, .tls), server)
        configuration.tls.serverName = "localhost"
        try await SMTPClient(configuration: configuration).send(Self.message())
        let deliveries = try server.deliveries()
        try #require(deliveries.count == 1)
        expectDelivered(deliveries[0])
        #expect(deliveries[0].tls)

        // Without a server name the IP address is checked, and a wrong name is refused.
        for serverName in [nil, "mail.example.com"] {
            configuration.tls.serverName = serverName
            await #expect {
                try await SMTPClient(configuration: configuration).send(Self.message())
            } throws: { error in
                (error as! MailError).code == .tlsFailed && (error as! MailError).step == .greeting
            }
        }
        #expect(try server.deliveries().count == 1)
    }

    @Test func untrustedCertificateIsRefused() async throws {
        let server = try TestSMTPServer(.init(startTLS: true))
        defer { server.stop() }
        // The system roots do not know the test CA.
        await #expect {
            try await SMTPClient(configuration: configuration(server.port, .startTLS)).send(Self.message())
        } throws: { error in
            (error as! MailError).code == .tlsFailed && (error as! MailError).step == .starttls
        }
        #expect(try server.deliveries().isEmpty)
        // For a lab: no verification at all.
        var insecure = configuration(server.port, .startTLS)
        insecure.tls.verification = .insecureNoVerification
        try await SMTPClient(configuration: insecure).send(Self.message())
        #expect(try server.deliveries().count == 1)
    }

    @Test func plaintextAuthOnlyWhenAllowed() async throws {
        let server = try TestSMTPServer(.init(auth: ("bob", "pw"), authPlaintext: true))
        defer { server.stop() }
        var configuration = configuration(server.port)
        configuration.credentials = .init(username: "bob", password: "pw")
        await #expect(throws: MailError(.authenticationUnavailable)) {
            try await SMTPClient(configuration: configuration).send(Self.message())
        }
        #expect(try server.deliveries().isEmpty)
        configuration.allowsPlaintextAuthentication = true
        try await SMTPClient(configuration: configuration).send(Self.message())
        let deliveries = try server.deliveries()
        try #require(deliveries.count == 1)
        #expect(deliveries[0].authenticated)
    }

    @Test func silentServerTimesOut() async throws {
        let listener = try TestSocket(listening: true)
        defer { listener.close() }
        var configuration = configuration(listener.port)
        configuration.commandTimeout = .milliseconds(300)
        let start = ContinuousClock.now
        await #expect {
            try await SMTPClient(configuration: configuration).send(Self.message())
        } throws: { error in
            (error as! MailError).code == .timeout && (error as! MailError).step == .greeting
        }
        // The 300 ms timeout, not the 60 s default (a generous bound: the machines are shared and noisy).
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func connectionRefused() async throws {
        let closed = try TestSocket(listening: false)
        defer { closed.close() }
        await #expect {
            try await SMTPClient(configuration: configuration(closed.port)).send(Self.message())
        } throws: { error in
            (error as! MailError).code == .connectionFailed && (error as! MailError).step == .connect
        }
    }

    @Test func oversizedMessageIsNotSent() async throws {
        var configuration = configuration(1)
        configuration.maximumMessageSize = 100
        await #expect(throws: MailError(.messageTooLarge)) {
            try await SMTPClient(configuration: configuration).send(Self.message())
        }
    }

    @Test func missingCAFile() async throws {
        var configuration = configuration(1, .tls)
        configuration.tls.trustRoots = .pemFile("/nonexistent/ca.pem")
        await #expect(throws: MailError(.invalidConfiguration)) {
            try await SMTPClient(configuration: configuration).send(Self.message())
        }
    }
}
