/// Quoted-printable (RFC 2045 section 6.7) for UTF-8 text bodies: the output is 7-bit ASCII in lines of at
/// most 76 characters, so no SMTP line limit (998) or 8-bit transport question can arise.
///
/// Line breaks of the text (CRLF, LF or CR) become hard CRLF breaks; longer lines get soft breaks (`=`
/// CRLF). Bytes other than printable ASCII, `=`, and a space or tab at the end of a line are `=XX`.
/// A dot at the start of a line stays a dot: SMTP dot-stuffing (`DotStuffing`) takes care of it.
enum QuotedPrintable {
    static let maximumLineLength = 76

    static func encode(_ text: String) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        out.reserveCapacity(bytes.count + bytes.count / 8)
        var lines = split(bytes)
        if lines.count > 1 && lines.last!.isEmpty { lines.removeLast() }  // a final line break ends the last line
        for line in lines {
            var lineLength = 0
            for (i, byte) in line.enumerated() {
                let isLast = i == line.count - 1
                let literal =
                    (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                    || ((byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")) && !isLast)
                let width = literal ? 1 : 3
                // Room for the "=" of a soft break, unless this is the last token of the line.
                let limit = isLast ? maximumLineLength : maximumLineLength - 1
                if lineLength + width > limit {
                    out += [UInt8(ascii: "="), UInt8(ascii: "\r"), UInt8(ascii: "\n")]
                    lineLength = 0
                }
                if literal {
                    out.append(byte)
                } else {
                    out += [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
                }
                lineLength += width
            }
            out += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
        }
        return out
    }

    /// Splits at CRLF, LF or CR.
    private static func split(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\r") || bytes[i] == UInt8(ascii: "\n") {
                lines.append(bytes[start..<i])
                if bytes[i] == UInt8(ascii: "\r") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\n") {
                    i += 1
                }
                start = i + 1
            }
            i += 1
        }
        lines.append(bytes[start...])
        return lines
    }
}
