/// The service extensions a server announced in its EHLO reply (RFC 5321 section 4.1.1.1): every line after
/// the first is `KEYWORD [param ...]`. Keywords are compared case-insensitively.
///
/// Empty after HELO, and thrown away after STARTTLS (RFC 3207: the client must forget what it learnt in
/// plaintext and ask again).
struct SMTPServerExtensions: Hashable, Sendable {
    /// Uppercased keyword -> its parameters, as sent.
    private(set) var keywords: [String: [String]] = [:]

    init() {}

    init(ehloReply reply: SMTPReply) {
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let keyword = words.first else { continue }
            // Old servers announce "AUTH=LOGIN PLAIN" beside (or instead of) "AUTH LOGIN PLAIN".
            if keyword.uppercased().hasPrefix("AUTH=") {
                let first = String(keyword.dropFirst(5))
                keywords["AUTH", default: []] += [first] + words.dropFirst()
            } else {
                keywords[keyword.uppercased(), default: []] += words.dropFirst()
            }
        }
    }

    func supports(_ keyword: String) -> Bool { keywords[keyword.uppercased()] != nil }

    /// The SASL mechanisms after AUTH, uppercased.
    var authMechanisms: Set<String> { Set((keywords["AUTH"] ?? []).map { $0.uppercased() }) }

    /// The SIZE limit in octets (RFC 1870); nil when not announced, announced without a number, or 0 (no limit).
    var sizeLimit: Int? {
        guard let value = keywords["SIZE"]?.first, let limit = Int(value), limit > 0 else { return nil }
        return limit
    }
}
