/// Big-endian reads from the front of a byte slice. The caller checks `has(n)` before reading `n`
/// bytes; reads past the end trap (a bug, never the peer's doing).
struct RFBReader {
    private let input: ArraySlice<UInt8>
    private var position: Int

    init(_ input: ArraySlice<UInt8>) {
        self.input = input
        position = input.startIndex
    }

    /// Whether `n` more bytes are there to read.
    func has(_ n: Int) -> Bool { input.endIndex - position >= n }

    func peekU8() -> UInt8? { position < input.endIndex ? input[position] : nil }

    mutating func skip(_ n: Int) { position += n }

    mutating func u8() -> UInt8 {
        defer { position += 1 }
        return input[position]
    }

    mutating func u16() -> Int {
        defer { position += 2 }
        return Int(input[position]) << 8 | Int(input[position + 1])
    }

    mutating func u32() -> UInt32 {
        defer { position += 4 }
        return UInt32(input[position]) << 24 | UInt32(input[position + 1]) << 16
            | UInt32(input[position + 2]) << 8 | UInt32(input[position + 3])
    }

    mutating func bytes(_ n: Int) -> ArraySlice<UInt8> {
        defer { position += n }
        return input[position..<(position + n)]
    }
}

/// Big-endian writes into a growing byte array.
struct RFBWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func zeros(_ n: Int) { bytes += repeatElement(0, count: n) }
    mutating func u16(_ v: Int) { bytes += [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
    mutating func u32(_ v: UInt32) {
        bytes += [UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16),
                  UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
    }
    mutating func append(_ b: some Sequence<UInt8>) { bytes += b }
}

/// ISO 8859-1, the text encoding of RFB's cut-text messages: each byte is the Unicode scalar of the
/// same value.
enum Latin1 {
    static func decode(_ bytes: some Collection<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for b in bytes { scalars.append(Unicode.Scalar(b)) }
        return String(scalars)
    }

    /// Characters outside ISO 8859-1 become "?".
    static func encode(_ text: String) -> [UInt8] {
        text.unicodeScalars.map { $0.value < 256 ? UInt8($0.value) : UInt8(ascii: "?") }
    }
}
