import NIOCore
import NIOPosix
import RemoteSupportCore
import RemoteSupportStore

/// The `Mailer` that delivers invitation e-mails through the operator's SMTP relay. It exists so the broker
/// can plug RemoteSupportMail into `SupportDesk` (`SupportDesk(store:configuration:mailer:)`) while the store
/// layer knows nothing of SMTP:
///
///     let mailer = SMTPMailer(
///         configuration: try SMTPConfiguration(url: smtpURL),
///         sender: try MailAddress("support@example.com", displayName: "Example Support"))
///     let desk = try SupportDesk(store: store, configuration: deskConfiguration, mailer: mailer)
///
/// Each invitation becomes one plain-text `MailMessage` from `sender` to the one recipient (display name:
/// the invited end user's name, if any), sent on its own connection by `SMTPClient`. Failures are thrown as
/// the `MailError` itself (code, SMTP step, server reply), which never contains the relay's password, so the
/// desk's caller can show or log it; `SupportDesk` audits the e-mail as sent only when this returns.
public struct SMTPMailer: Mailer {
    public let client: SMTPClient
    /// The From address (and envelope sender), e.g. `Example Support <support@example.com>`.
    public let sender: MailAddress
    /// Where replies go, when not to `sender` (a helpdesk queue, say).
    public let replyTo: MailAddress?

    public init(
        configuration: SMTPConfiguration, sender: MailAddress, replyTo: MailAddress? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.client = SMTPClient(configuration: configuration, eventLoopGroup: eventLoopGroup)
        self.sender = sender
        self.replyTo = replyTo
    }

    /// The message for `email` to `recipient`: throws `invalidAddress` if the address is one the domain
    /// accepts but SMTP cannot carry as is.
    public func message(
        to recipient: EmailAddress, recipientName: String?, email: InvitationEmail
    ) throws(MailError) -> MailMessage {
        let name = recipientName.flatMap { $0.isEmpty ? nil : $0 }
        let to = try MailAddress(recipient.value, displayName: name)
        return MailMessage(from: sender, to: [to], replyTo: replyTo, subject: email.subject, body: email.body)
    }

    /// Sends the invitation; returns when the relay accepted it. Throws `MailError`.
    public func deliver(to recipient: EmailAddress, recipientName: String?, email: InvitationEmail)
        async throws(MailError)
    {
        try await client.send(message(to: recipient, recipientName: recipientName, email: email))
    }
}
