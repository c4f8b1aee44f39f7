import Foundation
import Testing
@testable import RemoteSupportCore

/// Join links: what `LinkSigner` builds, what it accepts back, and what it refuses (and with which code).
@Suite("LinkSigner: building and parsing join links")
struct LinkSignerTests {
    static let key: [UInt8] = (0..<32).map { UInt8($0 * 3 + 1) }
    static let otherKey: [UInt8] = (0..<32).map { UInt8(255 - $0) }
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let later = Date(timeIntervalSince1970: 1_800_000_000)
    static let id = try! InvitationID("AAECAwQFBgcICQoLDA0ODw")  // bytes 0 ... 15
    static let otherID = try! InvitationID("AAECAwQFBgcICQoLDA0OEA")

    let signer = try! LinkSigner(publicURL: PublicURL("https://help.example.com"), key: key)
    let slug = try! AgentSlug("zoe-obrien")

    func invitation(ticket: String? = "#4711/b", name: String? = "Zoë Ärger", expires: Date = later,
                    slug: String = "zoe-obrien", id: InvitationID = id) throws -> Invitation {
        try Invitation(id: id, agentSlug: AgentSlug(slug), ticket: ticket, endUserName: name, expires: expires)
    }

    func link(_ invitation: Invitation, signer: LinkSigner? = nil) -> String {
        (signer ?? self.signer).link(for: .invitation(invitation))
    }

    /// The link with one query parameter's raw (already encoded) value replaced, or the parameter removed.
    func replacing(_ name: String, with raw: String?, in link: String) -> String {
        let parts = link.split(separator: "?", maxSplits: 1)
        var pairs = parts[1].split(separator: "&").map(String.init)
        if let index = pairs.firstIndex(where: { $0.hasPrefix(name + "=") }) {
            if let raw { pairs[index] = "\(name)=\(raw)" } else { pairs.remove(at: index) }
        } else if let raw {
            pairs.insert("\(name)=\(raw)", at: 0)
        }
        return "\(parts[0])?\(pairs.joined(separator: "&"))"
    }

    func parse(_ link: String, at time: Date = now) throws(DomainError) -> JoinLink {
        try signer.parse(link, at: time)
    }

    // MARK: - Round trips

    @Test("a personal link is <public URL>/join/<slug> and parses back")
    func personal() throws {
        let text = signer.link(for: .personal(slug))
        #expect(text == "https://help.example.com/join/zoe-obrien")
        #expect(try parse(text) == .personal(slug))
        #expect(try parse(text, at: .distantFuture) == .personal(slug), "personal links do not expire")
    }

    @Test("an invitation link carries its fields percent-encoded, in a fixed order, and parses back")
    func invitationFormat() throws {
        let invitation = try invitation()
        let text = link(invitation)
        #expect(text.hasPrefix("https://help.example.com/join/zoe-obrien?ticket=%234711%2Fb&name=Zo%C3%AB%20%C3%84rger&expires=1800000000&id=AAECAwQFBgcICQoLDA0ODw&sig="))
        #expect(text.split(separator: "sig=")[1].count == 43, "32 bytes of HMAC-SHA256 in base64url")
        #expect(try parse(text) == .invitation(invitation))
        #expect(link(invitation) == text, "building is deterministic")
    }

    @Test("invitations round-trip with any mix of ticket and name, non-ASCII included",
          arguments: [
              ("#4711/b", "Zoë Ärger-Şahin"), ("INC-42: a.b_c", nil), (nil, "李 小龍"), (nil, "👩‍💻 Ada"),
              ("T/1#2", "A+B & C=D?"), (nil, nil), ("Ticket 7", "O'Brien, Ünal"), ("ß", "%41 is not an escape"),
          ] as [(String?, String?)])
    func invitationRoundTrip(ticket: String?, name: String?) throws {
        let invitation = try invitation(ticket: ticket, name: name)
        let parsed = try parse(link(invitation))
        #expect(parsed == .invitation(invitation))
        guard case .invitation(let back) = parsed else { return }
        #expect(back.ticket == ticket && back.endUserName == name && back.expires == Self.later && back.id == Self.id)
    }

