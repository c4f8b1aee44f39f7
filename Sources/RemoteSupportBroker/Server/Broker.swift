import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RemoteSupportCore
import RemoteSupportMail
import RemoteSupportPostgres
import RemoteSupportSQLite
import RemoteSupportStore
import ServiceLifecycle
import UnixSignals

/// The broker: opens the store, makes the first admin on an empty one, and serves the HTTP API, the
/// pages, the wire protocol over WebSocket (`/ws`) and over TCP, until a graceful shutdown (SIGTERM,
/// SIGINT, or `RunningBroker.stop()`): then it stops accepting, tells connected peers (`shutting-down`,
/// which lets them resume on the next start), waits for them, closes the sessions in the store and returns.
public enum Broker {
    public static let version = "0.5.0"

    /// Starts everything and returns once it serves (or throws what stopped it: a bad configuration, a
    /// port in use, an unreadable certificate, an unreachable database).
    public static func start(_ configuration: BrokerConfiguration, logger: Logger,
                             gracefulShutdownSignals: [UnixSignal] = []) async throws -> RunningBroker {
        try configuration.validate()
        let tls = try loadTLS(configuration)
        let store = try await openStore(configuration, logger: logger)
        let reservation = configuration.port == 0 ? try PortReservation(host: configuration.host) : nil
        defer { reservation?.release() }
        let httpPort = reservation?.port ?? configuration.port
        let publicURL: PublicURL
        do { publicURL = try configuration.resolvedPublicURL(httpPort: httpPort) } catch let e as DomainError {
            throw ConfigurationError("--public-url: \(e.reason)")
        }
        var mailer: (any Mailer)?
        if let url = configuration.smtpURL {
            do {
                mailer = SMTPMailer(configuration: try SMTPConfiguration(url: url), sender: try MailAddress(configuration.mailFrom))
            } catch {
                throw ConfigurationError("--smtp-url / --mail-from: \(error)")
            }
        }
        let desk = try SupportDesk(store: store, configuration: .init(publicURL: publicURL, organisation: configuration.organisation,
                                                                     passwordHashing: configuration.passwordHashing),
                                   mailer: mailer)
        let firstAdmin = try await desk.bootstrap(adminEmail: configuration.adminEmail)
        let interrupted = try await desk.closeInterruptedSessions()
        if interrupted > 0 { logger.notice("closed \(interrupted) sessions left open by the previous run") }

        let metrics = BrokerMetrics()
        let hub = SessionHub(desk: desk, settings: configuration.hub, logger: logger, metrics: metrics)
        let webhooks = WebhookDispatcher(desk: desk, logger: logger)
        try await webhooks.load()
        hub.observe { change in webhooks.publish(change) }

        let protocolListener: ProtocolListener?
        if let port = configuration.protocolPort {
            do {
                protocolListener = try await ProtocolListener(host: configuration.host, port: port, tls: tls?.context, hub: hub, logger: logger)
            } catch {
                throw ConfigurationError("cannot listen on \(configuration.host):\(port) for the protocol: \(describe(error))")
            }
        } else {
            protocolListener = nil
        }

        let router = Router(context: BrokerRequestContext.self)
        router.add(middleware: SecurityHeadersMiddleware(tls: tls != nil))
        router.add(middleware: APIErrorMiddleware(metrics: metrics))
        if let console = try consoleFolder(configuration, logger: logger) {
            // Revalidated on every load (ETag): a new broker's console is picked up at once.
            router.add(middleware: FileMiddleware(console, urlBasePath: "/console", cacheControl: .init([(MediaType(type: .any), [.noCache])]),
                                                  searchForIndexHtml: true, logger: logger))
        }
        APIRoutes(desk: desk, hub: hub, webhooks: webhooks, secureCookies: tls != nil).register(on: router)
        PageRoutes(desk: desk, hub: hub, metrics: metrics, version: version).register(on: router)

        // HTTP, and the protocol over WebSocket on /ws (served on the loop, like TCP).
        let channelConfiguration = BrokerHTTPChannel.Configuration(maximumMessage: configuration.hub.connection.maximumFrameLength + 4,
                                                                   idleTimeout: .seconds(120))
        var server = HTTPServerBuilder { responder in
            BrokerHTTPChannel(responder: responder, hub: hub, publicURL: publicURL, configuration: channelConfiguration)
        }
        if let tls { server = try .tls(server, tlsConfiguration: tls.configuration) }

        let ready = ReadySignal()
        let app = Application(router: router, server: server,
                              configuration: .init(address: .hostname(configuration.host, port: httpPort), serverName: nil,
                                                   backlog: 4096, reuseAddress: true),
                              onServerRunning: { channel in ready.fire(port: channel.localAddress?.port ?? httpPort) },
                              logger: logger)
        let hubService = HubService(hub: hub, grace: configuration.shutdownGrace, sweep: configuration.expirySweep, logger: logger)
        // Shut down in reverse order: the hub first (peers told and gone), then the listeners, then webhooks.
        var services: [any Service] = [WebhookService(webhooks: webhooks)]
        if let protocolListener { services.append(protocolListener) }
        services.append(app)
        services.append(hubService)
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: gracefulShutdownSignals, logger: logger))
        let task = Task { try await group.run() }
        let boundHTTP: Int
        do {
            boundHTTP = try await ready.wait(orFailureOf: task)
        } catch {
            throw ConfigurationError("cannot listen on \(configuration.host):\(httpPort): \(describe(error))")
        }
        return RunningBroker(httpPort: boundHTTP, protocolPort: protocolListener?.port, publicURL: publicURL.value,
                             firstAdmin: firstAdmin.map { ($0.agent.email.value, $0.password) }, group: group, task: task,
                             store: store, hub: hub)
    }

    /// The console's files: `--console-dir`, or the copy in the broker's resources.
    private static func consoleFolder(_ c: BrokerConfiguration, logger: Logger) throws -> String? {
        if let folder = c.consoleDirectory { return folder }
        guard let url = Bundle.module.url(forResource: "console", withExtension: nil, subdirectory: "Resources") else {
            logger.warning("the console's files are not installed beside the broker: /console/ is not served")
            return nil
        }
        return url.path
    }

    private static func loadTLS(_ c: BrokerConfiguration) throws -> (configuration: TLSConfiguration, context: NIOSSLContext)? {
        guard let certPath = c.tlsCertificatePath, let keyPath = c.tlsKeyPath else { return nil }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certPath).map { NIOSSLCertificateSource.certificate($0) }
            guard !chain.isEmpty else { throw ConfigurationError("no certificate in \(certPath)") }
            let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv12
            return (tls, try NIOSSLContext(configuration: tls))
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("cannot use --tls-cert \(certPath) / --tls-key \(keyPath): \(error)")
        }
    }

    private static func openStore(_ c: BrokerConfiguration, logger: Logger) async throws -> any SupportStore {
        if let url = c.databaseURL {
            do {
                return try await PostgresStore.connect(url: url, logger: logger)
            } catch {
                throw ConfigurationError("cannot use --database-url: \(error)")
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: c.dataDirectory, withIntermediateDirectories: true)
            return try SQLiteStore(path: (c.dataDirectory as NSString).appendingPathComponent("broker.sqlite"))
        } catch {
            throw ConfigurationError("cannot use --data \(c.dataDirectory): \(error)")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError, io.errnoCode == EADDRINUSE { return "the port is in use" }
        if let io = error as? IOError, io.errnoCode == EACCES { return "permission denied (ports under 1024 need privileges)" }
        return "\(error)"
    }
}

