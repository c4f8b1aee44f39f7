/// Splits bytes from an SMTP server into replies, incrementally and within fixed bounds.
///
/// A reply is one or more lines `ddd-text` ending with a line `ddd text` (or just `ddd`), all with the same
/// code, each ended by CRLF (a bare LF is accepted too). Bytes may arrive split anywhere: a partial line is
/// kept until its line end arrives, and the lines of a multi-line reply are kept until its last line.
///
/// Bounds (a hostile server cannot make us buffer more): a line, without its line end, is at most
/// `limits.maximumLineLength` bytes, and a reply has at most `limits.maximumLines` lines; past either,
/// `append` throws `malformedReply`. What is held between calls is therefore at most one partial line and
/// `maximumLines - 1` finished lines. Replies completed by one `append` are returned together; their number
/// is bounded by the size of that call's input.
///
/// After a throw the parser is poisoned: the connection must be dropped (later calls throw again).
public struct SMTPReplyParser: Sendable {
    public struct Limits: Hashable, Sendable {
        /// RFC 5321 allows 512 octets including CRLF; servers sometimes send more.
        public var maximumLineLength: Int
        /// EHLO replies list one extension a line: a few dozen at most in practice.
        public var maximumLines: Int

        public init(maximumLineLength: Int = 2048, maximumLines: Int = 64) {
            self.maximumLineLength = maximumLineLength
            self.maximumLines = maximumLines
        }
    }

    public let limits: Limits
    /// The current line so far, without line end. Invariant: `line.count <= limits.maximumLineLength`.
    private var line: [UInt8] = []
    /// The code and lines of the multi-line reply under way. Invariant: `lines.count < limits.maximumLines`.
    private var code: Int?
    private var lines: [String] = []
    private var failure: MailError?

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// True while part of a reply (a partial line, or lines of an unfinished multi-line reply) is held.
    public var hasPartialReply: Bool { !line.isEmpty || code != nil }

    /// Takes received bytes and returns the replies they complete, in order (often none or one).
    public mutating func append(_ bytes: some Sequence<UInt8>) throws(MailError) -> [SMTPReply] {
        if let failure { throw failure }
        var replies: [SMTPReply] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                do throws(MailError) {
                    if let reply = try finishLine() { replies.append(reply) }
                } catch {
                    failure = error
                    throw error
                }
                line.removeAll(keepingCapacity: true)
            } else {
                // The CR of a CRLF may come on top of a line at the cap (it is removed with the LF).
                guard
                    line.count < limits.maximumLineLength
                        || (line.count == limits.maximumLineLength && byte == UInt8(ascii: "\r"))
                else {
                    let error = MailError(.malformedReply, "reply line longer than \(limits.maximumLineLength) bytes")
                    failure = error
                    throw error
                }
                line.append(byte)
            }
        }
        return replies
    }

    /// Parses `line` (complete, without line end); returns the reply when it was the last line of one.
    private mutating func finishLine() throws(MailError) -> SMTPReply? {
        guard line.count >= 3,
            (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(line[0]),
            line[1...2].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else {
            throw MailError(.malformedReply, "reply line does not start with a code: \(Self.text(line.prefix(40)))")
        }
        let lineCode = Int(line[0] - 48) * 100 + Int(line[1] - 48) * 10 + Int(line[2] - 48)
        let isLast: Bool
        switch line.count > 3 ? line[3] : UInt8(ascii: " ") {
        case UInt8(ascii: " "): isLast = true
        case UInt8(ascii: "-"): isLast = false
        default: throw MailError(.malformedReply, "reply code not followed by space or hyphen")
        }
        if let code, code != lineCode {
            throw MailError(.malformedReply, "multi-line reply changed its code from \(code) to \(lineCode)")
        }
        let text = line.count > 4 ? Self.text(line[4...]) : ""
        if isLast {
            let reply = SMTPReply(code: lineCode, lines: lines + [text])
            code = nil
            lines.removeAll()
            return reply
        }
        guard lines.count + 1 < limits.maximumLines else {
            throw MailError(.malformedReply, "reply longer than \(limits.maximumLines) lines")
        }
        code = lineCode
        lines.append(text)
        return nil
    }

    /// Server bytes as text safe to show: invalid UTF-8 becomes U+FFFD, control characters `?`.
    static func text(_ bytes: some Collection<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            let isControl = scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
            scalars.append(isControl ? "?" : scalar)
        }
        return String(scalars)
    }
}
