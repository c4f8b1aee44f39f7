import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import RemoteSupportCore

/// One connection to the broker's HTTP port: HTTP/1.1 for the API, the pages and the console (Hummingbird's
/// router answers), or, when its first request upgrades to a WebSocket on `/ws`, a protocol link served on
/// the channel's event loop like a TCP one (`WebSocketFraming` under a `PeerChannelHandler`).
///
/// The link's handlers go in synchronously while the upgrade completes, so the frames a client sends right
/// behind its upgrade request reach them in order, and no task stands between the socket and the relay.
struct BrokerHTTPChannel: ServerChildChannel, HTTPChannelHandler {
    struct Configuration: Sendable {
        /// The largest WebSocket message (one protocol frame, its length field included).
        var maximumMessage: Int
        /// An HTTP connection with no request for this long is closed.
        var idleTimeout: TimeAmount
    }

    enum Served: Sendable {
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// A protocol link, served by its handlers until the channel closes.
        case link
    }

    struct Value: ServerChildChannelValue {
        let served: EventLoopFuture<Served>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let hub: SessionHub
    let publicURL: PublicURL
    let configuration: Configuration

    init(responder: @escaping HTTPChannelHandler.Responder, hub: SessionHub, publicURL: PublicURL, configuration: Configuration) {
        self.responder = Self.redirectingLateUpgrades(responder)
        self.hub = hub
        self.publicURL = publicURL
        self.configuration = configuration
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let upgrader = NIOTypedWebSocketServerUpgrader<Served>(
                maxFrameSize: configuration.maximumMessage,
                enableAutomaticErrorHandling: true,
                shouldUpgrade: { channel, head in
                    channel.eventLoop.makeSucceededFuture(Self.path(of: head.uri) == "/ws" ? HTTPHeaders() : nil)
                },
                upgradePipelineHandler: { [hub, publicURL, configuration] channel, head in
                    channel.eventLoop.makeCompletedFuture {
                        let token = WebSocketLogin.browserToken(head.headers, publicURL: publicURL)
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(WebSocketFraming(maximumMessage: configuration.maximumMessage))
                        try pipeline.addHandler(PeerChannelHandler(hub: hub, loop: channel.eventLoop, browserToken: token))
                        return .link
                    }
                })
            let upgrade = NIOTypedHTTPServerUpgradeConfiguration<Served>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { [configuration] channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: .init(configuration.idleTimeout), logger: logger))
                        return .http(try NIOAsyncChannel(wrappingChannelSynchronously: channel,
                                                         configuration: .init(isOutboundHalfClosureEnabled: true)))
                    }
                })
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgrade)
            pipeline.enablePipelining = false  // NIOAsyncChannel takes one request at a time
            pipeline.enableErrorHandling = false  // Hummingbird answers errors
            pipeline.enableResponseHeaderValidation = false  // HTTPTypes validates
            let served = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            return Value(served: served, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.served.get() {
            case .http(let channel):
                await handleHTTP(asyncChannel: channel, logger: logger)
            case .link:
                // The server's graceful shutdown waits for this connection like for an HTTP one.
                try await value.channel.closeFuture.get()
            }
        } catch {
            logger.debug("connection ended before it was served: \(error)")
        }
    }

    private static func path(of uri: String) -> Substring {
        uri.prefix { $0 != "?" && $0 != "#" }
    }

    /// NIO upgrades only a connection's first request: an upgrade behind another request is sent to the same
    /// address on a new connection (307, then this one closes), as Hummingbird's own WebSocket channel does.
    private static func redirectingLateUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                return try await responder(request, writer, channel)
            }
            let location = request.uri.query.map { request.uri.path + "?" + $0 } ?? request.uri.path
            try await writer.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location]))
            throw LateUpgrade()
        }
    }

    private struct LateUpgrade: Error {}
}