    @Test("values are validated before signing: trimmed and NFC, and the link carries that form")
    func normalisedValues() throws {
        let invitation = try invitation(ticket: "  T-1 ", name: "Zoe\u{0308}")  // e + combining diaeresis
        #expect(invitation.ticket == "T-1")
        #expect(invitation.endUserName?.unicodeScalars.count == 3, "NFC: one scalar for ë")
        #expect(link(invitation).contains("name=Zo%C3%AB&"))
        #expect(try parse(link(invitation)) == .invitation(invitation))
    }

    // MARK: - Tampering

    @Test("changing any signed field breaks the signature",
          arguments: [
              ("ticket", "%234711%2Fc"), ("ticket", nil), ("name", "Zo%C3%AB%20%C3%84rgen"), ("name", nil),
              ("expires", "1800000001"), ("expires", "1799999999"), ("id", "AAECAwQFBgcICQoLDA0OEA"),
              ("sig", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
          ] as [(String, String?)])
    func tamperedField(name: String, raw: String?) throws {
        let text = replacing(name, with: raw, in: link(try invitation()))
        #expect(throws: DomainError(.badSignature)) { try parse(text) }
    }

    @Test("adding a ticket or name the signer did not sign breaks the signature")
    func addedField() throws {
        let text = link(try invitation(ticket: nil, name: nil))
        #expect(throws: DomainError(.badSignature)) { try parse(replacing("ticket", with: "T-1", in: text)) }
        #expect(throws: DomainError(.badSignature)) { try parse(replacing("name", with: "Eve", in: text)) }
    }

    @Test("moving the ticket into the name (same text, other field) breaks the signature")
    func movedField() throws {
        let text = link(try invitation(ticket: "T-1", name: nil))
        let moved = replacing("name", with: "T-1", in: replacing("ticket", with: nil, in: text))
        #expect(throws: DomainError(.badSignature)) { try parse(moved) }
    }

    @Test("another agent's slug breaks the signature")
    func tamperedSlug() throws {
        let text = link(try invitation()).replacingOccurrences(of: "/join/zoe-obrien?", with: "/join/zoe-obrie?")
        #expect(throws: DomainError(.badSignature)) { try parse(text) }
    }

    @Test("a link signed with another key is refused")
    func wrongKey() throws {
        let other = try LinkSigner(publicURL: PublicURL("https://help.example.com"), key: Self.otherKey)
        #expect(throws: DomainError(.badSignature)) { try parse(link(try invitation(), signer: other)) }
        #expect(try parse(other.link(for: .personal(slug))) == .personal(slug), "personal links are not signed")
    }

    @Test("a changed value that validation would normalise back is refused, not silently accepted")
    func unnormalisedValue() throws {
        let text = link(try invitation(ticket: "T-1", name: nil))
        #expect(throws: DomainError(.badSignature)) { try parse(replacing("ticket", with: "%20T-1", in: text)) }
    }

    // MARK: - Expiry

    @Test("an invitation expires at its second: valid before, expired at and after")
    func expiry() throws {
        let text = link(try invitation(expires: Self.now))
        #expect(try parse(text, at: Self.now.addingTimeInterval(-1)) == .invitation(try invitation(expires: Self.now)))
        #expect(throws: DomainError(.expired)) { try parse(text, at: Self.now) }
        #expect(throws: DomainError(.expired)) { try parse(text, at: Self.later) }
    }

    @Test("the signature is checked before the expiry: an altered expired link is a bad signature")
    func signatureBeforeExpiry() throws {
        let text = replacing("ticket", with: "X", in: link(try invitation(expires: Self.now)))
        #expect(throws: DomainError(.badSignature)) { try parse(text, at: Self.later) }
    }

    // MARK: - Not our links

    @Test("links of another base URL, path or shape are malformed",
          arguments: [
              "https://evil.example.com/join/zoe-obrien", "http://help.example.com/join/zoe-obrien",
              "https://help.example.com.evil.com/join/zoe-obrien", "https://help.example.com:8443/join/zoe-obrien",
              "https://help.example.com/joinx/zoe-obrien", "https://help.example.com/join/", "https://help.example.com/join",
              "https://help.example.com/s/zoe-obrien", "help.example.com/join/zoe-obrien", "", "   ",
              "https://help.example.com/join/Zoe-OBrien", "https://help.example.com/join/zoe%2Dobrien",
              "https://help.example.com/join/-zoe", "https://help.example.com/join/zoe/obrien",
              "https://help.example.com/join/zoe-obrien//",
          ])
    func foreign(text: String) {
        #expect(throws: DomainError(.malformedLink)) { try parse(text) }
    }

    @Test("a link longer than 2048 bytes is malformed before any work")
    func tooLong() {
        let text = "https://help.example.com/join/zoe-obrien?name=" + String(repeating: "a", count: 2048)
        #expect(throws: DomainError(.malformedLink)) { try parse(text) }
    }

    @Test("an invitation needs expires, id and a 32-byte sig; ids and sigs must be canonical base64url")
    func missingParameters() throws {
        let text = link(try invitation())
        for name in ["expires", "id", "sig"] {
            #expect(throws: DomainError(.malformedLink), "\(name)") { try parse(replacing(name, with: nil, in: text)) }
        }
        for (name, raw) in [("expires", "soon"), ("expires", "-1"), ("expires", ""), ("expires", "1e9"),
                            ("id", "AAECAwQFBgcICQoLDA0OD"), ("id", "AAECAwQFBgcICQoLDA0ODx"),  // short; stray bits
                            ("id", "AAECAwQFBgcICQoLDA0ODw=="), ("sig", "AAAA"), ("sig", String(repeating: "A", count: 42) + "B")] {
            #expect(throws: DomainError(.malformedLink), "\(name)=\(raw)") { try parse(replacing(name, with: raw, in: text)) }
        }
    }

    // MARK: - Percent-encoding and query syntax

    @Test("bad escapes and invalid UTF-8 are malformed", arguments: ["%zz", "%", "%4", "a%", "%C3%28", "%C3", "%FF", "%ED%A0%80"])
    func badEscape(raw: String) throws {
        let text = replacing("name", with: raw, in: link(try invitation()))
        #expect(throws: DomainError(.malformedLink)) { try parse(text) }
    }

    @Test("'+' is a space (form encoding), escapes may be lowercase, and both still verify")
    func equivalentSpellings() throws {
        let invitation = try invitation(ticket: "INC 42", name: "Zoë Ärger")
        let text = link(invitation)
        let plus = text.replacingOccurrences(of: "%20", with: "+")
        #expect(plus != text)
        #expect(try parse(plus) == .invitation(invitation))
        let lower = text.replacingOccurrences(of: "%C3%AB", with: "%c3%ab")
        #expect(try parse(lower) == .invitation(invitation))
        let zeros = text.replacingOccurrences(of: "expires=1800000000", with: "expires=01800000000")
        #expect(try parse(zeros) == .invitation(invitation))
    }

    @Test("a literal '+' in a value is a space, so a name with a plus needs %2B")
    func literalPlus() throws {
        let invitation = try invitation(name: "A+B")
        let text = link(invitation)
        #expect(text.contains("name=A%2BB&"))
        #expect(try parse(text) == .invitation(invitation))
        #expect(throws: DomainError(.badSignature)) { try parse(text.replacingOccurrences(of: "A%2BB", with: "A+B")) }
    }

    @Test("repeated and unknown parameters are malformed; empty pairs are skipped")
    func querySyntax() throws {
        let text = link(try invitation())
        let query = String(text.split(separator: "?")[1])
        #expect(throws: DomainError(.malformedLink)) { try parse(text + "&ticket=%234711%2Fb") }
        #expect(throws: DomainError(.malformedLink)) { try parse(text + "&sig=" + query.split(separator: "sig=")[1]) }
        #expect(throws: DomainError(.malformedLink)) { try parse(text + "&utm_source=mail") }
        #expect(throws: DomainError(.malformedLink)) { try parse(text + "&Ticket=x") }
        #expect(throws: DomainError(.malformedLink), "a key without '=' is an empty value") {
            try parse(replacing("ticket", with: nil, in: text) + "&ticket")
        }
        #expect(try parse(text.replacingOccurrences(of: "&", with: "&&") + "&") == .invitation(try invitation()))
        #expect(throws: DomainError(.malformedLink)) { try parse(String(text.split(separator: "?")[0]) + "?&") }
    }

