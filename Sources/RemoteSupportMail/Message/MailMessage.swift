#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A plain-text e-mail: sender, recipients, optional Reply-To, subject and body.
///
/// Addresses are checked when the `MailAddress` values are made; display names, subject and body are free
/// text (they may come from end users: names, ticket titles) and are encoded by `render` so they cannot add
/// header fields or recipients. The envelope (MAIL FROM, RCPT TO) is `from` and `to`: there is no Bcc.
public struct MailMessage: Hashable, Sendable {
    /// RFC 5321 requires servers to accept at least 100 recipients per message; we send no more.
    public static let maximumRecipients = 100

    public var from: MailAddress
    public var to: [MailAddress]
    public var replyTo: MailAddress?
    public var subject: String
    public var body: String

    public init(from: MailAddress, to: [MailAddress], replyTo: MailAddress? = nil, subject: String, body: String) {
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.body = body
    }

    /// The message as RFC 5322 text with CRLF line ends: Date, From, Reply-To, To, Subject, Message-ID and
    /// MIME headers, then the body as UTF-8 quoted-printable. All 7-bit ASCII, every line within 78 octets
    /// except an over-long address; not yet dot-stuffed (the SMTP client does that).
    ///
    /// `messageID` is `left@right` (angle brackets optional): printable ASCII without spaces, `<`, `>`,
    /// at most 250 octets. Throws `invalidMessage` for a bad ID, no recipient, or more than 100.
    public func render(date: Date, messageID: String) throws(MailError) -> [UInt8] {
        guard !to.isEmpty else { throw MailError(.invalidMessage, "no recipients") }
        guard to.count <= Self.maximumRecipients else {
            throw MailError(.invalidMessage, "\(to.count) recipients, at most \(Self.maximumRecipients)")
        }
        let id = try Self.checkedMessageID(messageID)
        var header = HeaderEncoding.field("Date", [MailDate.format(date)])
        header += HeaderEncoding.field("From", HeaderEncoding.mailbox(from))
        if let replyTo { header += HeaderEncoding.field("Reply-To", HeaderEncoding.mailbox(replyTo)) }
        header += HeaderEncoding.field("To", HeaderEncoding.mailboxList(to))
        header += HeaderEncoding.field("Subject", HeaderEncoding.unstructured(subject))
        header += HeaderEncoding.field("Message-ID", ["<\(id)>"])
        header += "MIME-Version: 1.0\r\n"
        header += "Content-Type: text/plain; charset=utf-8\r\n"
        header += "Content-Transfer-Encoding: quoted-printable\r\n"
        header += "\r\n"
        return Array(header.utf8) + QuotedPrintable.encode(body)
    }

    /// A new Message-ID: a random UUID at the sender's domain.
    public static func makeMessageID(domain: some StringProtocol) -> String {
        "\(UUID().uuidString.lowercased())@\(domain)"
    }

    /// The ID without angle brackets, checked.
    static func checkedMessageID(_ messageID: String) throws(MailError) -> String {
        var id = Substring(messageID)
        if id.hasPrefix("<") && id.hasSuffix(">") && id.count >= 2 { id = id.dropFirst().dropLast() }
        let bytes = Array(id.utf8)
        let parts = bytes.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
        guard bytes.count <= 250, parts.count == 2, parts.allSatisfy({ !$0.isEmpty }),
            bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") })
        else {
            throw MailError(
                .invalidMessage, "Message-ID is not left@right in printable ASCII: \(MailAddress.printable(bytes))")
        }
        return String(id)
    }
}
