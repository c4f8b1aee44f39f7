import Testing

@testable import RemoteSupportMail

@Suite struct DotStuffingTests {
    private func stuffed(_ text: String) -> String {
        String(decoding: DotStuffing.encode(Array(text.utf8)), as: UTF8.self)
    }

    @Test func leadingDotsAreDoubled() {
        #expect(stuffed("a\r\n.b\r\n..c\r\nd.e\r\n") == "a\r\n..b\r\n...c\r\nd.e\r\n.\r\n")
    }

    @Test func aLoneDotLineIsNotTheEnd() {
        #expect(stuffed("a\r\n.\r\nb\r\n") == "a\r\n..\r\nb\r\n.\r\n")
        #expect(stuffed(".") == "..\r\n.\r\n")
        #expect(stuffed(".\r\n") == "..\r\n.\r\n")
    }

    @Test func missingFinalLineEndIsAdded() {
        #expect(stuffed("a") == "a\r\n.\r\n")
        #expect(stuffed("") == ".\r\n")
    }

    @Test(
        "bare CR and LF become CRLF, so no smuggled end of data",
        arguments: [
            ("a\n.\r\nMAIL FROM:<x@y>\r\n", "a\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n"),
            ("a\r.\r\nb", "a\r\n..\r\nb\r\n.\r\n"),
            ("a\n.\nb\n", "a\r\n..\r\nb\r\n.\r\n"),
            ("a\r\r\nb", "a\r\n\r\nb\r\n.\r\n"),
        ])
    func lineEndsNormalised(_ input: String, _ expected: String) {
        #expect(stuffed(input) == expected)
    }

    @Test func onlyOneTerminator() {
        let out = stuffed("x\r\n.\r\n.\r\n\r\n.\r\n")
        #expect(out.components(separatedBy: "\r\n.\r\n").count == 2)
        #expect(out.hasSuffix("\r\n.\r\n"))
    }
}