    @Test("fragments are ignored, a trailing slash after the slug is accepted, an empty query is personal")
    func fragmentsAndSlashes() throws {
        let personal = signer.link(for: .personal(slug))
        for variant in [personal + "/", personal + "#x", personal + "/#x?ticket=1", personal + "?", personal + "?#frag"] {
            #expect(try parse(variant) == .personal(slug), "\(variant)")
        }
        let invitation = try invitation()
        let text = link(invitation)
        #expect(try parse(text + "#section") == .invitation(invitation))
        #expect(try parse(text + "#&ticket=x") == .invitation(invitation), "what follows # is never read")
        #expect(try parse(text.replacingOccurrences(of: "zoe-obrien?", with: "zoe-obrien/?")) == .invitation(invitation))
    }

    @Test("scheme and host in any case, and surrounding spaces, are accepted; the slug is case-sensitive")
    func caseAndSpaces() throws {
        #expect(try parse("HTTPS://Help.EXAMPLE.com/join/zoe-obrien") == .personal(slug))
        #expect(try parse("  https://help.example.com/join/zoe-obrien\t") == .personal(slug))
        #expect(throws: DomainError(.malformedLink)) { try parse("https://help.example.com/join/ZOE-OBRIEN") }
        let invitation = try invitation()
        let upper = link(invitation).replacingOccurrences(of: "https://help.example.com", with: "HTTPS://HELP.Example.COM")
        #expect(try parse(upper) == .invitation(invitation))
    }

