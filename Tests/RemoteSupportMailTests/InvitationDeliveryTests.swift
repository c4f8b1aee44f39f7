import Foundation
import RemoteSupportCore
import RemoteSupportMail
import RemoteSupportSQLite
import RemoteSupportStore
import Testing

/// The product path end to end: an agent e-mails an invitation through `SupportDesk` (over a `SQLiteStore`)
/// and an `SMTPMailer`, and a real aiosmtpd server (see `TestSMTPServer`) says what arrived.
@Suite struct InvitationDeliveryTests {
    static let publicURL = try! PublicURL("https://help.example.com/support")
    static let agentName = "Zoë Ünal"
    /// Quotes, a comma, angle brackets and non-ASCII: all must be encoded in the To header and the link.
    static let endUserName = "李雷 \"Lei\" O'Brien, <lei@evil.example>"
    static let ticket = "INC-42 #Zoë/ü:1"
    static let recipient = "lei@example.org"

    /// A desk on a fresh SQLite store in a temp folder, with the admin's password changed, and an agent
    /// with a non-ASCII name logged in.
    struct Desk {
        let desk: SupportDesk
        let adminToken: String
        let agentToken: String
    }

    func withDesk(mailer: (any Mailer)?, _ body: (Desk) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rs-mail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteStore(path: folder.appendingPathComponent("test.sqlite").path)
        defer { try? store.close() }

        let configuration = SupportDesk.Configuration(
            publicURL: Self.publicURL, organisation: "Exämple Ltd", passwordHashing: .testing)
        let desk = try SupportDesk(store: store, configuration: configuration, mailer: mailer)
        let (_, password) = try #require(try await desk.bootstrap(adminEmail: "admin@example.com"))
        let first = try await desk.login(email: "admin@example.com", password: password, address: "127.0.0.1")
        let admin = try await desk.changePassword(
            first.token.text, current: password, new: "admin password 1", address: "127.0.0.1")

        let (_, agentPassword) = try await desk.createAgent(
            admin.token.text, email: "zoe@example.com", name: Self.agentName, address: "127.0.0.1")
        let login = try await desk.login(email: "zoe@example.com", password: agentPassword, address: "10.0.0.1")
        let agent = try await desk.changePassword(
            login.token.text, current: agentPassword, new: "zoë's long password", address: "10.0.0.1")
        try await body(Desk(desk: desk, adminToken: admin.token.text, agentToken: agent.token.text))
    }

    private func configuration(_ port: Int) -> SMTPConfiguration {
        var configuration = SMTPConfiguration(host: "127.0.0.1", port: port, security: .none)
        configuration.heloName = "broker.test"
        configuration.connectTimeout = .seconds(5)
        configuration.commandTimeout = .seconds(5)
        return configuration
    }

    private func sender() throws -> MailAddress {
        try MailAddress("support@example.com", displayName: "Example Support")
    }

    private func emailedCount(_ d: Desk) async throws -> Int {
        try await d.desk.auditLog(d.adminToken, AuditQuery(action: .invitationEmailed)).count
    }