/// A broker serving: its ports, the first admin's one-time password (on a new store), and `stop()`.
public final class RunningBroker: Sendable {
    public let httpPort: Int
    public let protocolPort: Int?
    public let publicURL: String
    /// On the first start only: the admin's e-mail and one-time password (print it once).
    public let firstAdmin: (email: String, password: String)?
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    let store: any SupportStore
    let hub: SessionHub

    init(httpPort: Int, protocolPort: Int?, publicURL: String, firstAdmin: (email: String, password: String)?, group: ServiceGroup,
         task: Task<Void, any Error>, store: any SupportStore, hub: SessionHub) {
        self.httpPort = httpPort
        self.protocolPort = protocolPort
        self.publicURL = publicURL
        self.firstAdmin = firstAdmin
        self.group = group
        self.task = task
        self.store = store
        self.hub = hub
    }

    /// The console's address.
    public var consoleURL: String { publicURL + "/console/" }

    /// Graceful shutdown, as on SIGTERM; returns when everything stopped.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// Waits until the broker stops (after a signal or `stop()`).
    public func wait() async throws { try await task.value }
}

/// Fired once when the HTTP server is listening; `wait` also returns the error of a start that failed.
private final class ReadySignal: Sendable {
    private let stream: AsyncStream<Int>
    private let continuation: AsyncStream<Int>.Continuation

    init() { (stream, continuation) = AsyncStream.makeStream(of: Int.self) }

    func fire(port: Int) { continuation.yield(port); continuation.finish() }

    func wait(orFailureOf task: Task<Void, any Error>) async throws -> Int {
        let failure = Task {
            do { try await task.value } catch { continuation.finish(); throw error }
            continuation.finish()
        }
        for await port in stream { return port }
        try await failure.value
        throw ConfigurationError("the server stopped before it started")
    }
}

/// Runs the hub's timers; on graceful shutdown tells every peer and waits for them (first of all services).
private struct HubService: Service {
    let hub: SessionHub
    let grace: Duration
    let sweep: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastSweep = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                await hub.tick()
                if ContinuousClock.now - lastSweep >= sweep {
                    lastSweep = .now
                    await hub.expireWaiting()
                }
            }
        }
        logger.notice("shutting down: telling \(hub.connectionCount) connected peers")
        hub.beginShutdown()
        await hub.drain(timeout: grace)
        let closed = (try? await hub.desk.closeInterruptedSessions(reason: .brokerRestarted)) ?? 0
        if closed > 0 { logger.notice("closed \(closed) sessions for the shutdown") }
    }
}

private struct WebhookService: Service {
    let webhooks: WebhookDispatcher
    /// Delivers until the graceful shutdown reaches it (last of all services); what is still queued then is
    /// dropped and counted in the log.
    func run() async throws { await cancelWhenGracefulShutdown { await webhooks.run() } }
}
