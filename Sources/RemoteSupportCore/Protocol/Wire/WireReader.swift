/// Reads big-endian fields from one message body, checking every length against what is left.
/// Running past the end throws `.protocolError` ("truncated"); nothing is read past `bytes.count`.
/// Bytes left after the last field a version knows are ignored by the callers: later versions append
/// fields at the end of a message (PROTOCOL.md, "Extending").
struct WireReader {
    private let bytes: [UInt8]
    private(set) var position: Int
    private let end: Int
    let what: String

    init(_ bytes: [UInt8], from start: Int = 0, what: String) {
        self.bytes = bytes
        position = start
        end = bytes.count
        self.what = what
    }

    var remaining: Int { end - position }

    private mutating func take(_ n: Int, _ field: String) throws(ProtocolError) -> Range<Int> {
        guard n >= 0, remaining >= n else {
            throw .malformed("\(what) is truncated in its \(field) (\(n) bytes needed, \(remaining) left)")
        }
        defer { position += n }
        return position..<position + n
    }

    mutating func u8(_ field: String) throws(ProtocolError) -> UInt8 { bytes[try take(1, field).lowerBound] }

    mutating func u16(_ field: String) throws(ProtocolError) -> UInt16 {
        let r = try take(2, field)
        return UInt16(bytes[r.lowerBound]) << 8 | UInt16(bytes[r.lowerBound + 1])
    }

    mutating func u32(_ field: String) throws(ProtocolError) -> UInt32 {
        let r = try take(4, field)
        var v: UInt32 = 0
        for i in r { v = v << 8 | UInt32(bytes[i]) }
        return v
    }

    mutating func u64(_ field: String) throws(ProtocolError) -> UInt64 {
        let r = try take(8, field)
        var v: UInt64 = 0
        for i in r { v = v << 8 | UInt64(bytes[i]) }
        return v
    }

    mutating func i16(_ field: String) throws(ProtocolError) -> Int16 { Int16(bitPattern: try u16(field)) }

    mutating func bool(_ field: String) throws(ProtocolError) -> Bool {
        switch try u8(field) {
        case 0: return false
        case 1: return true
        case let b: throw .malformed("\(what): \(field) is \(b), not 0 or 1")
        }
    }

    mutating func fixed(_ n: Int, _ field: String) throws(ProtocolError) -> [UInt8] { Array(bytes[try take(n, field)]) }

    /// The rest of the body, for a field that runs to the end.
    mutating func rest() -> [UInt8] {
        defer { position = end }
        return Array(bytes[position..<end])
    }

    /// A `u16` length and that many bytes of UTF-8, at most `maxBytes`, with no NUL.
    mutating func string(_ field: String, maxBytes: Int) throws(ProtocolError) -> String {
        let n = Int(try u16(field))
        guard n <= maxBytes else { throw ProtocolError(.tooLarge, "\(what): \(field) is \(n) bytes, over its limit of \(maxBytes)") }
        return try text(bytes[try take(n, field)], field)
    }

    /// A `u32` length and that many bytes of UTF-8, at most `maxBytes`, with no NUL.
    mutating func longString(_ field: String, maxBytes: Int) throws(ProtocolError) -> String {
        let n = try u32(field)
        guard n <= maxBytes else { throw ProtocolError(.tooLarge, "\(what): \(field) is \(n) bytes, over its limit of \(maxBytes)") }
        return try text(bytes[try take(Int(n), field)], field)
    }

    private func text(_ slice: ArraySlice<UInt8>, _ field: String) throws(ProtocolError) -> String {
        guard !slice.contains(0), let s = String(validating: slice, as: UTF8.self) else {
            throw .malformed("\(what): \(field) is not valid UTF-8 text")
        }
        return s
    }
}
