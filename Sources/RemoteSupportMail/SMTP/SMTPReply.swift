/// One SMTP reply (RFC 5321 section 4.2): a three-digit code and one or more lines of text.
///
/// The text is safe to log: control characters from the server are replaced by `?`, and the lines come from
/// `SMTPReplyParser`, which caps their length and count.
public struct SMTPReply: Hashable, Sendable, CustomStringConvertible {
    /// 200...599 (the parser accepts first digits 2-5 only).
    public var code: Int
    /// The text after the code and separator of each line, in order; a one-line reply has one element,
    /// possibly empty.
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// The lines joined by a space.
    public var text: String { lines.joined(separator: " ") }

    /// 2yz: the command was accepted.
    public var isPositiveCompletion: Bool { (200..<300).contains(code) }
    /// 3yz: go on (the 354 after DATA, the 334 AUTH challenges).
    public var isPositiveIntermediate: Bool { (300..<400).contains(code) }
    /// 4yz: refused for now; the same command may work later.
    public var isTransientNegative: Bool { (400..<500).contains(code) }
    /// 5yz: refused.
    public var isPermanentNegative: Bool { (500..<600).contains(code) }

    public var description: String { "\(code) \(text)" }
}
