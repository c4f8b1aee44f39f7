extension SMTPConfiguration {
    /// URLs longer than this are refused before parsing.
    public static let maximumURLLength = 4096

    /// Parses the broker's `--smtp-url`:
    ///
    ///     smtp://[user:password@]host[:port]            plain SMTP (port 25)
    ///     smtp+starttls://[user:password@]host[:port]   STARTTLS required (port 587)
    ///     smtps://[user:password@]host[:port]           implicit TLS (port 465)
    ///
    /// The user and password are percent-decoded (`%40` for `@`, `%3A` for `:`); an IPv6 host is written in
    /// brackets. Nothing may follow the port but one `/`. Other settings keep their defaults. Throws
    /// `invalidURL` with a reason that never contains the password, or `invalidConfiguration` from `validate`.
    public init(url: String) throws(MailError) {
        func fail(_ reason: String) -> MailError { MailError(.invalidURL, reason) }
        guard url.utf8.count <= Self.maximumURLLength else {
            throw fail("URL longer than \(Self.maximumURLLength) octets")
        }
        guard url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw fail("URL contains spaces, control or non-ASCII characters (percent-encode them)")
        }
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw fail("expected smtp://, smtp+starttls:// or smtps://")
        }
        let security: Security
        switch url[..<schemeEnd.lowerBound].lowercased() {
        case "smtp": security = .none
        case "smtp+starttls": security = .startTLS
        case "smtps": security = .tls
        case let other: throw fail("unknown scheme \"\(other)\": expected smtp, smtp+starttls or smtps")
        }

        var authority = url[schemeEnd.upperBound...]
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        var credentials: Credentials?
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            guard let colon = userinfo.firstIndex(of: ":") else {
                throw fail("user given without a password (user:password@host)")
            }
            let username = try Self.percentDecoded(userinfo[..<colon], what: "user")
            let password = try Self.percentDecoded(userinfo[userinfo.index(after: colon)...], what: "password")
            guard !username.isEmpty, !password.isEmpty else { throw fail("empty user or password") }
            credentials = Credentials(username: username, password: password)
        }
        guard !authority.contains(where: { "/?#".contains($0) }) else {
            throw fail("an SMTP URL has no path, query or fragment")
        }

        let host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw fail("IPv6 address without closing ]") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw fail("unexpected text after the IPv6 address") }
                portText = rest.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw fail("invalid IPv6 address")
            }
        } else {
            let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw fail("more than one ':' in host:port (bracket IPv6 addresses)") }
            host = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
            guard MailAddress.isHostname(host.utf8) else { throw fail("invalid host name \"\(host)\"") }
        }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII), let value = Int(portText),
                (1...65535).contains(value)
            else { throw fail("port must be 1-65535") }
            port = value
        }
        self.init(host: String(host), port: port, security: security, credentials: credentials)
        try validate()
    }

    /// `%XX` escapes decoded; the result must be UTF-8. The reason names `what`, never the text.
    static func percentDecoded(_ text: Substring, what: String) throws(MailError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw MailError(.invalidURL, "\(what) has an invalid percent escape")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw MailError(.invalidURL, "\(what) is not UTF-8 after percent-decoding")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
