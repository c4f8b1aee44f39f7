import Testing

@testable import RemoteSupportMail

@Suite struct MailAddressTests {
    @Test(arguments: [
        "a@b", "bob@example.com", "first.last+tag@sub.example.co.uk", "x!#$%&'*+-/=?^_`{|}~@host-1.example",
        String(repeating: "l", count: 64) + "@example.com",
    ])
    func valid(_ address: String) throws {
        #expect(try MailAddress(address).address == address)
    }

    @Test(arguments: [
        "", "no-at-sign", "@example.com", "bob@", "bob@@example.com", "a@b@c", "bob @example.com",
        "bob@exa mple.com", "bob\r\n@example.com", "bob@example.com\r\nRCPT TO:<evil@x.com>", "bob@example.com\n",
        "bob\0@example.com", "<bob@example.com>", "bob@example.com>", "\"bob\"@example.com", ".bob@example.com",
        "bob.@example.com", "bo..b@example.com", "bob@-example.com", "bob@example-.com", "bob@exam_ple.com",
        "bob@example..com", "zoë@example.com", "bob@exämple.com", "bob,eve@example.com", "bob@[127.0.0.1]",
        String(repeating: "l", count: 65) + "@example.com",
        "a@" + String(repeating: "b", count: 64) + ".com",
        "a@" + Array(repeating: String(repeating: "d", count: 60), count: 5).joined(separator: "."),
    ])
    func invalid(_ address: String) {
        #expect(throws: MailError(.invalidAddress)) { try MailAddress(address) }
    }

    @Test func lengthLimit() throws {
        let domain = Array(repeating: String(repeating: "d", count: 60), count: 3).joined(separator: ".") + ".example"
        let local = String(repeating: "l", count: 254 - 1 - domain.count)
        #expect(try MailAddress(local + "@" + domain).address.utf8.count == 254)
        #expect(throws: MailError(.invalidAddress)) { try MailAddress("l" + local + "@" + domain) }
    }

    @Test func errorShowsTheInputSafely() {
        #expect {
            try MailAddress("bob\r\nBcc: x@y")
        } throws: { error in
            let text = "\(error)"
            return !text.contains("\r") && !text.contains("\n")
        }
    }

    @Test func domain() throws {
        #expect(try MailAddress("a.b@mail.example.com").domain == "mail.example.com")
    }
}
