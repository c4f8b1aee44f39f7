import HummingbirdWebSocket
import NIOCore
import NIOWebSocket
import Synchronization

/// The wire protocol over WebSocket: one binary message carries exactly one frame, its length field
/// included (PROTOCOL.md section 2).
///
/// Reading goes through Hummingbird's message stream (`SessionHub.serve`); writing does not: like TCP,
/// output is written as WebSocket frames on the channel's loop as soon as the link has it, instead of
/// waking a writer task that hands each message back to the loop (a thread hop less per relayed record).
/// Hummingbird's writer is used once, for the closing handshake after the last bytes.
final class WebSocketTransport: PeerTransport, @unchecked Sendable {
    private let channel: any Channel
    private let outbound: WebSocketOutboundWriter
    /// The link whose outbox this writes; set once it exists, cleared when serving ends (it holds us too).
    private let link = Mutex<PeerLink?>(nil)
    private let flushScheduled = Atomic<Bool>(false)
    /// On the loop only (hence @unchecked Sendable): the closing handshake has been started.
    private var finishing = false

    init(channel: any Channel, outbound: WebSocketOutboundWriter) {
        self.channel = channel
        self.outbound = outbound
    }

    /// Starts writing `link`'s output (what it already has included).
    func attach(_ link: PeerLink) {
        self.link.withLock { $0 = link }
        outputReady()
    }

    /// Serving ended: nothing more to write.
    func detach() { link.withLock { $0 = nil } }

    func outputReady() {
        guard !flushScheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if channel.eventLoop.inEventLoop { flush() } else { channel.eventLoop.execute { self.flush() } }
    }

    func abort() { channel.close(promise: nil) }

    private func flush() {
        flushScheduled.store(false, ordering: .releasing)
        guard !finishing, let link = link.withLock({ $0 }) else { return }
        let (buffers, bytes, closed) = link.takeOutbox(allocator: channel.allocator)
        var frames: [ByteBuffer] = []
        for buffer in buffers {
            // Whole frames back to back (the state machine's output, or forwarded records): one message each.
            var rest = buffer
            while rest.readableBytes >= 4, let length = rest.getInteger(at: rest.readerIndex, as: UInt32.self) {
                guard let frame = rest.readSlice(length: 4 + Int(length)) else { preconditionFailure("whole frames only") }
                frames.append(frame)
            }
        }
        let pipeline = channel.pipeline.syncOperations
        let written = channel.eventLoop.makePromise(of: Void.self)
        for (index, frame) in frames.enumerated() {
            // Writes complete in order: the last one's promise stands for the burst.
            pipeline.write(NIOAny(WebSocketFrame(fin: true, opcode: .binary, data: frame)),
                           promise: index == frames.count - 1 ? written : nil)
        }
        if frames.isEmpty { written.succeed() } else { pipeline.flush() }
        written.futureResult.whenComplete { [channel] result in
            link.wrote(bytes)
            if case .failure = result { channel.close(promise: nil) }
        }
        if closed {
            // The state machine said its last word: the closing handshake, after those bytes.
            finishing = true
            let outbound = self.outbound
            written.futureResult.whenSuccess { Task { try? await outbound.close(.normalClosure, reason: nil) } }
        }
    }
}

extension WebSocketTransport {
    /// Whether a received message is exactly one frame (length field == size - 4); the state machine
    /// reads the messages as one stream, so the host checks this.
    static func isOneFrame(_ message: ByteBuffer) -> Bool {
        guard message.readableBytes >= 4 + 2, let length = message.getInteger(at: message.readerIndex, as: UInt32.self) else {
            return false
        }
        return Int(length) == message.readableBytes - 4
    }

    /// A message that is not exactly one binary frame (the connection is closed with protocol-error).
    struct NotOneFrame: Error {}
}
