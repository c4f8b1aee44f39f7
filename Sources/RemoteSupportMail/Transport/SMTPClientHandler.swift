import NIOCore
import NIOSSL

/// Runs one `SMTPClientStateMachine` on a channel: feeds it the bytes read, carries out its actions, and
/// keeps the clock (a timeout for every reply awaited, counted from the command).
///
/// `result` completes exactly once: with success when the session is over (or the message was accepted and
/// only QUIT went wrong), otherwise with a `MailError`. Then the channel is closed (after a QUIT when the
/// server is still talking). A handler removed before that fails `result`, so it never leaks.
///
/// Lives on its channel's event loop, like every ChannelHandler (not Sendable).
final class SMTPClientHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let result: EventLoopPromise<Void>
    private var machine: SMTPClientStateMachine
    private let commandTimeout: TimeAmount
    /// Makes the TLS handler that STARTTLS puts at the front of the pipeline; nil without STARTTLS.
    private let makeTLSHandler: (() throws -> NIOSSLClientHandler)?
    private var timeout: Scheduled<Void>?
    private var isStarted = false
    private var isDone = false

    init(
        machine: SMTPClientStateMachine, result: EventLoopPromise<Void>, commandTimeout: TimeAmount,
        makeTLSHandler: (() throws -> NIOSSLClientHandler)?
    ) {
        self.machine = machine
        self.result = result
        self.commandTimeout = commandTimeout
        self.makeTLSHandler = makeTLSHandler
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimeout()
        if !isDone {
            isDone = true
            result.fail(MailError(.connectionClosed, "connection closed", step: isStarted ? machine.step : .connect))
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context, failure: MailError(.connectionClosed, "the server closed the connection", step: machine.step))
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isDone else { return }
        let buffer = unwrapInboundIn(data)
        do throws(MailError) {
            perform(try machine.receive(buffer.readableBytesView), context)
        } catch {
            // A reply we refused: the server is still listening, so end politely.
            finish(context, failure: error, sayQuit: error.replyCode != nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(context, failure: Self.mailError(error, step: machine.step))
    }

    // MARK: - Carrying out

    private func start(_ context: ChannelHandlerContext) {
        guard !isStarted else { return }
        isStarted = true
        armTimeout(context)  // for the greeting (and, with implicit TLS, the handshake before it)
    }

    private func perform(_ actions: [SMTPClientStateMachine.Action], _ context: ChannelHandlerContext) {
        for action in actions {
            guard !isDone else { return }
            switch action {
            case .send(let bytes):
                armTimeout(context)
                context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            case .startTLS:
                // Added in front of us, so our next writes (EHLO) wait inside it until the handshake is done.
                do {
                    guard let makeTLSHandler else { throw MailError(.tlsFailed, "no TLS settings for STARTTLS") }
                    try context.pipeline.syncOperations.addHandler(makeTLSHandler(), position: .first)
                } catch {
                    finish(context, failure: Self.mailError(error, step: .starttls))
                    return
                }
            case .finish:
                finish(context, failure: nil)
            }
        }
        if !isDone { context.flush() }
    }

    /// Completes `result` (success when `failure` is nil, or when the message was already accepted) and
    /// closes the channel. Only the first call counts.
    private func finish(_ context: ChannelHandlerContext, failure: MailError?, sayQuit: Bool = false) {
        guard isStarted, !isDone else { return }
        isDone = true
        cancelTimeout()
        if let failure, !machine.hasDelivered {
            result.fail(failure)
            if sayQuit && context.channel.isActive {
                context.writeAndFlush(
                    wrapOutboundOut(context.channel.allocator.buffer(string: "QUIT\r\n")), promise: nil)
            }
        } else {
            result.succeed()
        }
        context.close(promise: nil)
    }

    private func armTimeout(_ context: ChannelHandlerContext) {
        cancelTimeout()
        let limit = commandTimeout
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: limit) { [self] in
            let seconds = Double(limit.nanoseconds) / 1e9
            finish(context, failure: MailError(.timeout, "no reply within \(seconds) s", step: machine.step))
        }
    }

    private func cancelTimeout() {
        timeout?.cancel()
        timeout = nil
    }

    /// Errors from NIO and NIOSSL as `MailError`s: TLS failures apart, anything else is a broken connection.
    static func mailError(_ error: any Error, step: SMTPStep) -> MailError {
        if let error = error as? MailError { return error }
        let text = MailError.capped(String(describing: error))
        if error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
            return MailError(.tlsFailed, "TLS handshake or record error: \(text)", step: step)
        }
        return MailError(.connectionClosed, text, step: step)
    }
}
