import Testing

@testable import RemoteSupportMail

@Suite struct SMTPConfigurationTests {
    @Test func plainURL() throws {
        let configuration = try SMTPConfiguration(url: "smtp://relay.example.com")
        #expect(configuration.host == "relay.example.com")
        #expect(configuration.port == 25)
        #expect(configuration.security == .none)
        #expect(configuration.credentials == nil)
    }

    @Test func startTLSWithCredentials() throws {
        let configuration = try SMTPConfiguration(
            url: "smtp+starttls://bob%40example.com:p%3Ass%2Fw%25rd%20x@mail.example.com:2525/")
        #expect(configuration.security == .startTLS)
        #expect(configuration.port == 2525)
        #expect(configuration.host == "mail.example.com")
        #expect(configuration.credentials == .init(username: "bob@example.com", password: "p:ss/w%rd x"))
    }

    @Test func implicitTLS() throws {
        let configuration = try SMTPConfiguration(url: "SMTPS://u:p@127.0.0.1")
        #expect(configuration.security == .tls)
        #expect(configuration.port == 465)
        #expect(configuration.host == "127.0.0.1")
    }

    @Test func defaultPorts() throws {
        #expect(try SMTPConfiguration(url: "smtp+starttls://h").port == 587)
        #expect(SMTPConfiguration(host: "h").port == 587)
        #expect(SMTPConfiguration(host: "h").security == .startTLS)
        #expect(SMTPConfiguration(host: "h", security: .tls).port == 465)
    }

    @Test func ipv6() throws {
        let configuration = try SMTPConfiguration(url: "smtp://[::1]:2525")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 2525)
    }

    @Test func rawAtInPasswordUsesTheLastAt() throws {
        let configuration = try SMTPConfiguration(url: "smtp://bob:se@cret@mail.example.com")
        #expect(configuration.credentials?.password == "se@cret")
    }

    @Test(
        "bad URLs",
        arguments: [
            "", "relay.example.com", "http://relay.example.com", "smtp:relay", "smtp://", "smtp://:25",
            "smtp://host:0", "smtp://host:65536", "smtp://host:", "smtp://host:25x", "smtp://host:-1",
            "smtp://host/path", "smtp://host?x=1", "smtp://host#frag", "smtp://user@host", "smtp://:pw@host",
            "smtp://user:@host", "smtp://u:p%zz@host", "smtp://u:p%4@host", "smtp://u:%FF@host", "smtp://ho st",
            "smtp://host\r\n", "smtp://hóst", "smtp://a:b:c", "smtp://[::1", "smtp://[::1]x", "smtp://[zz]",
            "smtp://host_name", "smtp://" + String(repeating: "a", count: 5000),
        ])
    func badURL(_ url: String) {
        #expect(throws: MailError(.invalidURL)) { try SMTPConfiguration(url: url) }
    }

    @Test func errorsNeverShowThePassword() {
        for url in [
            "smtp://bob:hunter2%zz@host", "smtp://bob:hunter2%FF@host", "smtp://bob:hunter2@host/x",
            "smtp://bob:hunter2@host:99999",
        ] {
            #expect {
                try SMTPConfiguration(url: url)
            } throws: { error in
                !"\(error)".contains("hunter2")
            }
        }
    }

    @Test func descriptionHidesPassword() throws {
        let configuration = try SMTPConfiguration(url: "smtps://bob:hunter2@mail.example.com")
        #expect("\(configuration)" == "smtps://bob:***@mail.example.com:465")
        #expect(!"\(configuration.credentials!)".contains("hunter2"))
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("hunter2"))
    }

    @Test func validation() {
        var configuration = SMTPConfiguration(host: "mail.example.com")
        #expect(throws: Never.self) { try configuration.validate() }
        configuration.heloName = "bad name"
        #expect(throws: MailError(.invalidConfiguration)) { try configuration.validate() }
        configuration.heloName = "[192.0.2.1]"
        #expect(throws: Never.self) { try configuration.validate() }
        configuration.commandTimeout = .zero
        #expect(throws: MailError(.invalidConfiguration)) { try configuration.validate() }
        configuration.commandTimeout = .seconds(1)
        configuration.credentials = .init(username: "u", password: "p\u{0}")
        #expect(throws: MailError(.invalidConfiguration)) { try configuration.validate() }
        configuration.credentials = .init(username: "u", password: String(repeating: "p", count: 1025))
        #expect(throws: MailError(.invalidConfiguration)) { try configuration.validate() }
        configuration.credentials = nil
        configuration.host = "host\r\n"
        #expect(throws: MailError(.invalidConfiguration)) { try configuration.validate() }
    }
}
