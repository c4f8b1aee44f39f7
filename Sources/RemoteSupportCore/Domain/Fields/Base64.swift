import Foundation

/// Base64 as the domain's stored and linked values use it: standard alphabet without padding (PHC
/// strings), or the URL-safe alphabet without padding (tokens and signatures in links, RFC 4648 5).
enum Base64 {
    static func encode(_ bytes: [UInt8], urlSafe: Bool = false) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        if urlSafe {
            text = String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
        }
        return text
    }

    /// nil for characters outside the alphabet, a length that cannot be base64, or over 4 KiB of input.
    static func decode(_ text: some StringProtocol, urlSafe: Bool = false) -> [UInt8]? {
        guard text.utf8.count <= 4096, text.utf8.count % 4 != 1 else { return nil }
        var standard = ""
        standard.reserveCapacity(text.utf8.count + 3)
        for character in text {
            switch character {
            case "a"..."z", "A"..."Z", "0"..."9": standard.append(character)
            case "+" where !urlSafe, "/" where !urlSafe: standard.append(character)
            case "-" where urlSafe: standard.append("+")
            case "_" where urlSafe: standard.append("/")
            default: return nil
            }
        }
        while standard.utf8.count % 4 != 0 { standard.append("=") }
        guard let data = Data(base64Encoded: standard) else { return nil }
        let bytes = [UInt8](data)
        // Reject non-canonical encodings (stray bits in the last character): one string per value.
        guard encode(bytes, urlSafe: urlSafe) == String(text) else { return nil }
        return bytes
    }
}
