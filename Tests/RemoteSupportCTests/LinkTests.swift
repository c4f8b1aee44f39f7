import CRemoteSupport
import Dispatch
import Foundation
import RemoteSupportCore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A signer made through the C API, freed at deinit.
final class TestSigner {
    static let key: [UInt8] = (0..<32).map { UInt8($0 * 5 + 2) }
    let handle: OpaquePointer

    init(_ url: String = "https://help.example.com", key: [UInt8] = TestSigner.key) throws {
        var out: OpaquePointer?
        let status = rs_link_signer_new(url, key, key.count, &out)
        try #require(status == RS_OK, "\(string(rs_status_name(status))): \(string(rs_last_error()))")
        handle = try #require(out)
    }

    deinit { rs_link_signer_free(handle) }

    var errmsg: String { string(rs_link_signer_errmsg(handle)) }

    /// Takes a library-owned string: copies it and frees it with rs_string_free.
    static func take(_ p: UnsafeMutablePointer<CChar>?) -> String? {
        defer { rs_string_free(p) }
        return p.map { String(cString: $0) }
    }

    func personal(_ slug: String) -> (status: Int32, link: String?) {
        var out: UnsafeMutablePointer<CChar>?
        let status = rs_link_personal(handle, slug, &out)
        return (status, Self.take(out))
    }

    /// Builds an invitation; the C strings live for the call only, as the header allows.
    func invitation(slug: String? = "zoe-obrien", ticket: String? = nil, name: String? = nil, expires: Int64 = 1_800_000_000,
                    id: [UInt8]? = Array(0..<16)) -> (status: Int32, link: String?, id: [UInt8]) {
        var spec = rs_invitation_spec()
        #expect(rs_invitation_spec_init(&spec) == RS_OK)
        spec.expires = expires
        if let id { withUnsafeMutableBytes(of: &spec.id) { $0.copyBytes(from: id) } } else { spec.generate_id = 1 }
        var out: UnsafeMutablePointer<CChar>?
        var outID = [UInt8](repeating: 0xEE, count: 16)
        let status = withOptionalCString(slug) { s in
            withOptionalCString(ticket) { t in
                withOptionalCString(name) { n in
                    spec.agent_slug = s
                    spec.ticket = t
                    spec.end_user_name = n
                    return rs_link_invitation(handle, &spec, &outID, &out)
                }
            }
        }
        return (status, Self.take(out), outID)
    }

    func parse(_ link: String?, now: Int64 = 1_700_000_000) -> (status: Int32, link: ParsedLink?) {
        var out: OpaquePointer?
        let status = withOptionalCString(link) { rs_link_parse(handle, $0, now, &out) }
        if status != RS_OK { #expect(out == nil, "out_link is written only on success") }
        return (status, out.map(ParsedLink.init))
    }
}

/// A parsed link read through the getters, freed at deinit. The handle is immutable, so reading it from
/// any number of threads is fine (the header promises it; `threads()` tries it).
final class ParsedLink: @unchecked Sendable {
    let handle: OpaquePointer
    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { rs_join_link_free(handle) }

