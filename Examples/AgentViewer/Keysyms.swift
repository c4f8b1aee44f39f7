/// X11 keysyms (the protocol's `key` message, PROTOCOL.md 10.9) for text and for the named keys.
enum Keysym {
    static let backSpace: UInt32 = 0xFF08
    static let tab: UInt32 = 0xFF09
    static let returnKey: UInt32 = 0xFF0D
    static let escape: UInt32 = 0xFF1B
    static let delete: UInt32 = 0xFFFF

    /// The keysym that types `character`: Latin-1 characters are their code point, others
    /// 0x01000000 + code point; newline is Return, tab is Tab. Nil for other control characters.
    static func forCharacter(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar.value {
        case 0x0A, 0x0D: return returnKey
        case 0x09: return tab
        case 0x08: return backSpace
        case 0x1B: return escape
        case 0x7F: return delete
        case 0x00..<0x20, 0x80..<0xA0: return nil
        case 0x20...0xFF: return scalar.value
        default: return 0x0100_0000 + scalar.value
        }
    }

    /// Press and release of each character of `text`, in order (characters without a keysym skipped).
    static func typing(_ text: String) -> [(keysym: UInt32, down: Bool)] {
        text.unicodeScalars.compactMap(forCharacter).flatMap { [($0, true), ($0, false)] }
    }

    /// A keysym as the `key` command takes it: hex (`0xff0d`) or decimal.
    static func parse(_ text: String) -> UInt32? {
        let t = text.lowercased()
        return t.hasPrefix("0x") ? UInt32(t.dropFirst(2), radix: 16) : UInt32(t)
    }
}