    @Test func invitationArrivesAsComposed() async throws {
        let server = try TestSMTPServer()
        defer { server.stop() }
        let mailer = SMTPMailer(configuration: configuration(server.port), sender: try sender())
        try await withDesk(mailer: mailer) { d in
            let (link, _) = try await d.desk.createInvitation(
                d.agentToken, ticket: Self.ticket, endUserName: Self.endUserName, address: "10.0.0.1")
            let grant = try await d.desk.issueConnectionID(d.agentToken, address: "10.0.0.1")
            let email = try await d.desk.emailInvitation(
                d.agentToken, to: Self.recipient, link: link, connectionID: grant, address: "10.0.0.1")
            #expect(email.subject == "Remote support session with Zoë Ünal (Exämple Ltd) - ticket INC-42 #Zoë/ü:1")

            let deliveries = try server.deliveries()
            try #require(deliveries.count == 1)
            let delivery = deliveries[0]
            // Envelope: our sender, exactly the one recipient.
            #expect(delivery.mail_from == "support@example.com")
            #expect(delivery.rcpt_tos == [Self.recipient])
            #expect(delivery.from == [["Example Support", "support@example.com"]])
            // One To address, whatever the name holds. (Python's address parser puts a space between adjacent
            // encoded-words in a display name, against RFC 2047 6.2, so the name is decoded from the raw field.)
            #expect(delivery.to.count == 1 && delivery.to.first?.last == Self.recipient)
            let to = try #require(HeaderDecoding.value("To", in: Array(delivery.raw.utf8)))
            #expect(to.hasSuffix(" <\(Self.recipient)>"))
            #expect(HeaderDecoding.decodeWords(String(to.dropLast(Self.recipient.count + 3))) == Self.endUserName)
            #expect(delivery.reply_to.isEmpty)
            // Exactly the headers MailMessage writes: nothing smuggled in (no Bcc, no Cc).
            #expect(
                delivery.header_names.map { $0.lowercased() } == [
                    "date", "from", "to", "subject", "message-id", "mime-version", "content-type",
                    "content-transfer-encoding",
                ])
            #expect(!delivery.raw.lowercased().components(separatedBy: "\r\n").contains { $0.hasPrefix("bcc:") })
            #expect(delivery.defects.isEmpty)
            #expect(delivery.raw.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })

            // Decoded by Python: the subject and body as the desk composed them.
            #expect(delivery.subject == email.subject)
            #expect(delivery.content_type == "text/plain")
            let body = delivery.body.replacingOccurrences(of: "\r\n", with: "\n")
            #expect(body == email.body)
            let lines = body.components(separatedBy: "\n")
            #expect(lines.contains("    \(link)"))
            #expect(lines.first == "Hello \(Self.endUserName),")
            let code = grant.code.formatted
            #expect(code.count == 7 && code.firstIndex(of: " ") == code.index(code.startIndex, offsetBy: 3))
            #expect(body.contains("connection ID in the support client: \(code) (valid until "))

            let audited = try await d.desk.auditLog(d.adminToken, AuditQuery(action: .invitationEmailed))
            #expect(audited.count == 1 && audited.first?.subject == Self.recipient)
        }
    }

    @Test func withoutAMailerTheDeskSaysSo() async throws {
        try await withDesk(mailer: nil) { d in
            let (link, _) = try await d.desk.createInvitation(
                d.agentToken, ticket: Self.ticket, endUserName: Self.endUserName, address: "")
            await #expect {
                try await d.desk.emailInvitation(d.agentToken, to: Self.recipient, link: link, address: "")
            } throws: { error in
                let error = try #require(error as? DomainError)
                return error.code == .notConfigured && error.reason.contains("no mail relay")
            }
            #expect(try await emailedCount(d) == 0)
        }
    }

    @Test func aRefusedConnectionIsAMailErrorAndNothingIsAudited() async throws {
        let closed = try TestSocket(listening: false)
        defer { closed.close() }
        var configuration = configuration(closed.port)
        configuration.credentials = .init(username: "relay-user", password: "hunter2-secret")
        configuration.allowsPlaintextAuthentication = true
        let mailer = SMTPMailer(configuration: configuration, sender: try sender())
        try await withDesk(mailer: mailer) { d in
            let (link, _) = try await d.desk.createInvitation(
                d.agentToken, ticket: Self.ticket, endUserName: Self.endUserName, address: "")
            await #expect {
                try await d.desk.emailInvitation(d.agentToken, to: Self.recipient, link: link, address: "")
            } throws: { error in
                let error = try #require(error as? MailError)
                let text = "\(error)"
                return error.code == .connectionFailed && error.step == .connect && error.isTransient
                    && text.contains("cannot connect to 127.0.0.1:\(closed.port)") && !text.contains("hunter2")
            }
            #expect(try await emailedCount(d) == 0)
        }
    }

    @Test func aRefusedRecipientIsAMailErrorAndNothingIsAudited() async throws {
        let server = try TestSMTPServer(.init(refuse: [Self.recipient]))
        defer { server.stop() }
        let mailer = SMTPMailer(configuration: configuration(server.port), sender: try sender())
        try await withDesk(mailer: mailer) { d in
            let (link, _) = try await d.desk.createInvitation(d.agentToken, ticket: nil, endUserName: nil, address: "")
            await #expect(throws: MailError(.recipientRefused)) {
                try await d.desk.emailInvitation(d.agentToken, to: Self.recipient, link: link, address: "")
            }
            #expect(try server.deliveries().isEmpty)
            #expect(try await emailedCount(d) == 0)
        }
    }
}
