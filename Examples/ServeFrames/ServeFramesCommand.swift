import ArgumentParser
import Dispatch
import Glibc
import NIOCore
import NIOPosix
import RemoteSupportCore
import Synchronization

/// rs-serve-frames: serves still frames over RFB 3.8 with the project's codec, to any VNC viewer.
@main
struct ServeFramesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rs-serve-frames",
        abstract: "Serve PPM frames over RFB 3.8 (no authentication) with ZRLE, CopyRect and Raw.",
        discussion: """
            Without --step every update shows the first file. With --step each FramebufferUpdateRequest \
            after the first update is answered with the next file (only what changed, if the request \
            is incremental); after the last file it stays there. An incremental request with nothing \
            to send is held until a later request brings something. Clients are served at once, each \
            with its own encoder (the ClientInit shared flag is ignored: nobody is disconnected); one \
            that breaks the protocol is closed with the reason on stderr.
            Prints "listening on HOST:PORT" on stderr once bound; SIGINT or SIGTERM stop it.
            """)

    @Option(help: "TCP port to listen on; 0 picks a free one (printed on stderr).")
    var port: Int

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Flag(help: "Answer each request after the first update with the next file.")
    var step = false

    @Flag(help: "Print bytes, rectangles and encode time of each update on stderr.")
    var stats = false

    @Option(help: "zlib compression level, 0-9, for photo-like updates; text-like ones use at most 4.")
    var level = 6

    @Option(help: "Threads one update is encoded with (tiles and deflate).")
    var workers = System.coreCount

    @Flag(help: "Do not look for moved content (no CopyRect, even if the client accepts it).")
    var noMotion = false

    @Option(help: "Desktop name sent in ServerInit.")
    var name = "rs-serve-frames"

    @Argument(help: "Frames: binary PPM (P6, maxval up to 255), optionally gzipped, all the same size.")
    var files: [String]

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        guard !files.isEmpty else { throw ValidationError("give at least one frame FILE") }
        guard (0...9).contains(level) else { throw ValidationError("--level must be 0-9") }
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be 1-64") }
    }

    func run() throws {
        let frames: FrameStore
        do {
            frames = try FrameStore(paths: files)
        } catch {
            log("error: \(error)")
            throw ExitCode(1)
        }

        var options = EncoderOptions()
        options.compressionLevel = level
        options.sparseCompressionLevel = min(level, options.sparseCompressionLevel)
        options.workers = workers
        options.detectMotion = !noMotion
        let settings = ServerSettings(step: step, stats: stats, encoderOptions: options, name: name)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: max(2, System.coreCount))
        pool.start()
        let ids = ClientCounter()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try ClientHandler(id: ids.next(), frames: frames, settings: settings, pool: pool)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }

        let server: Channel
        do {
            server = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            let why = (error as? IOError).map { $0.errnoCode == EADDRINUSE ? "address already in use" : "\($0)" } ?? "\(error)"
            log("error: cannot listen on \(host):\(port): \(why)")
            try? group.syncShutdownGracefully()
            try? pool.syncShutdownGracefully()
            throw ExitCode(1)
        }
        let boundPort = server.localAddress?.port ?? port
        log("serving \(frames.count) frame\(frames.count == 1 ? "" : "s") of \(frames.width)x\(frames.height)\(step ? ", stepping" : "")")
        log("listening on \(host):\(boundPort)")

        // SIGINT and SIGTERM close the listening socket; the event loop group's shutdown closes clients.
        let signalQueue = DispatchQueue(label: "rs-serve-frames.signals")
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: signalQueue)
            source.setEventHandler {
                log("signal \(sig): stopping")
                server.close(promise: nil)
            }
            source.resume()
            sources.append(source)
        }

        try? server.closeFuture.wait()
        sources.forEach { $0.cancel() }
        try group.syncShutdownGracefully()
        try pool.syncShutdownGracefully()
        log("stopped")
    }
}

/// Numbers the clients for the log.
final class ClientCounter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}
