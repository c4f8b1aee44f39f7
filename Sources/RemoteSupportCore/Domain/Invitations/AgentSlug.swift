import Foundation

/// The path component of an agent's personal link (`/join/<slug>`): 1-64 of `a-z 0-9 -`, not starting or
/// ending with `-`. Made once from the agent's name when the account is created, then permanent.
public struct AgentSlug: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: String

    /// A slug as found in a link, validated.
    public init(_ text: some StringProtocol) throws(DomainError) {
        guard (1...64).contains(text.utf8.count), text.first != "-", text.last != "-",
              text.utf8.allSatisfy(Self.isSlugByte(_:)) else {
            throw DomainError(.invalidField, "an agent slug has 1-64 of a-z, 0-9 and -")
        }
        value = String(text)
    }

    /// A slug derived from a display name ("Zoë O'Brien" -> "zoe-obrien"), with `suffix` appended when the
    /// plain one is taken ("zoe-obrien-2"). Names with no Latin letters give "agent".
    public init(derivedFrom name: String, suffix: Int? = nil) {
        let folded = name.folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: nil)
        var slug = ""
        var pendingHyphen = false
        for byte in folded.lowercased().utf8 {
            if Self.isSlugByte(byte) && byte != UInt8(ascii: "-") {
                if pendingHyphen && !slug.isEmpty { slug.append("-") }
                pendingHyphen = false
                slug.append(Character(Unicode.Scalar(byte)))
            } else if byte == UInt8(ascii: "'") || byte >= 0x80 {
                continue  // apostrophes and leftovers of non-Latin letters join, not split
            } else {
                pendingHyphen = true
            }
            if slug.utf8.count >= 40 { break }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        if slug.isEmpty { slug = "agent" }
        if let suffix { slug += "-\(suffix)" }
        value = slug
    }

    public var description: String { value }

    static func isSlugByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"): true
        default: false
        }
    }

    public init(from decoder: any Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
