/// The base URL the broker is reached at from outside (`https://help.example.com` or
/// `https://example.com/support`), from which every link is built. http or https, a host, an optional
/// port, an optional path prefix; no user info, query or fragment. Kept without a trailing slash.
public struct PublicURL: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    public init(_ raw: String) throws(DomainError) {
        guard raw.utf8.count <= 512 else { throw DomainError(.invalidField, "public URL is too long") }
        var text = Substring(raw)
        while text.hasSuffix("/") { text.removeLast() }
        let scheme: Substring
        if text.lowercased().hasPrefix("https://") {
            scheme = "https"; text = text.dropFirst(8)
        } else if text.lowercased().hasPrefix("http://") {
            scheme = "http"; text = text.dropFirst(7)
        } else {
            throw DomainError(.invalidField, "public URL must start with http:// or https://")
        }
        let authority = text.prefix { $0 != "/" }
        let path = text.dropFirst(authority.count)
        guard !authority.isEmpty, authority.utf8.allSatisfy(Self.isAuthorityByte(_:)) else {
            throw DomainError(.invalidField, "public URL needs a host (letters, digits, '.', '-', ':', '[', ']')")
        }
        guard path.utf8.allSatisfy(Self.isPathByte(_:)), !path.contains("//") else {
            throw DomainError(.invalidField, "public URL path may only have letters, digits and - . _ ~ /")
        }
        value = "\(scheme)://\(authority.lowercased())\(path)"
    }

    public var description: String { value }

    /// Host and port: LDH names, IPv4, bracketed IPv6, a port. No `@` (no user info).
    static func isAuthorityByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: ":"),
             UInt8(ascii: "["), UInt8(ascii: "]"):
            true
        default: false
        }
    }

    static func isPathByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
             UInt8(ascii: "~"), UInt8(ascii: "/"):
            true
        default: false
        }
    }
}
