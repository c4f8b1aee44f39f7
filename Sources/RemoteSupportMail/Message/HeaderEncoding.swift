/// Header fields from user-influenced text (display names, subjects), safe and RFC 5322 / RFC 2047 conformant.
///
/// Safety: a header value never contains a raw CR, LF or other control character. `sanitized` turns each run
/// of controls (C0, DEL, C1, U+2028, U+2029) into one space first, so "Bob\r\nBcc: x@y" can only ever be
/// the text "Bob Bcc: x@y" inside one field; the CRLFs in the output are our own folds, each followed by a
/// space. Then text is written in one of three ways:
/// - plain ASCII words, when that is unambiguous (for a display name: atoms only);
/// - an RFC 5322 quoted-string (display names with specials such as `.`, `,`, `:`, `@`, `"`);
/// - RFC 2047 encoded-words `=?utf-8?B?...?=` for non-ASCII, for text containing `=?` (which a reader would
///   otherwise decode), and for text that could not be folded (a word over 70 octets, a long name).
///
/// Lines stay within 78 octets except where one token is longer (an address near the 254-octet limit); an
/// encoded-word carries at most 36 octets of UTF-8 (60 characters), split between Unicode scalars.
/// Plain-ASCII text has its runs of spaces collapsed to one (folding could not keep them all).
enum HeaderEncoding {
    static let maximumLineLength = 78
    static let encodedWordPayload = 36
    /// An ASCII display name longer than this is encoded, so its quoted-string never needs folding.
    static let maximumQuotedLength = 64
    /// A word longer than this cannot be folded within 78: the text is encoded instead.
    static let maximumPlainWordLength = 70

    /// Control characters turned into spaces (one per run), then leading and trailing spaces removed.
    static func sanitized(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var inControlRun = false
        for scalar in text.unicodeScalars {
            let v = scalar.value
            let isControl = v < 0x20 || (0x7F...0x9F).contains(v) || v == 0x2028 || v == 0x2029
            if isControl {
                if !inControlRun { scalars.append(" ") }
                inControlRun = true
            } else {
                scalars.append(scalar)
                inControlRun = false
            }
        }
        return String(scalars).trimmingSpaces()
    }

    /// True when sanitized text cannot be written as plain ASCII words.
    static func needsEncoding(_ text: String) -> Bool {
        if text.unicodeScalars.contains(where: { $0.value > 0x7E }) { return true }
        if text.contains("=?") { return true }
        return text.utf8.split(separator: UInt8(ascii: " ")).contains { $0.count > maximumPlainWordLength }
    }

    /// The text as RFC 2047 B-encoded words, each a whole number of Unicode scalars. Decoders join adjacent
    /// encoded-words without the whitespace between them, so the text comes back exactly.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let utf8 = Array(String(scalar).utf8)
            if chunk.count + utf8.count > encodedWordPayload {
                words.append("=?utf-8?B?\(Base64.encode(chunk))?=")
                chunk.removeAll()
            }
            chunk += utf8
        }
        if !chunk.isEmpty { words.append("=?utf-8?B?\(Base64.encode(chunk))?=") }
        return words
    }

    /// Tokens of an unstructured field (Subject).
    static func unstructured(_ text: String) -> [String] {
        let text = sanitized(text)
        if needsEncoding(text) { return encodedWords(text) }
        return text.split(separator: " ").map(String.init)
    }

    /// Tokens of a display name (RFC 5322 `phrase`); empty for no name.
    static func phrase(_ text: String) -> [String] {
        let text = sanitized(text)
        if text.isEmpty { return [] }
        if needsEncoding(text) || text.utf8.count > maximumQuotedLength { return encodedWords(text) }
        if text.utf8.allSatisfy({ MailAddress.isAtext($0) || $0 == UInt8(ascii: " ") }) {
            return text.split(separator: " ").map(String.init)
        }
        var quoted = "\""
        for character in text {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return [quoted + "\""]
    }

    /// Tokens of a mailbox: `name <address>`, or the bare address without a name.
    static func mailbox(_ mailbox: MailAddress) -> [String] {
        let name = mailbox.displayName.map(phrase) ?? []
        return name.isEmpty ? [mailbox.address] : name + ["<\(mailbox.address)>"]
    }

    /// Tokens of a comma-separated mailbox list.
    static func mailboxList(_ mailboxes: [MailAddress]) -> [String] {
        var tokens: [String] = []
        for (i, box) in mailboxes.enumerated() {
            var boxTokens = mailbox(box)
            if i < mailboxes.count - 1 { boxTokens[boxTokens.count - 1] += "," }
            tokens += boxTokens
        }
        return tokens
    }

    /// `Name: token token` with CRLF, folded (CRLF + space) between tokens to keep lines within 78 octets.
    static func field(_ name: String, _ tokens: [String]) -> String {
        var out = name + ":"
        var lineLength = out.utf8.count
        var tokensOnLine = 0
        for token in tokens {
            if tokensOnLine > 0 && lineLength + 1 + token.utf8.count > maximumLineLength {
                out += "\r\n"
                lineLength = 0
                tokensOnLine = 0
            }
            out += " " + token
            lineLength += 1 + token.utf8.count
            tokensOnLine += 1
        }
        return out + "\r\n"
    }
}