    var kind: Int32 { rs_join_link_kind(handle) }
    var slug: String? { rs_join_link_agent_slug(handle).map { String(cString: $0) } }
    var ticket: String? { rs_join_link_ticket(handle).map { String(cString: $0) } }
    var name: String? { rs_join_link_end_user_name(handle).map { String(cString: $0) } }
    var expires: Int64 { rs_join_link_expires(handle) }
    var id: String? { rs_join_link_id(handle).map { String(cString: $0) } }
    var idBytes: [UInt8]? { rs_join_link_id_bytes(handle).map { Array(UnsafeBufferPointer(start: $0, count: 16)) } }
}

/// The NUL-terminated text in a caller-owned buffer the library wrote.
func cText(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let s else { return body(nil) }
    return s.withCString { body($0) }
}

/// The link with one query parameter's raw value replaced.
func replacing(_ name: String, with raw: String, in link: String) -> String {
    let parts = link.split(separator: "?", maxSplits: 1)
    let pairs = parts[1].split(separator: "&").map { $0.hasPrefix(name + "=") ? "\(name)=\(raw)" : String($0) }
    return "\(parts[0])?\(pairs.joined(separator: "&"))"
}

@Suite("C API: links, short codes, connection IDs")
struct LinkTests {
    @Test("domain status codes are -(DomainError code + 136) and have names")
    func statusCodes() {
        let pairs: [(Int32, DomainError.Code, String)] = [
            (RS_ERR_INVALID_FIELD, .invalidField, "RS_ERR_INVALID_FIELD"),
            (RS_ERR_INVALID_CREDENTIALS, .invalidCredentials, "RS_ERR_INVALID_CREDENTIALS"),
            (RS_ERR_PASSWORD_CHANGE_REQUIRED, .passwordChangeRequired, "RS_ERR_PASSWORD_CHANGE_REQUIRED"),
            (RS_ERR_WEAK_PASSWORD, .weakPassword, "RS_ERR_WEAK_PASSWORD"),
            (RS_ERR_RATE_LIMITED, .rateLimited, "RS_ERR_RATE_LIMITED"),
            (RS_ERR_NOT_FOUND, .notFound, "RS_ERR_NOT_FOUND"),
            (RS_ERR_BAD_SIGNATURE, .badSignature, "RS_ERR_BAD_SIGNATURE"),
            (RS_ERR_MALFORMED_LINK, .malformedLink, "RS_ERR_MALFORMED_LINK"),
            (RS_ERR_FORBIDDEN, .forbidden, "RS_ERR_FORBIDDEN"),
            (RS_ERR_INVALID_TRANSITION, .invalidTransition, "RS_ERR_INVALID_TRANSITION"),
            (RS_ERR_CONFLICT, .conflict, "RS_ERR_CONFLICT"),
            (RS_ERR_SESSION_EXPIRED, .sessionExpired, "RS_ERR_SESSION_EXPIRED"),
            (RS_ERR_EXHAUSTED, .exhausted, "RS_ERR_EXHAUSTED"),
            (RS_ERR_CORRUPT_RECORD, .corruptRecord, "RS_ERR_CORRUPT_RECORD"),
            (RS_ERR_EXPIRED, .expired, "RS_ERR_EXPIRED"),
            (RS_ERR_NOT_CONFIGURED, .notConfigured, "RS_ERR_NOT_CONFIGURED"),
        ]
        for (status, code, name) in pairs {
            #expect(status == -(code.rawValue + 136), "\(name)")
            #expect(string(rs_status_name(status)) == name)
        }
        #expect(string(rs_status_name(-216)) == "RS_ERR_UNKNOWN")
    }

    @Test("the header's constants are the core's")
    func constants() {
        #expect(Int(RS_LINK_KEY_SIZE) == LinkSigner.keyByteCount)
        #expect(Int64(RS_LINK_MAX_EXPIRES) == LinkSigner.maximumExpiry)
        #expect(Int(RS_CONNECTION_ID_MAX) == ConnectionID.space - 1)
        #expect(MemoryLayout<rs_invitation_spec>.size == 56)
        #expect(MemoryLayout<rs_invitation_spec>.offset(of: \.expires) == 32)
        var spec = rs_invitation_spec()
        spec.expires = 7
        #expect(rs_invitation_spec_init(&spec) == RS_OK)
        #expect(spec.struct_size == 56 && spec.expires == 0 && spec.agent_slug == nil && spec.generate_id == 0)
        #expect(rs_invitation_spec_init(nil) == RS_ERR_NULL_POINTER)
    }

    @Test("keys: 32 random bytes, different every time")
    func keys() throws {
        var a = [UInt8](repeating: 0, count: 32), b = a
        #expect(rs_link_generate_key(&a) == RS_OK)
        #expect(rs_link_generate_key(&b) == RS_OK)
        #expect(a != b && a != [UInt8](repeating: 0, count: 32))
        #expect(rs_link_generate_key(nil) == RS_ERR_NULL_POINTER)
        _ = try TestSigner(key: a)
    }

