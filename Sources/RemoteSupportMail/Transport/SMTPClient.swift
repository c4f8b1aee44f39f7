import NIOCore
import NIOPosix
import NIOSSL

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Delivers e-mails through the configured SMTP relay: one connection per message, closed afterwards.
///
///     let client = SMTPClient(configuration: try SMTPConfiguration(url: smtpURL))
///     try await client.send(message)
///
/// Each send renders the message, checks its size, connects (within `connectTimeout`), runs the dialogue
/// of `SMTPClientStateMachine` (each reply within `commandTimeout`) and returns when the server accepted
/// the message; every failure is a `MailError` with the step, and the server's code and text if it replied.
public struct SMTPClient: Sendable {
    public var configuration: SMTPConfiguration
    private let group: any EventLoopGroup

    public init(
        configuration: SMTPConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup
    }

    /// Sends `message`, dated `date`, with `messageID` (a new random one at the sender's domain if nil).
    public func send(_ message: MailMessage, date: Date = Date(), messageID: String? = nil) async throws(MailError) {
        let configuration = self.configuration
        try configuration.validate()
        let rendered = try message.render(
            date: date, messageID: messageID ?? MailMessage.makeMessageID(domain: message.from.domain))
        guard rendered.count <= configuration.maximumMessageSize else {
            throw MailError(
                .messageTooLarge, "message is \(rendered.count) octets, at most \(configuration.maximumMessageSize)")
        }
        var recipients: [String] = []
        for address in message.to.map(\.address) where !recipients.contains(address) { recipients.append(address) }
        let envelope = SMTPClientStateMachine.Envelope(
            from: message.from.address, recipients: recipients, content: DotStuffing.encode(rendered),
            size: rendered.count)
        let machine = SMTPClientStateMachine(configuration: configuration, envelope: envelope)

        let tlsContext = configuration.security == .none ? nil : try SMTPTLSContext.make(configuration.tls)
        let serverHostname = SMTPTLSContext.serverHostname(host: configuration.host, settings: configuration.tls)
        let security = configuration.security
        let commandTimeout = TimeAmount(configuration.commandTimeout)

        let session: Session
        do {
            session = try await ClientBootstrap(group: group)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let makeTLSHandler: (() throws -> NIOSSLClientHandler)? = tlsContext.map { context in
                            { try NIOSSLClientHandler(context: context, serverHostname: serverHostname) }
                        }
                        let pipeline = channel.pipeline.syncOperations
                        if security == .tls, let makeTLSHandler { try pipeline.addHandler(makeTLSHandler()) }
                        let handler = SMTPClientHandler(
                            machine: machine, result: channel.eventLoop.makePromise(), commandTimeout: commandTimeout,
                            makeTLSHandler: security == .startTLS ? makeTLSHandler : nil)
                        try pipeline.addHandler(handler)
                        return Session(channel: channel, result: handler.result.futureResult)
                    }
                }
        } catch {
            throw Self.connectError(error, configuration)
        }

        let outcome: Result<Void, MailError>
        do {
            try await session.result.get()
            outcome = .success(())
        } catch {
            outcome = .failure(SMTPClientHandler.mailError(error, step: .connect))
        }
        // The handler has closed the channel or is closing it; wait, so no connection outlives the call.
        session.channel.close(promise: nil)
        try? await session.channel.closeFuture.get()
        try outcome.get()
    }

    /// The channel and what its handler will report.
    private struct Session: Sendable {
        var channel: any Channel
        var result: EventLoopFuture<Void>
    }

    private static func connectError(_ error: any Error, _ configuration: SMTPConfiguration) -> MailError {
        let target = "\(configuration.host):\(configuration.port)"
        if let error = error as? ChannelError, case .connectTimeout = error {
            return MailError(
                .timeout, "no connection to \(target) within \(configuration.connectTimeout)", step: .connect)
        }
        if error is NIOSSLError || error is NIOSSLExtraError {
            return MailError(.tlsFailed, MailError.capped("\(error)"), step: .connect)
        }
        return MailError(
            .connectionFailed, "cannot connect to \(target): \(MailError.capped("\(error)"))", step: .connect)
    }
}
