#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix
import RemoteSupportCore
import Synchronization

/// Serves one protocol connection on its channel's event loop, with no task of its own while it only
/// relays: received bytes go into the link's state machine, a record is relayed into the partner's link
/// at once, and the partner's loop writes it (`outputReady` -> `flush`): one hop per record. Over TCP(+TLS)
/// it sits on the socket; over WebSocket on `WebSocketFraming`, which makes messages the same byte stream.
///
/// A plain TCP connection can move to another loop (`move(to:)`): the hub moves one side of a session to
/// the other side's loop, so a relayed record is read and written by one thread, with no wake-up between
/// (as nginx's stream proxy holds both sockets of a pair in one worker). The socket is duplicated and
/// served by a successor handler on that loop (with any record frame held); this channel then closes only
/// its own descriptor. Under
/// TLS or WebSocket the connection's state lives in the pipeline, so those stay where they are.
///
/// Anything that needs the store (join, authenticate, connect, consent, ends) goes to a task, in order:
/// while it runs, reading pauses and later events wait in `queue`, so a `consent` is paired before the
/// `start` record behind it is relayed. Reading also pauses while the partner's backlog is over the relay
/// cap (`PeerLink.whenRoom`), which is how a stalled viewer stops the end user's socket.
final class PeerChannelHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let hub: SessionHub
    let loop: any EventLoop
    /// The console's login, for a WebSocket the broker's own page opened (`WebSocketLogin`).
    private let browserToken: String?
    /// Whether the connection may move to another loop: nothing of it lives in the pipeline before this
    /// handler (plain TCP).
    let movable: Bool
    // The rest is touched on the event loop only (hence @unchecked Sendable).
    private var context: ChannelHandlerContext?
    private var link: PeerLink?
    /// Events waiting for the running control task, in order.
    private var queue: [BrokerEvent] = []
    private var controlRunning = false
    private var waitingForRoom = false
    private var heldRead = false
    private var inactive = false
    /// The relay's fast path, with a record frame it holds until the next reads complete it.
    private var cutter = RecordFrameCutter()
    /// Writes handed to the channel and not yet done.
    private var writesInFlight = 0
    /// Where the connection is to move once it is idle.
    private var moveTarget: (any EventLoop)?
    /// A connection that moved here: the link it serves (taken over on start) instead of a new one.
    private var adopted: PeerLink?
    /// `abort` came before this handler's channel was active.
    private var abortOnStart = false
    private let flushScheduled = Atomic<Bool>(false)

    init(hub: SessionHub, loop: any EventLoop, browserToken: String? = nil, movable: Bool = false) {
        self.hub = hub
        self.loop = loop
        self.browserToken = browserToken
        self.movable = movable
    }

    /// The successor of a handler whose connection moves to `loop`: it serves `link` from where its
    /// predecessor left off.
    private init(successorOf predecessor: PeerChannelHandler, link: PeerLink, on loop: any EventLoop) {
        hub = predecessor.hub
        self.loop = loop
        browserToken = nil
        movable = true
        adopted = link
        cutter = predecessor.cutter
    }

    // MARK: Life

    /// Added to an active channel (after a WebSocket upgrade): the link starts now.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard self.context == nil else { return }
        self.context = context
        if abortOnStart { return context.close(promise: nil) }
        if let adopted {
            // Moved here: the link goes on, and what it queued meanwhile goes out now.
            link = adopted
            self.adopted = nil
            hub.metrics.connectionMoved()
            return flush()
        }
        let address = context.channel.remoteAddress?.ipAddress ?? ""
        guard let link = hub.open(address: address, transport: ChannelTransport(handler: self),
                                  browserToken: browserToken) else {
            context.close(promise: nil)  // full or stopping
            return
        }
        self.link = link
        hub.attach(link)
        // The hello the state machine queued goes out now, not after the peer's first bytes: both sides
        // send theirs at once (PROTOCOL.md section 5), and a peer may wait for the broker's.
        link.wakeWriter()
    }

    func channelInactive(context: ChannelHandlerContext) {
        inactive = true
        if let link {
            link.withConnection { $0.connectionLost() }
            enqueue(link.pendingEvents(), link)
            if !controlRunning { finish(link) }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A peer that broke the WebSocket carriage hears why, like any protocol error; anything else (a
        // reset, a TLS failure) drops the connection.
        if let violation = error as? WebSocketFraming.Violation, let link {
            link.withConnection { $0.close(.protocolError, violation.reason) }
        } else {
            context.close(promise: nil)
        }
    }

    /// After the last event: the hub forgets the link.
    private func finish(_ link: PeerLink) {
        link.transportDidClose()
        hub.detach(link)
        self.link = nil
        context = nil
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let link else { return }
        let now = monotonicMilliseconds()
        let partner = link.partner
        // The fast path (`RecordFrameCutter`): record frames go to the partner's outbox as they came (no
        // parsing, no copy); the state machine still checks that both sides are connected.
        let pieces = cutter.take(unwrapInboundIn(data), startCutting: !controlRunning && partner != nil,
                                 cut: { bytes in link.withConnection { $0.cutRecordFrame(bytes, now: now) } },
                                 noteReceived: { link.withConnection { $0.noteReceived(now: now) } })
        forward(pieces.records, to: partner, from: link, allocator: context.channel.allocator)
        for bytes in pieces.forReceive {
            enqueue(bytes.withUnsafeReadableBytes { link.receive($0, now: now) }, link)
        }
    }

    /// Whole record frames to the partner's outbox, if it is connected (else they are dropped, as the state
    /// machine drops records outside a session).
    private func forward(_ frames: [ByteBuffer], to partner: PeerLink?, from link: PeerLink, allocator: ByteBufferAllocator) {
        guard !frames.isEmpty else { return }
        let bytes = frames.reduce(0) { $0 + $1.readableBytes }
        if let partner, partner.forward(frames, allocator: allocator) {
            hub.metrics.relayed(bytes: bytes, toAgent: partner.isAgent)
        } else {
            hub.logger.debug("connection \(link.id): \(bytes) bytes of records dropped, the other side is not connected")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Backpressure: stop reading while the other side's backlog is over the cap.
        guard let partner = link?.partner, !waitingForRoom else { return }
        let loop = self.loop
        if partner.whenRoom({ loop.execute { self.roomAgain() } }) { waitingForRoom = true }
    }

    private func roomAgain() {
        waitingForRoom = false
        if moveIfIdle() { return }
        resumeReading()
    }

    /// Records are relayed here and now unless a control task runs (then they wait their turn).
    private func enqueue(_ events: [BrokerEvent], _ link: PeerLink) {
        for event in events {
            if controlRunning {
                queue.append(event)
                continue
            }
            switch event {
            case .record(let record): hub.relay(record, from: link)
            case .hello: break
            default:
                controlRunning = true
                queue.append(event)
                runControl(link)
            }
        }
    }

    /// Handles queued events in order on a task (they need the store), then hands back to the loop.
    private func runControl(_ link: PeerLink) {
        let hub = self.hub
        let loop = self.loop
        Task {
            while let batch = try? await loop.submit({ self.takeQueue() }).get(), !batch.isEmpty {
                for event in batch { await hub.handle(event, from: link) }
            }
        }
    }

    /// On the loop: the next events to handle, or none (the control task ends and reading goes on).
    private func takeQueue() -> [BrokerEvent] {
        let batch = queue
        queue.removeAll()
        if batch.isEmpty {
            controlRunning = false
            if inactive, let link {
                finish(link)
            } else if !moveIfIdle() {
                resumeReading()
            }
        }
        return batch
    }

    func read(context: ChannelHandlerContext) {
        if controlRunning || waitingForRoom {
            heldRead = true
        } else {
            context.read()
        }
    }

    private func resumeReading() {
        guard heldRead, !controlRunning, !waitingForRoom, let context else { return }
        heldRead = false
        context.read()
    }

    // MARK: Writing

    /// From any thread: output is waiting in the link; write it on the loop (once per burst).
    func outputReady() {
        guard !flushScheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // On this loop already (the other side of the session shares it): write now, saving a wake-up.
        if loop.inEventLoop { flush() } else { loop.execute { self.flush() } }
    }

    private func flush() {
        flushScheduled.store(false, ordering: .releasing)
        guard let link, let context else { return }
        let (buffers, bytes, closed) = link.takeOutbox(allocator: context.channel.allocator)
        if let last = buffers.last {
            for buffer in buffers.dropLast() { context.write(wrapOutboundOut(buffer), promise: nil) }
            let written = context.eventLoop.makePromise(of: Void.self)
            writesInFlight += 1
            written.futureResult.whenComplete { _ in
                link.wrote(bytes)
                self.writesInFlight -= 1
                if self.writesInFlight == 0 { self.moveIfIdle() }
            }
            context.writeAndFlush(wrapOutboundOut(last), promise: written)
            if closed { written.futureResult.whenComplete { _ in context.close(promise: nil) } }
        } else if closed {
            context.close(promise: nil)
        }
    }

    // MARK: Moving to the partner's loop

    /// From any thread: serve this connection on `target` from now on (where the other side of its session
    /// is), as soon as it is idle; nothing happens when it cannot move or is there already.
    func move(to target: any EventLoop) {
        guard movable, !(target === loop) else { return }
        loop.execute {
            self.moveTarget = target
            self.moveIfIdle()
        }
    }

    /// Moves the connection if one is asked for and nothing is in the middle: no control task, no wait for
    /// the partner's room, no write in flight (what was read is handled; the kernel holds what was not).
    /// True when it moved (this handler is done).
    @discardableResult
    private func moveIfIdle() -> Bool {
        guard let target = moveTarget, let context, let link, !inactive, !controlRunning, !waitingForRoom, writesInFlight == 0
        else { return false }
        moveTarget = nil
        let duplicate = try? context.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) { dup($0) }
        guard let descriptor = duplicate, descriptor >= 0 else {
            hub.logger.debug("connection \(link.id) stays on its loop: its socket could not be duplicated")
            return false
        }
        let successor = PeerChannelHandler(successorOf: self, link: link, on: target)
        link.replaceTransport(with: ChannelTransport(handler: successor))
        // This channel lets go of the connection: closing it closes only its descriptor, and its end is not
        // the connection's (`channelInactive` finds no link).
        self.link = nil
        cutter = RecordFrameCutter()
        context.close(promise: nil)
        let hub = self.hub
        ClientBootstrap(group: target)
            .channelOption(.allowRemoteHalfClosure, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(successor) }
            }
            .withConnectedSocket(descriptor)
            .whenFailure { error in
                hub.logger.warning("connection \(link.id) was lost moving to another event loop: \(error)")
                target.execute { successor.lostWhileMoving(link) }
            }
        return true
    }

    /// The duplicated socket could not be served: the connection is lost, as if its peer had gone.
    private func lostWhileMoving(_ link: PeerLink) {
        adopted = nil
        inactive = true
        link.withConnection { $0.connectionLost() }
        self.link = link
        enqueue(link.pendingEvents(), link)
        if !controlRunning { finish(link) }
    }

    /// From any thread: drop the connection now.
    func abort() {
        loop.execute {
            if let context = self.context { context.close(promise: nil) } else { self.abortOnStart = true }
        }
    }
}

/// A protocol connection's transport: its handler writes on its loop; abort closes the channel from
/// anywhere; a plain TCP one can move to another loop.
struct ChannelTransport: PeerTransport {
    let handler: PeerChannelHandler

    func outputReady() { handler.outputReady() }
    func abort() { handler.abort() }
    var eventLoop: any EventLoop { handler.loop }
    var isMovable: Bool { handler.movable }
    func move(to loop: any EventLoop) { handler.move(to: loop) }
}
