import Foundation
import Testing

@testable import RemoteSupportMail

@Suite struct QuotedPrintableTests {
    private func encoded(_ text: String) -> String {
        String(decoding: QuotedPrintable.encode(text), as: UTF8.self)
    }

    /// A small RFC 2045 decoder to check round trips (soft breaks removed, =XX decoded, CRLF -> LF).
    private func decoded(_ qp: String) -> String {
        var bytes: [UInt8] = []
        let input = Array(qp.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var i = 0
        while i < input.count {
            if input[i] == UInt8(ascii: "="), i + 2 < input.count,
                let value = UInt8(String(decoding: input[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                i += 3
            } else {
                bytes.append(input[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }

    @Test func basics() {
        #expect(encoded("Hello") == "Hello\r\n")
        #expect(encoded("a=b") == "a=3Db\r\n")
        #expect(encoded("Zoë") == "Zo=C3=AB\r\n")
        #expect(encoded("trailing  ") == "trailing =20\r\n")
        #expect(encoded("tab\t") == "tab=09\r\n")
        #expect(encoded("a\nb\r\nc\rd") == "a\r\nb\r\nc\r\nd\r\n")
        #expect(encoded("end\n") == "end\r\n")
        #expect(encoded(".dot") == ".dot\r\n")
        #expect(encoded("") == "\r\n")
    }

    @Test(arguments: [
        String(repeating: "x", count: 1000), String(repeating: "ü", count: 300), String(repeating: "a ", count: 200),
        "Hello Zoë,\n.leading dot\n..two\n.\n\nUnicode: 李雷 🎉\nTrailing spaces   \n\tTabbed\t\n",
        String(repeating: "=", count: 100) + "\n" + String(repeating: " ", count: 100),
    ])
    func linesStayShortAndRoundTrip(_ text: String) {
        let qp = encoded(text)
        for line in qp.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76)
            #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"))
        }
        #expect(qp.utf8.allSatisfy { $0 < 0x80 })
        let expected = text.hasSuffix("\n") ? text : text + "\n"
        #expect(decoded(qp) == expected)
    }
}
