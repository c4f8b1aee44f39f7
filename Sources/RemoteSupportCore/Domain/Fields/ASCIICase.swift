extension StringProtocol {
    /// Only A-Z folded to a-z: the case-insensitivity of URLs' scheme and host, and of SQLite's and a
    /// C-locale PostgreSQL's `lower()`. Unicode lowercasing would let look-alikes match (U+212A KELVIN
    /// SIGN lowercases to "k").
    var asciiLowercased: String {
        String(decoding: utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
