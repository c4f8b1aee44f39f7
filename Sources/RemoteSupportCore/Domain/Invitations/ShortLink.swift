import Foundation

/// The code of a short link `<public URL>/s/<code>`: 16 base-62 characters (about 95 bits), drawn
/// uniformly, so codes cannot be enumerated; lookups are rate-limited on top.
public struct ShortCode: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    public static let length = 16

    public init(using generator: inout some RandomNumberGenerator) {
        value = String((0..<Self.length).map { _ in Self.alphabet[Int(generator.next(upperBound: UInt(62)))] })
    }

    /// A code from a request path: 12-32 base-62 characters, else `.notFound` (the same answer an unknown
    /// code gets, so a prober learns nothing from the shape).
    public init(_ text: some StringProtocol) throws(DomainError) {
        guard (12...32).contains(text.utf8.count), text.utf8.allSatisfy({ byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"): true
            default: false
            }
        }) else {
            throw DomainError(.notFound, "no such link")
        }
        value = String(text)
    }

    public var description: String { value }
}

/// A short link: code -> full join link, until it expires (with its invitation; personal links after a
/// configurable time).
public struct ShortLink: Hashable, Sendable {
    public let code: ShortCode
    public let target: String
    public let agentID: AgentID
    public let created: Date
    public let expires: Date

    public init(code: ShortCode, target: String, agentID: AgentID, created: Date, expires: Date) {
        self.code = code
        self.target = target
        self.agentID = agentID
        self.created = created
        self.expires = expires
    }

    public func url(publicURL: PublicURL) -> String { "\(publicURL.value)/s/\(code.value)" }

    /// The target while valid; `.notFound` once expired (the same answer as an unknown code).
    public func resolve(at now: Date) throws(DomainError) -> String {
        guard now < expires else { throw DomainError(.notFound, "no such link") }
        return target
    }
}
