import Foundation

/// Just enough of a mail reader to check what `MailMessage.render` wrote: headers split and unfolded, and
/// RFC 2047 B-encoded words decoded (adjacent encoded-words joined without the space between them).
enum HeaderDecoding {
    /// The header fields of a rendered message, unfolded, in order, as (name, raw value).
    static func fields(_ message: [UInt8]) -> [(name: String, value: String)] {
        let text = String(decoding: message, as: UTF8.self)
        let header = text.components(separatedBy: "\r\n\r\n")[0]
        var fields: [(name: String, value: String)] = []
        for line in header.components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t") {
                fields[fields.count - 1].value += line
            } else {
                let colon = line.firstIndex(of: ":")!
                fields.append(
                    (
                        String(line[..<colon]),
                        String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                    ))
            }
        }
        return fields
    }

    static func value(_ name: String, in message: [UInt8]) -> String? {
        fields(message).first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Decodes a sequence of space-separated tokens where some are `=?utf-8?B?...?=`.
    static func decodeWords(_ value: String) -> String {
        var out = ""
        var previousWasEncoded = false
        for (i, token) in value.split(separator: " ").enumerated() {
            if token.hasPrefix("=?utf-8?B?") && token.hasSuffix("?=") {
                let payload = token.dropFirst(10).dropLast(2)
                let bytes = Data(base64Encoded: String(payload))!
                if i > 0 && !previousWasEncoded { out += " " }
                out += String(decoding: bytes, as: UTF8.self)
                previousWasEncoded = true
            } else {
                if i > 0 { out += " " }
                out += token
                previousWasEncoded = false
            }
        }
        return out
    }
}
