/// A 6-digit connection ID (`000 000` to `999 999`), shown as `123 456`, that an end user types into the
/// client instead of opening a link. It only locates the agent who issued it.
public struct ConnectionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let space = 1_000_000

    public let value: Int

    public init(value: Int) throws(DomainError) {
        guard (0..<Self.space).contains(value) else { throw DomainError(.invalidField, "a connection ID has 6 digits") }
        self.value = value
    }

    /// What a person typed: exactly six ASCII digits, with any spaces, hyphens or dots between them
    /// (`123 456`, `123-456`, `123456`). Anything else is `.invalidField`.
    public init(parsing text: some StringProtocol) throws(DomainError) {
        guard text.utf8.count <= 32 else { throw DomainError(.invalidField, "a connection ID has 6 digits") }
        var value = 0
        var digits = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits += 1
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "\t"):
                continue
            default:
                throw DomainError(.invalidField, "a connection ID has only digits")
            }
            if digits > 6 { break }
        }
        guard digits == 6 else { throw DomainError(.invalidField, "a connection ID has 6 digits") }
        self.value = value
    }

    /// `123 456`
    public var formatted: String {
        let digits = self.digits
        return "\(digits.prefix(3)) \(digits.suffix(3))"
    }

    /// `123456`
    public var digits: String {
        let text = String(value)
        return String(repeating: "0", count: 6 - text.count) + text
    }

    public var description: String { formatted }
    public static func < (a: ConnectionID, b: ConnectionID) -> Bool { a.value < b.value }

    /// A code drawn uniformly from those not in `excluded` (codes live now or used in the quarantine
    /// period): every allowed code equally likely, whatever the excluded set looks like. `.exhausted` when
    /// none is left.
    public static func draw(excluding excluded: Set<Int>, using generator: inout some RandomNumberGenerator) throws(DomainError) -> ConnectionID {
        let taken = excluded.filter { (0..<space).contains($0) }
        let available = space - taken.count
        guard available > 0 else { throw DomainError(.exhausted, "every connection ID is live or recently used") }
        // Mostly free: rejection sampling is uniform and cheap.
        if taken.count < space / 2 {
            for _ in 0..<64 {
                let candidate = Int(generator.next(upperBound: UInt(space)))
                if !taken.contains(candidate) { return try ConnectionID(value: candidate) }
            }
        }
        // Otherwise pick the k-th free code directly.
        var code = Int(generator.next(upperBound: UInt(available)))
        for value in taken.sorted() {
            if value <= code { code += 1 } else { break }
        }
        return try ConnectionID(value: code)
    }
}
