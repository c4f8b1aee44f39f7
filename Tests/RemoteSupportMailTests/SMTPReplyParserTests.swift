import Testing

@testable import RemoteSupportMail

@Suite struct SMTPReplyParserTests {
    static let conversationText: String = [
        "220 mail.example.com ESMTP ready\r\n", "250-mail.example.com greets you\r\n", "250-SIZE 10240000\r\n",
        "250-STARTTLS\r\n", "250 AUTH PLAIN LOGIN\r\n", "354 go ahead\n", "250\r\n",
    ].joined()
    static let conversation = Array(conversationText.utf8)
    static let expected = [
        SMTPReply(code: 220, lines: ["mail.example.com ESMTP ready"]),
        SMTPReply(code: 250, lines: ["mail.example.com greets you", "SIZE 10240000", "STARTTLS", "AUTH PLAIN LOGIN"]),
        SMTPReply(code: 354, lines: ["go ahead"]),
        SMTPReply(code: 250, lines: [""]),
    ]

    @Test("every split point gives the same replies", arguments: 0...conversation.count)
    func splitAnywhere(at split: Int) throws {
        var parser = SMTPReplyParser()
        var replies = try parser.append(Self.conversation[..<split])
        replies += try parser.append(Self.conversation[split...])
        #expect(replies == Self.expected)
        #expect(!parser.hasPartialReply)
    }

    @Test func byteByByte() throws {
        var parser = SMTPReplyParser()
        var replies: [SMTPReply] = []
        for byte in Self.conversation {
            replies += try parser.append([byte])
        }
        #expect(replies == Self.expected)
    }

    @Test func partialReplyIsHeld() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.append(Array("250-first\r\n250 sec".utf8)).isEmpty)
        #expect(parser.hasPartialReply)
        #expect(try parser.append(Array("ond\r\n".utf8)) == [SMTPReply(code: 250, lines: ["first", "second"])])
    }

    @Test(
        "malformed replies throw",
        arguments: [
            "25 short\r\n", "250xOK\r\n", "abc def\r\n", "\r\n", "150 preliminary\r\n", "650 six\r\n",
            "250-one\r\n251 two\r\n", "2a0 letters\r\n",
        ])
    func malformed(_ text: String) {
        var parser = SMTPReplyParser()
        #expect(throws: MailError(.malformedReply)) { try parser.append(Array(text.utf8)) }
    }

    @Test func poisonedAfterError() {
        var parser = SMTPReplyParser()
        #expect(throws: MailError(.malformedReply)) { try parser.append(Array("xyz\r\n".utf8)) }
        #expect(throws: MailError(.malformedReply)) { try parser.append(Array("250 ok\r\n".utf8)) }
    }

    @Test func lineLengthIsCapped() throws {
        var parser = SMTPReplyParser(limits: .init(maximumLineLength: 600, maximumLines: 4))
        // Exactly at the cap is fine; a line end is not counted.
        let atCap = "250 " + String(repeating: "a", count: 596) + "\r\n"
        #expect(try parser.append(Array(atCap.utf8)).count == 1)
        // One byte over throws as soon as it arrives, without waiting for (or buffering up to) a line end.
        #expect(throws: MailError(.malformedReply)) {
            try parser.append(Array(("250 " + String(repeating: "a", count: 597)).utf8))
        }
    }

    @Test func lineCountIsCapped() throws {
        var parser = SMTPReplyParser(limits: .init(maximumLineLength: 600, maximumLines: 4))
        #expect(try parser.append(Array("250-1\r\n250-2\r\n250-3\r\n250 4\r\n".utf8)).count == 1)
        #expect(throws: MailError(.malformedReply)) {
            try parser.append(Array("250-1\r\n250-2\r\n250-3\r\n250-4\r\n250 5\r\n".utf8))
        }
    }

    @Test func hostileServerCannotMakeUsBufferMuch() {
        // An endless line, fed in chunks, fails at the cap.
        var parser = SMTPReplyParser()
        let chunk = [UInt8](repeating: UInt8(ascii: "9"), count: 1000)
        var chunks = 0
        #expect(throws: MailError(.malformedReply)) {
            while true {
                _ = try parser.append(chunk)
                chunks += 1
            }
        }
        #expect(chunks <= 3)
    }

    @Test func textIsSafeToLog() throws {
        var parser = SMTPReplyParser()
        let replies = try parser.append([50, 53, 48, 32, 97, 7, 0, 27, 98, 13, 99, 0xFF, 13, 10])
        #expect(replies == [SMTPReply(code: 250, lines: ["a???b?c\u{FFFD}"])])
    }

    @Test func replyClasses() {
        #expect(SMTPReply(code: 250, lines: [""]).isPositiveCompletion)
        #expect(SMTPReply(code: 354, lines: [""]).isPositiveIntermediate)
        #expect(SMTPReply(code: 451, lines: [""]).isTransientNegative)
        #expect(SMTPReply(code: 535, lines: [""]).isPermanentNegative)
    }

    @Test func ehloExtensions() {
        let reply = SMTPReply(
            code: 250,
            lines: ["mx greets you", "SIZE 1000", "starttls", "AUTH=LOGIN", "AUTH plain CRAM-MD5", "8BITMIME"])
        let extensions = SMTPServerExtensions(ehloReply: reply)
        #expect(extensions.supports("STARTTLS"))
        #expect(!extensions.supports("MX"))  // the first line is the greeting, not an extension
        #expect(extensions.authMechanisms == ["LOGIN", "PLAIN", "CRAM-MD5"])
        #expect(extensions.sizeLimit == 1000)
        #expect(SMTPServerExtensions(ehloReply: SMTPReply(code: 250, lines: ["x", "SIZE"])).sizeLimit == nil)
        #expect(SMTPServerExtensions(ehloReply: SMTPReply(code: 250, lines: ["x", "SIZE 0"])).sizeLimit == nil)
    }
}