    // MARK: - Public URLs

    @Test("a public URL with a path prefix builds and parses links under it")
    func pathPrefix() throws {
        let url = try PublicURL("https://Example.com/support/")
        #expect(url.value == "https://example.com/support")
        let prefixed = try LinkSigner(publicURL: url, key: Self.key)
        #expect(prefixed.link(for: .personal(slug)) == "https://example.com/support/join/zoe-obrien")
        let invitation = try invitation()
        let text = prefixed.link(for: .invitation(invitation))
        #expect(text.hasPrefix("https://example.com/support/join/zoe-obrien?ticket="))
        #expect(try prefixed.parse(text, at: Self.now) == .invitation(invitation))
        #expect(throws: DomainError(.malformedLink)) { try prefixed.parse("https://example.com/join/zoe-obrien", at: Self.now) }
        #expect(throws: DomainError(.malformedLink)) { try prefixed.parse("https://example.com/support2/join/zoe-obrien", at: Self.now) }
        #expect(throws: DomainError(.malformedLink), "the same link under another base") {
            try signer.parse(text, at: Self.now)
        }
        #expect(throws: DomainError(.badSignature), "the same signature under another base is still ours: the base is not signed, the slug is") {
            try prefixed.parse(text.replacingOccurrences(of: "/join/zoe-obrien?", with: "/join/ada?"), at: Self.now)
        }
    }

    @Test("public URLs: http(s), host, port, path; no user info, query, fragment or empty segments",
          arguments: [
              ("https://help.example.com", "https://help.example.com"), ("HTTP://Help.Example.com:8080/", "http://help.example.com:8080"),
              ("https://example.com/Support/x_y.z~", "https://example.com/Support/x_y.z~"), ("http://[::1]:8080", "http://[::1]:8080"),
              ("https://10.0.0.1///", "https://10.0.0.1"),
          ])
    func publicURLs(raw: String, value: String) throws {
        #expect(try PublicURL(raw).value == value)
        #expect(try PublicURL(value).value == value, "a fixed point")
    }

    @Test("invalid public URLs", arguments: [
        "", "help.example.com", "ftp://help.example.com", "https://", "https:///x", "https://user@host", "https://h/a?b",
        "https://h/a#f", "https://h//x", "https://h/a b", "https://hé.com", "https://h/%41", "https://h" + String(repeating: "/a", count: 300),
    ])
    func invalidPublicURLs(raw: String) {
        #expect(throws: DomainError(.invalidField)) { try PublicURL(raw) }
    }

    @Test("a signing key has exactly 32 bytes")
    func keySize() throws {
        let url = try PublicURL("https://help.example.com")
        #expect(throws: DomainError(.invalidField)) { try LinkSigner(publicURL: url, key: []) }
        #expect(throws: DomainError(.invalidField)) { try LinkSigner(publicURL: url, key: Array(Self.key.dropLast())) }
        #expect(throws: DomainError(.invalidField)) { try LinkSigner(publicURL: url, key: Self.key + [0]) }
        var random = SystemRandomNumberGenerator()
        let fresh = LinkSigner.generateKey(using: &random)
        #expect(fresh.count == 32)
        #expect(fresh != LinkSigner.generateKey(using: &random))
    }

    // MARK: - Regressions found by Tests/Fuzz (link target)

    @Test("fuzz: an expiry past Int64 as a Double is malformed, not a trap (parse used to crash the process)",
          arguments: ["9223372036854775807", "9223372036854775296", "253402300800", "99999999999999999"])
    func hugeExpiryInLink(expires: String) {
        // Not a valid signature either: the expiry used to be converted (and trap) while computing it.
        let text = "https://help.example.com/join/a?expires=\(expires)&id=AAECAwQFBgcICQoLDA0ODw&sig=" + String(repeating: "A", count: 43)
        #expect(throws: DomainError(.malformedLink)) { try parse(text) }
    }

    @Test("fuzz: building a link for any Date clamps the expiry to 0 ... maximumExpiry instead of trapping",
          arguments: [1e19, 9.3e18, .infinity, 253_402_300_800, -5, -.infinity, .nan] as [Double])
    func hugeExpiryInBuilder(seconds: Double) throws {
        let invitation = try invitation(expires: Date(timeIntervalSince1970: seconds))
        let text = link(invitation)
        let clamped: Int64 = seconds > 0 ? LinkSigner.maximumExpiry : 0
        #expect(text.contains("expires=\(clamped)&"))
        if clamped > 0 {
            guard case .invitation(let parsed) = try parse(text) else { Issue.record("not an invitation"); return }
            #expect(parsed.expires == Date(timeIntervalSince1970: Double(LinkSigner.maximumExpiry)))
        } else {
            #expect(throws: DomainError(.expired)) { try parse(text) }
        }
    }

    @Test("the latest expiry round-trips exactly")
    func maximumExpiry() throws {
        let invitation = try invitation(expires: Date(timeIntervalSince1970: Double(LinkSigner.maximumExpiry)))
        #expect(try parse(link(invitation)) == .invitation(invitation))
        #expect(LinkSigner.maximumExpiry == 253_402_300_799)
    }

    @Test("an invalid slug in a link is a malformed link, as parse documents (it was .invalidField)")
    func invalidSlugIsMalformed() {
        #expect(throws: DomainError(.malformedLink)) { try parse("https://help.example.com/join/UPPER") }
        #expect(throws: DomainError(.malformedLink)) { try parse("https://help.example.com/join/" + String(repeating: "a", count: 65)) }
    }
}