    @Test("rs_link_signer_new checks its URL, key and pointers; out_signer is written only on success")
    func signerNew() {
        let key = TestSigner.key
        var out: OpaquePointer? = OpaquePointer(bitPattern: 0x1234)
        func new(_ url: UnsafePointer<CChar>?, _ key: [UInt8]?, _ length: Int) -> Int32 {
            let status = key.map { k in rs_link_signer_new(url, k, length, &out) } ?? rs_link_signer_new(url, nil, length, &out)
            #expect(out == OpaquePointer(bitPattern: 0x1234))
            #expect(!string(rs_last_error()).isEmpty)
            return status
        }
        #expect(new("https://help.example.com", key, 31) == RS_ERR_INVALID_ARGUMENT)
        #expect(string(rs_last_error()).contains("key_len"))
        #expect(new("https://help.example.com", nil, 32) == RS_ERR_NULL_POINTER)
        #expect(new(nil, key, 32) == RS_ERR_NULL_POINTER)
        #expect(string(rs_last_error()).contains("public_url"))
        for bad in ["", "ftp://x", "help.example.com", "https://user@host", "https://h/a?b=c", "https://h//x"] {
            #expect(new(bad, key, 32) == RS_ERR_INVALID_FIELD, "\(bad)")
        }
        let invalidUTF8: [CChar] = [0x68, CChar(bitPattern: 0xC3), 0x28, 0]
        #expect(new(invalidUTF8, key, 32) == RS_ERR_INVALID_FIELD)
        #expect(string(rs_last_error()).contains("UTF-8"))
        #expect(rs_link_signer_new("https://h", key, 32, nil) == RS_ERR_NULL_POINTER)

        #expect(rs_link_signer_new("HTTPS://Help.Example.com/Support/", key, 32, &out) == RS_OK)
        #expect(string(rs_last_error()) == "")
        #expect(string(rs_link_signer_public_url(out)) == "https://help.example.com/Support")
        rs_link_signer_free(out)
        rs_link_signer_free(nil)
        #expect(rs_link_signer_public_url(nil) == nil)
        #expect(string(rs_link_signer_errmsg(nil)).contains("NULL"))
    }

    @Test("personal links round-trip")
    func personal() throws {
        let signer = try TestSigner()
        let (status, link) = signer.personal("zoe-obrien")
        #expect(status == RS_OK && link == "https://help.example.com/join/zoe-obrien")
        let parsed = try #require(signer.parse(link).link)
        #expect(parsed.kind == RS_JOIN_LINK_PERSONAL && parsed.slug == "zoe-obrien")
        #expect(parsed.ticket == nil && parsed.name == nil && parsed.id == nil && parsed.idBytes == nil && parsed.expires == 0)
        #expect(signer.errmsg == "")
        for bad in ["", "Zoe", "-zoe", "zoe-", "zoë", String(repeating: "a", count: 65)] {
            #expect(signer.personal(bad).status == RS_ERR_INVALID_FIELD, "\(bad)")
            #expect(!signer.errmsg.isEmpty)
        }
        var out: UnsafeMutablePointer<CChar>? = nil
        #expect(rs_link_personal(signer.handle, nil, &out) == RS_ERR_NULL_POINTER)
        #expect(rs_link_personal(signer.handle, "a", nil) == RS_ERR_NULL_POINTER)
        #expect(rs_link_personal(nil, "a", &out) == RS_ERR_NULL_POINTER)
        #expect(string(rs_last_error()).contains("signer"))
        #expect(out == nil)
    }

