import Foundation
@testable import RemoteSupportCore
import Testing

@Suite("Domain fields")
struct FieldTests {
    @Test(arguments: ["a@b.co", "first.last+tag@example.com", "o'brien@sub.example.org", "ADMIN@localhost", "x_y-z@a-b.example"])
    func validEmailAddresses(_ text: String) throws {
        let address = try EmailAddress(text)
        #expect(address.value == text && address.normalized == text.lowercased())
    }

    @Test(arguments: ["", "plain", "a@", "@b.com", "a@@b.com", "a b@c.com", ".a@b.com", "a.@b.com", "a..b@c.com",
                      "a@-b.com", "a@b-.com", "a@b..com", "a@b.com\r\nBcc: x@y.z", "a\u{0}@b.com", "zoë@example.com",
                      "a@exämple.com", "\"quoted\"@example.com", "a@[192.0.2.1]", "<a@b.com>"])
    func invalidEmailAddresses(_ text: String) {
        #expect(throws: DomainError(.invalidField)) { try EmailAddress(text) }
    }

    @Test func emailLengthLimits() throws {
        let local64 = String(repeating: "a", count: 64)
        _ = try EmailAddress("\(local64)@example.com")
        #expect(throws: DomainError(.invalidField)) { try EmailAddress("\(local64)a@example.com") }
        let label = String(repeating: "b", count: 63)
        #expect(throws: DomainError(.invalidField)) { try EmailAddress("a@\(label)b.com") }
        #expect(throws: DomainError(.invalidField)) { try EmailAddress("a@" + Array(repeating: label, count: 4).joined(separator: ".")) }
        #expect(throws: DomainError(.invalidField)) { try EmailAddress(String(repeating: "x", count: 1_000_000)) }
    }

    @Test func textRulesTrimNormaliseAndRejectControls() throws {
        #expect(try TextRules.displayName.validate("  Zoe\u{0308} Smith ") == "Zoë Smith")  // NFC
        #expect(try TextRules.jobTitle.validate("   ") == "")
        #expect(throws: DomainError(.invalidField)) { try TextRules.displayName.validate("  ") }
        for bad in ["a\nb", "a\rb", "a\tb", "a\u{0}b", "a\u{7F}b", "a\u{85}b", "a\u{202E}b", "a\u{2028}b", "a\u{FEFF}b", "a\u{E000}b"] {
            #expect(throws: DomainError(.invalidField), "\(bad.debugDescription)") { try TextRules.displayName.validate(bad) }
        }
        // Emoji with a zero-width joiner are names people have.
        #expect(try TextRules.displayName.validate("Sam 👩‍💻") == "Sam 👩‍💻")
        #expect(throws: DomainError(.invalidField)) { try TextRules.displayName.validate(String(repeating: "x", count: 101)) }
        _ = try TextRules.displayName.validate(String(repeating: "é", count: 100))
        #expect(throws: DomainError(.invalidField)) { try TextRules.displayName.validate(String(repeating: "x", count: 5_000_000)) }
    }

    @Test func ticketsAllowWhatTicketSystemsPrint() throws {
        for good in ["INC0012345", "T-1#2/3", "SR:2026.11_4", "Ticket 42", "Заявка-5"] { _ = try TextRules.ticket.validate(good) }
        for bad in ["<script>", "a&b", "a\"b", "x'y", "a;b", "a?b=c"] {
            #expect(throws: DomainError(.invalidField), "\(bad)") { try TextRules.ticket.validate(bad) }
        }
    }

    @Test(arguments: [("Zoë O'Brien", "zoe-obrien"), ("  Alice   Smith ", "alice-smith"), ("李雷", "agent"),
                      ("Jean-Luc Picard", "jean-luc-picard"), ("Ünal---Çelik!!", "unal-celik"), ("x@y", "x-y"),
                      (String(repeating: "abcdefghij", count: 10), String(repeating: "abcdefghij", count: 4))])
    func slugsAreDerivedFromNames(_ name: String, _ slug: String) throws {
        #expect(AgentSlug(derivedFrom: name).value == slug)
        #expect(try AgentSlug(slug).value == slug)
        #expect(AgentSlug(derivedFrom: name, suffix: 3).value == slug + "-3")
    }

    @Test(arguments: ["", "-a", "a-", "A", "a b", "a/b", "a%20", String(repeating: "a", count: 65), "é"])
    func invalidSlugs(_ text: String) {
        #expect(throws: DomainError(.invalidField)) { try AgentSlug(text) }
    }

    @Test func publicURLsAreNormalised() throws {
        #expect(try PublicURL("HTTPS://Help.Example.com/").value == "https://help.example.com")
        #expect(try PublicURL("http://127.0.0.1:8080/support/").value == "http://127.0.0.1:8080/support")
        #expect(try PublicURL("https://[::1]:8443").value == "https://[::1]:8443")
        for bad in ["ftp://x", "https://", "https://user@host", "https://host/a?b", "https://host/a#b", "https://host//a",
                    "https://ho st", "javascript:alert(1)", "https://host/%2e%2e"] {
            #expect(throws: DomainError(.invalidField), "\(bad)") { try PublicURL(bad) }
        }
    }

    @Test func base64RoundTripsAndRejectsNonCanonical() {
        var random = TestRandom(seed: 9)
        for length in 0..<40 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            for urlSafe in [false, true] {
                let text = Base64.encode(bytes, urlSafe: urlSafe)
                #expect(!text.contains("="))
                #expect(Base64.decode(text, urlSafe: urlSafe) == bytes)
            }
        }
        #expect(Base64.decode("AB", urlSafe: false) == nil)  // stray bits: "AA" is the canonical form
        #expect(Base64.decode("A", urlSafe: false) == nil)
        #expect(Base64.decode("a+b/", urlSafe: true) == nil)
        #expect(Base64.decode("a-b_", urlSafe: false) == nil)
        #expect(Base64.decode("AA==", urlSafe: false) == nil)
    }
}
