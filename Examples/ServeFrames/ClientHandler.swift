import NIOCore
import NIOPosix
import RemoteSupportCore

/// What every connection of one server shares.
struct ServerSettings: Sendable {
    var step: Bool
    var stats: Bool
    var encoderOptions: EncoderOptions
    var name: String
}

/// One client: feeds received bytes to the sans-IO `RFBServerConnection`, turns its events into
/// encoding jobs through `ClientSession`, runs them on the thread pool, and writes what the
/// connection queues. Every member is touched on the channel's event loop only; the encoder, inside
/// `UpdateWorker`, is used by one pool thread at a time.
///
/// A client that breaks the protocol is logged with the reason and closed (after the refusal the
/// handshake defines, if any, is written); other clients are not affected.
final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let id: Int
    private let frames: FrameStore
    private let settings: ServerSettings
    private let pool: NIOThreadPool
    private var connection: RFBServerConnection
    private var session: ClientSession
    private var worker: UpdateWorker?
    private var peer = "unknown peer"
    /// Set once the connection is failing or gone: later reads and job results are dropped.
    private var closing = false
    /// Set when NIO removes the handler: its context must not be used after that.
    private var removed = false
    private var updatesSent = 0
    private var bytesSent = 0

    init(id: Int, frames: FrameStore, settings: ServerSettings, pool: NIOThreadPool) throws {
        self.id = id
        self.frames = frames
        self.settings = settings
        self.pool = pool
        connection = try RFBServerConnection(configuration: RFBServerConfiguration(
            width: frames.width, height: frames.height, pixelFormat: FrameStore.format, name: settings.name))
        session = ClientSession(step: settings.step, frameCount: frames.count)
    }

    private var label: String { "client \(id) (\(peer))" }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }

    func channelActive(context: ChannelHandlerContext) {
        if let address = context.remoteAddress {
            peer = "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        }
        log("\(label) connected")
        flushOutput(context)  // the server's ProtocolVersion
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closing { log("\(label) disconnected after \(updatesSent) updates, \(bytesSent) bytes") }
        closing = true
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { connection.receive($0) }
        do {
            while !closing, let event = try connection.nextEvent() {
                handle(event, context)
            }
        } catch {
            fail(context, "\(error)")
            return
        }
        flushOutput(context)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A socket error (reset by peer and the like): nothing to tell the client.
        if !closing { log("\(label) closing: \(error)") }
        closing = true
        context.close(promise: nil)
    }

    private func handle(_ event: RFBServerConnection.Event, _ context: ChannelHandlerContext) {
        switch event {
        case .handshakeComplete:
            do {
                worker = try UpdateWorker(frames: frames, options: settings.encoderOptions)
            } catch {
                fail(context, "cannot create an encoder: \(error)")
            }
        case .message(.updateRequest(let incremental, let rect)):
            if let job = session.requestReceived(UpdateRequest(incremental: incremental, rect: rect)) {
                start(job, context)
            }
        case .message:
            // SetPixelFormat and SetEncodings are kept by the connection and read when a job starts;
            // key, pointer and cut-text events do not change the frames.
            break
        }
    }

    private func start(_ job: UpdateJob, _ context: ChannelHandlerContext) {
        guard let worker else { return }
        let format = connection.clientPixelFormat
        let encodings = connection.encodings
        pool.runIfActive(eventLoop: context.eventLoop) {
            try worker.run(job, format: format, encodings: encodings)
        }.assumeIsolated().whenComplete { result in
            self.finished(job, result, context)
        }
    }

    private func finished(_ job: UpdateJob, _ result: Result<UpdateResult, Error>, _ context: ChannelHandlerContext) {
        guard !closing, !removed else { return }
        let update: UpdateResult
        switch result {
        case .failure(let error):
            fail(context, "encoding failed: \(error)")
            return
        case .success(let u):
            update = u
        }
        let outcome: ClientSession.Outcome
        if update.rectangleCount == 0 && job.request.incremental {
            outcome = .nothingChanged
        } else {
            do {
                try connection.queueFramebufferUpdate(update.message)
            } catch {
                fail(context, "cannot send an update: \(error)")
                return
            }
            updatesSent += 1
            bytesSent += update.message.count
            if settings.stats { logStatistics(job, update) }
            flushOutput(context)
            outcome = .sent(rectangles: update.rectangleCount)
        }
        if let next = session.jobFinished(outcome) { start(next, context) }
    }

    private func logStatistics(_ job: UpdateJob, _ u: UpdateResult) {
        let s = u.statistics
        let ms = (u.encodeMilliseconds * 100).rounded() / 100
        log("\(label) update \(updatesSent) file \(job.frameIndex) \(job.request.incremental ? "incremental" : "full"): "
            + "\(u.message.count) bytes, \(u.rectangleCount) rects (zrle \(s.zrleRectangles), copyrect \(s.copyRectangles), "
            + "raw \(s.rawRectangles)), \(s.encodedPixels) pixels, encode \(ms) ms")
    }

    private func flushOutput(_ context: ChannelHandlerContext) {
        guard connection.hasOutput, !removed else { return }
        let bytes = connection.takeOutput()
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    /// Logs why, writes whatever the connection queued for the client (a handshake refusal says why
    /// to the client too), then closes.
    private func fail(_ context: ChannelHandlerContext, _ reason: String) {
        guard !closing else { return }
        closing = true
        log("\(label) closing: \(reason)")
        guard !removed else { return }
        let bytes = connection.takeOutput()
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)))
            .assumeIsolated().whenComplete { _ in
                if !self.removed { context.close(promise: nil) }
            }
    }
}
