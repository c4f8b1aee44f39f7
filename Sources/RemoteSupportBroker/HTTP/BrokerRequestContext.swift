import Hummingbird
import NIOCore

/// The request context of every route: the peer's address (for audit and rate limits) and a small upload
/// cap (no API body is large).
public struct BrokerRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    public var remoteAddress: SocketAddress? { channel.remoteAddress }
    public var maxUploadSize: Int { 64 * 1024 }

    /// The address as text, for the desk's limits and the audit trail.
    var address: String { remoteAddress?.ipAddress ?? "" }
}