    @Test("invitations round-trip with non-ASCII names and tickets with # and /",
          arguments: [("#4711/b", "Zoë Ärger-Şahin"), ("INC-1: x.y_z", nil), (nil, "李 小龍 👩‍💻"), (nil, nil), ("a/b#c", "A+B & C=D?")]
          as [(String?, String?)])
    func invitationRoundTrip(ticket: String?, name: String?) throws {
        let signer = try TestSigner()
        let built = signer.invitation(ticket: ticket, name: name)
        #expect(built.status == RS_OK, "\(signer.errmsg)")
        #expect(built.id == Array(0..<16), "out_id is the id given")
        let link = try #require(built.link)
        let parsed = try #require(signer.parse(link).link)
        #expect(parsed.kind == RS_JOIN_LINK_INVITATION)
        #expect(parsed.slug == "zoe-obrien" && parsed.ticket == ticket && parsed.name == name && parsed.expires == 1_800_000_000)
        #expect(parsed.id == "AAECAwQFBgcICQoLDA0ODw" && parsed.idBytes == Array(0..<16))
        #expect(link.contains("id=AAECAwQFBgcICQoLDA0ODw&"))
    }

    @Test("a generated id is reported in out_id and is what the link carries")
    func generatedID() throws {
        let signer = try TestSigner()
        let a = signer.invitation(ticket: "T-1", id: nil), b = signer.invitation(ticket: "T-1", id: nil)
        #expect(a.status == RS_OK && b.status == RS_OK)
        #expect(a.id != b.id && a.link != b.link)
        let parsed = try #require(signer.parse(a.link).link)
        #expect(parsed.idBytes == a.id)
        var text = [CChar](repeating: 1, count: Int(RS_INVITATION_ID_TEXT_SIZE))
        #expect(rs_invitation_id_format(a.id, &text) == RS_OK)
        #expect(cText(text) == parsed.id && text[22] == 0)
        #expect(rs_invitation_id_format(nil, &text) == RS_ERR_NULL_POINTER)
        #expect(rs_invitation_id_format(a.id, nil) == RS_ERR_NULL_POINTER)
    }

    @Test("altered ticket, name, expiry, slug or id, and another key: RS_ERR_BAD_SIGNATURE")
    func tampering() throws {
        let signer = try TestSigner()
        let link = try #require(signer.invitation(ticket: "#4711/b", name: "Zoë").link)
        let altered = [
            replacing("ticket", with: "%234711%2Fc", in: link), replacing("name", with: "Zoe", in: link),
            replacing("expires", with: "1800000001", in: link), replacing("id", with: "AAECAwQFBgcICQoLDA0OEA", in: link),
            link.replacingOccurrences(of: "/join/zoe-obrien?", with: "/join/eve?"),
        ]
        for text in altered {
            #expect(signer.parse(text).status == RS_ERR_BAD_SIGNATURE, "\(text)")
            #expect(signer.errmsg.contains("bad signature"))
        }
        let other = try TestSigner(key: (0..<32).map { UInt8($0) })
        #expect(other.parse(link).status == RS_ERR_BAD_SIGNATURE)
    }

