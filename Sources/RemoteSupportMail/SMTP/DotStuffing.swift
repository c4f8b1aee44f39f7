/// The message content as sent after DATA (RFC 5321 section 4.5.2): line ends normalised to CRLF, a dot
/// doubled at the start of every line, and the terminating `CRLF . CRLF`.
///
/// Normalising matters for safety, not only for form: a bare LF or CR next to a dot (`\n.\r\n`, `\r.\r\n`)
/// is read by some servers as the end of data, which lets content smuggle a second message into the session
/// ("SMTP smuggling"). Here every CR and every LF becomes a CRLF pair, so the only end of data is ours.
enum DotStuffing {
    static func encode(_ content: some Collection<UInt8>) -> [UInt8] {
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        let dot = UInt8(ascii: ".")
        var out: [UInt8] = []
        out.reserveCapacity(content.count + content.count / 64 + 5)
        var atLineStart = true
        var previousWasCR = false
        for byte in content {
            if byte == lf && previousWasCR {
                // The LF of a CRLF already written as a pair.
                previousWasCR = false
                continue
            }
            previousWasCR = byte == cr
            if byte == cr || byte == lf {
                out.append(cr)
                out.append(lf)
                atLineStart = true
                continue
            }
            if atLineStart && byte == dot { out.append(dot) }
            out.append(byte)
            atLineStart = false
        }
        if !atLineStart {
            out.append(cr)
            out.append(lf)
        }
        out.append(contentsOf: [dot, cr, lf])
        return out
    }
}
