import Foundation

/// A login or recipient e-mail address: the common dot-atom form `local@domain.example` (RFC 5322 3.2.3,
/// without quoted local parts or address literals, which helpdesk users do not have), ASCII only, at most
/// 254 octets (RFC 5321 4.5.3.1). Agents log in with it case-insensitively: `normalized` is the
/// lowercased form that uniqueness and lookups use; `value` keeps what was typed.
public struct EmailAddress: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: String
    public var normalized: String { value.lowercased() }

    public init(_ raw: String) throws(DomainError) {
        guard raw.utf8.count <= 254 else { throw DomainError(.invalidField, "e-mail address is longer than 254 characters") }
        let text = raw.trimmingCharacters(in: .whitespaces)
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw DomainError(.invalidField, "e-mail address needs exactly one @") }
        let local = parts[0], domain = parts[1]
        guard !local.isEmpty, local.utf8.count <= 64 else {
            throw DomainError(.invalidField, "e-mail address: the part before @ must have 1 to 64 characters")
        }
        guard !local.hasPrefix("."), !local.hasSuffix("."), !local.contains(".."),
              local.utf8.allSatisfy({ Self.isAtext($0) || $0 == UInt8(ascii: ".") }) else {
            throw DomainError(.invalidField, "e-mail address: invalid characters before @")
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard domain.utf8.count <= 253, !labels.isEmpty, labels.allSatisfy(Self.isDomainLabel(_:)) else {
            throw DomainError(.invalidField, "e-mail address: invalid domain after @")
        }
        value = String(text)
    }

    public var description: String { value }

    /// RFC 5322 atext: letters, digits and ! # $ % & ' * + - / = ? ^ _ ` { | } ~
    static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
        }
    }

    /// LDH label (RFC 1035 / 5890): 1-63 letters, digits, hyphens, not starting or ending with a hyphen.
    static func isDomainLabel(_ label: Substring) -> Bool {
        guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-" else { return false }
        return label.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }

    // Codable as the plain string, validated again when decoded.
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        try self.init(raw)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