    @Test("expired, foreign and malformed links")
    func refused() throws {
        let signer = try TestSigner()
        let link = try #require(signer.invitation(name: "Ada", expires: 1_700_000_000).link)
        #expect(signer.parse(link, now: 1_699_999_999).status == RS_OK)
        #expect(signer.parse(link, now: 1_700_000_000).status == RS_ERR_EXPIRED)
        #expect(signer.errmsg.contains("expired"))
        #expect(signer.parse(link, now: .max).status == RS_ERR_EXPIRED)
        #expect(signer.parse(link, now: .min).status == RS_OK)
        for text in ["https://evil.example.com/join/zoe-obrien", "http://help.example.com/join/zoe-obrien",
                     "https://help.example.com/join/", "", link + "&name=x", replacing("name", with: "%C3%28", in: link),
                     replacing("name", with: "%zz", in: link), replacing("expires", with: "9223372036854775807", in: link),
                     "https://help.example.com/join/a?" + String(repeating: "x", count: 3000)] {
            #expect(signer.parse(text).status == RS_ERR_MALFORMED_LINK, "\(text)")
        }
        #expect(signer.parse(nil).status == RS_ERR_NULL_POINTER)
        var out: OpaquePointer?
        #expect(rs_link_parse(signer.handle, link, 0, nil) == RS_ERR_NULL_POINTER)
        #expect(rs_link_parse(nil, link, 0, &out) == RS_ERR_NULL_POINTER)
        let invalidUTF8: [CChar] = Array("https://help.example.com/join/a".utf8CString.dropLast()) + [CChar(bitPattern: 0xFF), 0]
        #expect(rs_link_parse(signer.handle, invalidUTF8, 0, &out) == RS_ERR_MALFORMED_LINK)
        #expect(out == nil)
        rs_join_link_free(nil)
        #expect(rs_join_link_kind(nil) == 0 && rs_join_link_agent_slug(nil) == nil && rs_join_link_expires(nil) == 0)
        #expect(rs_join_link_ticket(nil) == nil && rs_join_link_end_user_name(nil) == nil)
        #expect(rs_join_link_id(nil) == nil && rs_join_link_id_bytes(nil) == nil)
    }

    @Test("rs_link_invitation checks the spec: struct_size, slug, fields, expiry range")
    func invitationErrors() throws {
        let signer = try TestSigner()
        #expect(signer.invitation(slug: nil).status == RS_ERR_NULL_POINTER)
        #expect(signer.errmsg.contains("agent_slug"))
        #expect(signer.invitation(slug: "Bad Slug").status == RS_ERR_INVALID_FIELD)
        #expect(signer.invitation(ticket: "T\n1").status == RS_ERR_INVALID_FIELD)
        #expect(signer.invitation(ticket: "T;1").status == RS_ERR_INVALID_FIELD)
        #expect(signer.invitation(ticket: String(repeating: "1", count: 65)).status == RS_ERR_INVALID_FIELD)
        #expect(signer.invitation(name: "").status == RS_ERR_INVALID_FIELD)
        #expect(signer.invitation(name: "evil\u{202E}txt").status == RS_ERR_INVALID_FIELD)
        #expect(signer.invitation(name: String(repeating: "a", count: 101)).status == RS_ERR_INVALID_FIELD)
        #expect(signer.invitation(expires: -1).status == RS_ERR_INVALID_ARGUMENT)
        #expect(signer.invitation(expires: .max).status == RS_ERR_INVALID_ARGUMENT)
        #expect(signer.invitation(expires: Int64(RS_LINK_MAX_EXPIRES) + 1).status == RS_ERR_INVALID_ARGUMENT)
        let latest = signer.invitation(expires: Int64(RS_LINK_MAX_EXPIRES))
        #expect(latest.status == RS_OK)
        #expect(signer.parse(latest.link).link?.expires == Int64(RS_LINK_MAX_EXPIRES))
        #expect(signer.invitation(expires: 0).status == RS_OK, "an already expired link can be built")

        var spec = rs_invitation_spec()  // struct_size 0
        var out: UnsafeMutablePointer<CChar>?
        let status = "zoe".withCString { s in
            spec.agent_slug = s
            return rs_link_invitation(signer.handle, &spec, nil, &out)
        }
        #expect(status == RS_ERR_INVALID_ARGUMENT && signer.errmsg.contains("struct_size"))
        #expect(rs_link_invitation(signer.handle, nil, nil, &out) == RS_ERR_NULL_POINTER)
        #expect(out == nil)
        let built = signer.invitation(ticket: "T-1")
        #expect(built.status == RS_OK && signer.errmsg == "", "a call that succeeds clears the message")
    }

