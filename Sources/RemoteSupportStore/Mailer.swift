import RemoteSupportCore

/// Delivers an invitation e-mail. The broker plugs in the SMTP relay the operator configured
/// (RemoteSupportMail); with none configured, `SupportDesk.emailInvitation` says so and the console
/// offers a mailto: link instead.
public protocol Mailer: Sendable {
    func deliver(to recipient: EmailAddress, recipientName: String?, email: InvitationEmail) async throws
}
