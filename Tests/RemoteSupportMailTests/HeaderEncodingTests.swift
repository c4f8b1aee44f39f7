import Foundation
import Testing

@testable import RemoteSupportMail

@Suite struct HeaderEncodingTests {
    static let date = Date(timeIntervalSince1970: 1_772_528_700)

    private func render(
        fromName: String? = "Support", toName: String? = nil, subject: String = "Hello", body: String = "Hi\n"
    ) throws -> [UInt8] {
        let message = MailMessage(
            from: try MailAddress("support@example.com", displayName: fromName),
            to: [try MailAddress("alice@example.com", displayName: toName)], subject: subject, body: body)
        return try message.render(date: Self.date, messageID: "abc.123@example.com")
    }

    /// Every header line within 78 octets, ASCII only, no bare CR or LF anywhere, no control characters.
    private func expectWellFormed(_ message: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let text = String(decoding: message, as: UTF8.self)
        #expect(message.allSatisfy { $0 < 0x80 }, sourceLocation: sourceLocation)
        let header = text.components(separatedBy: "\r\n\r\n")[0]
        for line in header.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78, "\(line)", sourceLocation: sourceLocation)
            #expect(!line.utf8.contains { $0 < 0x20 && $0 != 0x09 || $0 == 0x7F }, sourceLocation: sourceLocation)
        }
        // Every CR is followed by LF and every LF preceded by CR.
        let bytes = Array(text.utf8)
        for (i, byte) in bytes.enumerated() where byte == 13 || byte == 10 {
            if byte == 13 { #expect(i + 1 < bytes.count && bytes[i + 1] == 10, sourceLocation: sourceLocation) }
            if byte == 10 { #expect(i > 0 && bytes[i - 1] == 13, sourceLocation: sourceLocation) }
        }
    }

    private func headerNames(_ message: [UInt8]) -> [String] {
        HeaderDecoding.fields(message).map { $0.name.lowercased() }
    }

    @Test func plainMessage() throws {
        let message = try render()
        let text = String(decoding: message, as: UTF8.self)
        #expect(
            text == "Date: Tue, 03 Mar 2026 09:05:00 +0000\r\n" + "From: Support <support@example.com>\r\n"
                + "To: alice@example.com\r\n" + "Subject: Hello\r\n" + "Message-ID: <abc.123@example.com>\r\n"
                + "MIME-Version: 1.0\r\n" + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n" + "\r\n" + "Hi\r\n")
    }

    @Test(
        "injection through a display name stays inside one quoted name",
        arguments: [
            "Bob\r\nBcc: evil@x.com", "Bob\nBcc: evil@x.com", "Bob\rBcc: evil@x.com", "Bob\r\n\r\nbody injection",
            "Bob\u{0}Bcc: evil@x.com", "Bob\u{85}Bcc: evil@x.com", "Bob\u{2028}Bcc: evil@x.com",
        ])
    func displayNameInjection(_ name: String) throws {
        let message = try render(fromName: name, toName: name)
        expectWellFormed(message)
        #expect(
            headerNames(message) == [
                "date", "from", "to", "subject", "message-id", "mime-version", "content-type",
                "content-transfer-encoding",
            ])
        let from = try #require(HeaderDecoding.value("From", in: message))
        #expect(from.hasSuffix("<support@example.com>"))
        #expect(from.hasPrefix("\"Bob ") || from.hasPrefix("Bob "))  // quoted when it has specials such as ":"
    }

    @Test(
        "injection through the subject stays in the subject",
        arguments: [
            "Ticket 42\r\nBcc: evil@x.com", "Ticket 42\nBcc: evil@x.com", "Ticket 42\u{0}\r\n\r\nfake body",
            "Ticket\t42\u{7F}\u{1B}[31m red", "Ticket 42\r\n.\r\nMAIL FROM:<evil@x.com>",
        ])
    func subjectInjection(_ subject: String) throws {
        let message = try render(subject: subject)
        expectWellFormed(message)
        #expect(
            headerNames(message) == [
                "date", "from", "to", "subject", "message-id", "mime-version", "content-type",
                "content-transfer-encoding",
            ])
        let decoded = HeaderDecoding.decodeWords(try #require(HeaderDecoding.value("Subject", in: message)))
        #expect(decoded.hasPrefix("Ticket"))
        #expect(!decoded.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
    }

    @Test func controlsBecomeOneSpace() {
        #expect(HeaderEncoding.sanitized("Bob\r\nBcc: evil@x.com") == "Bob Bcc: evil@x.com")
        #expect(HeaderEncoding.sanitized("\r\n  Bob \u{0}\u{0} Smith\t") == "Bob   Smith")
        #expect(HeaderEncoding.sanitized("\u{1}\u{2}") == "")
    }

    @Test("non-ASCII names decode back", arguments: ["Zoë Ünal", "李雷", "Ünal, Zoë (IT)", "🎉 Party 🎉", "Ελληνικά"])
    func nonASCIINames(_ name: String) throws {
        let message = try render(fromName: name, toName: name)
        expectWellFormed(message)
        let from = try #require(HeaderDecoding.value("From", in: message))
        #expect(from.hasPrefix("=?utf-8?B?"))
        #expect(HeaderDecoding.decodeWords(from) == name + " <support@example.com>")
        let to = try #require(HeaderDecoding.value("To", in: message))
        #expect(HeaderDecoding.decodeWords(to) == name + " <alice@example.com>")
    }

    @Test(
        "subjects decode back",
        arguments: [
            "Zoë Ünal needs help", "李雷的支持请求", "Plain ASCII subject", "Looks encoded =?utf-8?B?QUJD?= but is not",
            String(repeating: "Ticket 42 — ", count: 30), String(repeating: "x", count: 200),
            String(repeating: "ü", count: 100), "👨‍👩‍👧‍👦 family emoji",
        ])
    func subjectsRoundTrip(_ subject: String) throws {
        let message = try render(subject: subject)
        expectWellFormed(message)
        let value = try #require(HeaderDecoding.value("Subject", in: message))
        #expect(HeaderDecoding.decodeWords(value) == subject.trimmingCharacters(in: .whitespaces))
    }

    @Test func asciiNamesQuotedWhenNeeded() throws {
        #expect(HeaderEncoding.phrase("Bob Smith") == ["Bob", "Smith"])
        #expect(HeaderEncoding.phrase("Smith, Bob") == ["\"Smith, Bob\""])
        #expect(HeaderEncoding.phrase("J. \"Bobby\" Smith \\o/") == ["\"J. \\\"Bobby\\\" Smith \\\\o/\""])
        #expect(HeaderEncoding.phrase("") == [])
        #expect(HeaderEncoding.phrase("\r\n") == [])
        #expect(HeaderEncoding.phrase(String(repeating: "a", count: 65)).allSatisfy { $0.hasPrefix("=?utf-8?B?") })
    }

    @Test func encodedWordsSplitBetweenScalars() {
        let words = HeaderEncoding.encodedWords(String(repeating: "李", count: 30))  // 90 octets
        #expect(words.count == 3)
        for word in words {
            #expect(word.utf8.count <= 75)
            let payload = Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))!
            #expect(String(data: payload, encoding: .utf8) != nil)  // whole characters in every word
        }
    }

    @Test func manyRecipientsFold() throws {
        let to = try (0..<20).map { try MailAddress("user\($0)@example.com", displayName: "User \($0)") }
        let message = try MailMessage(from: MailAddress("a@example.com"), to: to, subject: "s", body: "b")
            .render(date: Self.date, messageID: "x@y")
        expectWellFormed(message)
        let value = try #require(HeaderDecoding.value("To", in: message))
        #expect(value.components(separatedBy: ", ").count == 20)
    }

    @Test func replyTo() throws {
        let message = try MailMessage(
            from: MailAddress("a@example.com"), to: [MailAddress("b@example.com")],
            replyTo: MailAddress("help@example.com", displayName: "Help Desk"), subject: "s", body: "b"
        ).render(date: Self.date, messageID: "x@y")
        #expect(HeaderDecoding.value("Reply-To", in: message) == "Help Desk <help@example.com>")
    }

    @Test(arguments: [
        "", "no-at", "a@b@c", "a b@c", "<a@b", "a@b>x", "a\r\n@b", "@b", "a@",
        String(repeating: "a", count: 250) + "@b",
    ])
    func badMessageID(_ id: String) throws {
        let message = try MailMessage(
            from: MailAddress("a@example.com"), to: [MailAddress("b@example.com")], subject: "s", body: "b")
        #expect(throws: MailError(.invalidMessage)) { try message.render(date: Self.date, messageID: id) }
    }

    @Test func messageIDWithBrackets() throws {
        let message = try MailMessage(
            from: MailAddress("a@example.com"), to: [MailAddress("b@example.com")], subject: "s", body: "b"
        )
        .render(date: Self.date, messageID: "<id@host>")
        #expect(HeaderDecoding.value("Message-ID", in: message) == "<id@host>")
    }

    @Test func recipientCount() throws {
        let from = try MailAddress("a@example.com")
        #expect(throws: MailError(.invalidMessage)) {
            try MailMessage(from: from, to: [], subject: "s", body: "b").render(date: Self.date, messageID: "x@y")
        }
        let many = try (0...MailMessage.maximumRecipients).map { try MailAddress("u\($0)@example.com") }
        #expect(throws: MailError(.invalidMessage)) {
            try MailMessage(from: from, to: many, subject: "s", body: "b").render(date: Self.date, messageID: "x@y")
        }
    }

    @Test(arguments: [
        (0.0, "Thu, 01 Jan 1970 00:00:00 +0000"), (1_772_528_700.0, "Tue, 03 Mar 2026 09:05:00 +0000"),
        (1_709_168_461.9, "Thu, 29 Feb 2024 01:01:01 +0000"), (951_782_399.0, "Mon, 28 Feb 2000 23:59:59 +0000"),
        (-1.0, "Wed, 31 Dec 1969 23:59:59 +0000"),
    ])
    func dates(_ seconds: Double, _ expected: String) {
        #expect(MailDate.format(Date(timeIntervalSince1970: seconds)) == expected)
    }
}