    @Test("short codes: 12-32 base-62 characters, else RS_ERR_NOT_FOUND")
    func shortCodes() {
        #expect(rs_short_code_validate("AbCdEf0123456789") == RS_OK)
        #expect(rs_short_code_validate(String(repeating: "a", count: 12)) == RS_OK)
        #expect(rs_short_code_validate(String(repeating: "a", count: 32)) == RS_OK)
        for bad in ["", "short", String(repeating: "a", count: 11), String(repeating: "a", count: 33), "AbCdEf01234567-9", "AbCdEf012345678é"] {
            #expect(rs_short_code_validate(bad) == RS_ERR_NOT_FOUND, "\(bad)")
        }
        #expect(rs_short_code_validate(nil) == RS_ERR_NULL_POINTER)
    }

    @Test("connection IDs: parse what people type, format as 123 456")
    func connectionIDs() {
        func parse(_ text: String?) -> (Int32, UInt32) {
            var value: UInt32 = 4242
            let status = withOptionalCString(text) { rs_connection_id_parse($0, &value) }
            if status != RS_OK { #expect(value == 4242, "out_value is written only on success") }
            return (status, value)
        }
        for (text, value) in [("123 456", 123_456), ("123-456", 123_456), ("123456", 123_456), (" 000 042 ", 42),
                              ("999.999", 999_999), ("1 2 3 4 5 6", 123_456)] as [(String, UInt32)] {
            let (status, parsed) = parse(text)
            #expect(status == RS_OK && parsed == value, "\(text)")
        }
        for bad in ["12345", "1234567", "12a456", "", "１２３４５６", "123_456", "123 456 7"] {
            #expect(parse(bad).0 == RS_ERR_INVALID_FIELD, "\(bad)")
            #expect(!string(rs_last_error()).isEmpty)
        }
        #expect(parse(nil).0 == RS_ERR_NULL_POINTER)
        #expect(rs_connection_id_parse("123456", nil) == RS_ERR_NULL_POINTER)

        var text = [CChar](repeating: 1, count: Int(RS_CONNECTION_ID_TEXT_SIZE))
        #expect(rs_connection_id_format(123_456, &text) == RS_OK)
        #expect(cText(text) == "123 456" && text[7] == 0)
        #expect(rs_connection_id_format(42, &text) == RS_OK && cText(text) == "000 042")
        #expect(rs_connection_id_format(UInt32(RS_CONNECTION_ID_MAX), &text) == RS_OK && cText(text) == "999 999")
        #expect(rs_connection_id_format(UInt32(RS_CONNECTION_ID_MAX) + 1, &text) == RS_ERR_INVALID_FIELD)
        #expect(rs_connection_id_format(.max, &text) == RS_ERR_INVALID_FIELD)
        #expect(cText(text) == "999 999", "out_text is written only on success")
        #expect(rs_connection_id_format(1, nil) == RS_ERR_NULL_POINTER)
        for value: UInt32 in [0, 1, 99_999, 100_000, 123_456, 999_999] {
            #expect(rs_connection_id_format(value, &text) == RS_OK)
            #expect(parse(cText(text)) == (RS_OK, value))
        }
    }

    @Test("text is read up to 65536 bytes: a longer string is refused without reading past the cap")
    func textCap() {
        var long = [CChar](repeating: 0x31, count: 65_537)
        long.append(0)
        var value: UInt32 = 0
        #expect(rs_connection_id_parse(long, &value) == RS_ERR_INVALID_FIELD)
        #expect(string(rs_last_error()).contains("longer than 65536"))
    }

    @Test("distinct signers on distinct threads, and a parsed link read from many threads at once")
    func threads() throws {
        let link = try #require(TestSigner().invitation(ticket: "T-1", name: "Zoë").link)
        let parsed = try #require(TestSigner().parse(link).link)
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            guard let signer = try? TestSigner() else { failures.withLock { $0 += 1 }; return }
            for _ in 0..<50 {
                let mine = signer.invitation(ticket: "T-\(i)")
                let ok = mine.status == RS_OK && signer.parse(mine.link).link?.ticket == "T-\(i)"
                    && parsed.name == "Zoë" && parsed.ticket == "T-1"
                if !ok { failures.withLock { $0 += 1 } }
            }
        }
        #expect(failures.withLock { $0 } == 0)
    }
}
