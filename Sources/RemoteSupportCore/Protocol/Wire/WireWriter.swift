/// Appends big-endian fields to a message body. Lengths are checked by the message encoders before
/// writing (a string over its field's limit is a caller error reported as `.invalidArgument`).
struct WireWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v)) }
    mutating func u32(_ v: UInt32) { for s in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
    mutating func u64(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    mutating func i16(_ v: Int16) { u16(UInt16(bitPattern: v)) }
    mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    mutating func append(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }

    /// A `u16` length and the UTF-8 bytes; the caller has checked the length (`StringLimit`).
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u16(UInt16(clamping: utf8.count))
        bytes.append(contentsOf: utf8.prefix(Int(UInt16.max)))
    }

    mutating func longString(_ s: String) {
        let utf8 = Array(s.utf8)
        u32(UInt32(clamping: utf8.count))
        bytes.append(contentsOf: utf8)
    }
}
