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
        try ConnectionID(value: drawValue(from: space, excluding: excluded, using: &generator))
    }

    /// The draw over `0..<space` (tests use a small space to reach the dense path quickly).
    static func drawValue(from space: Int, excluding excluded: Set<Int>, using generator: inout some RandomNumberGenerator) throws(DomainError) -> Int {
        let taken = excluded.count - excluded.reduce(0) { $0 + ((0..<space).contains($1) ? 0 : 1) }
        let available = space - taken
        guard available > 0 else { throw DomainError(.exhausted, "every connection ID is live or recently used") }
        // Mostly free (always, in practice): rejection sampling is uniform and cheap.
        if taken < space / 2 {
            for _ in 0..<64 {
                let candidate = Int(generator.next(upperBound: UInt(space)))
                if !excluded.contains(candidate) { return candidate }
            }
        }
        // Mostly taken: walk to the k-th free code.
        var remaining = Int(generator.next(upperBound: UInt(available)))
        var code = 0
        while true {
            if !excluded.contains(code) {
                if remaining == 0 { return code }
                remaining -= 1
            }
            code += 1
        }
    }
}
