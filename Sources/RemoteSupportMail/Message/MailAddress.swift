/// An e-mail address (`local@domain`, checked) with an optional display name (free text, encoded on output).
///
/// Accepted: a dot-atom local part (RFC 5322 `atext` and single inner dots) of at most 64 octets, `@`, and a
/// domain of LDH labels (letters, digits, inner hyphens; at most 63 octets each), at most 254 octets in all.
/// Everything else throws `invalidAddress`, in particular CR, LF and other controls, spaces, `<`, `>`,
/// quotes, a second `@`, and non-ASCII (SMTPUTF8 is not supported: give IDN domains in punycode).
/// So an address can be put into a header or an SMTP command as it is.
///
/// The display name is any text; `MailMessage.render` quotes or RFC 2047-encodes it, and turns control
/// characters into spaces, so it can never break out of its header.
public struct MailAddress: Hashable, Sendable, CustomStringConvertible {
    public static let maximumLength = 254

    /// The checked `local@domain`.
    public let address: String
    public var displayName: String?

    public init(_ address: String, displayName: String? = nil) throws(MailError) {
        try Self.validate(address)
        self.address = address
        self.displayName = displayName
    }

    /// The part after the `@`.
    public var domain: Substring { address[address.index(after: address.lastIndex(of: "@")!)...] }

    public var description: String {
        guard let displayName else { return address }
        return "\(displayName) <\(address)>"
    }

    static func validate(_ address: String) throws(MailError) {
        let bytes = Array(address.utf8)
        guard bytes.count <= maximumLength else {
            throw MailError(.invalidAddress, "address longer than \(maximumLength) octets")
        }
        guard let at = bytes.lastIndex(of: UInt8(ascii: "@")) else {
            throw MailError(.invalidAddress, "address has no @: \(printable(bytes))")
        }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard !local.isEmpty, local.count <= 64 else {
            throw MailError(.invalidAddress, "local part must be 1-64 octets: \(printable(bytes))")
        }
        guard local.allSatisfy({ isAtext($0) || $0 == UInt8(ascii: ".") }),
            local.first != UInt8(ascii: "."), local.last != UInt8(ascii: "."),
            !zip(local, local.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") })
        else {
            throw MailError(.invalidAddress, "local part is not a plain dot-atom: \(printable(bytes))")
        }
        guard isHostname(domain) else {
            throw MailError(.invalidAddress, "domain is not a host name: \(printable(bytes))")
        }
    }

    /// RFC 5322 atext: letters, digits and ``!#$%&'*+-/=?^_`{|}~``.
    static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            Array("!#$%&'*+-/=?^_`{|}~".utf8).contains(byte)
        }
    }

    /// Dot-separated LDH labels of 1-63 octets, no leading or trailing hyphen, 1-253 octets in all.
    static func isHostname(_ bytes: some Collection<UInt8>) -> Bool {
        let bytes = Array(bytes)
        guard (1...253).contains(bytes.count) else { return false }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy {
                    switch $0 {
                    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                        true
                    default: false
                    }
                }
        }
    }

    /// The bad input as it may appear in an error: controls shown as `?`, cut at 80 bytes.
    static func printable(_ bytes: [UInt8]) -> String {
        SMTPReplyParser.text(bytes.prefix(80))
    }
}
