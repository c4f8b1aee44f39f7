import Foundation

/// Where the client reaches the broker: the WebSocket endpoint (`ws(s)://host:port/ws`, one frame per
/// message, PROTOCOL.md 2), or the protocol's TCP port, with TLS when asked.
public enum BrokerAddress: Sendable, CustomStringConvertible {
    case webSocket(url: String)
    case tcp(host: String, port: Int, tls: Bool)

    public var description: String {
        switch self {
        case .webSocket(let url): url
        case .tcp(let host, let port, let tls): "\(tls ? "tls" : "tcp")://\(host):\(port)"
        }
    }
}


extension BrokerAddress {
    /// The WebSocket at a broker's base URL (`http(s)://host[:port]`, or any link of it), as `ws(s)://host[:port]/ws`.
    public init(brokerURL: String) throws(ClientError) {
        guard let url = URL(string: brokerURL), let scheme = url.scheme?.lowercased(), let host = url.host,
              scheme == "http" || scheme == "https" else {
            throw ClientError("the broker's address must be http(s)://host[:port], not \(brokerURL)")
        }
        let port = url.port.map { ":\($0)" } ?? ""
        let h = host.contains(":") ? "[\(host)]" : host
        self = .webSocket(url: "\(scheme == "https" ? "wss" : "ws")://\(h)\(port)/ws")
    }

    /// The protocol's TCP port, `host:port` (an IPv6 host in brackets).
    public init(tcp: String, tls: Bool) throws(ClientError) {
        guard let colon = tcp.lastIndex(of: ":"), let port = Int(tcp[tcp.index(after: colon)...]), (1...65535).contains(port) else {
            throw ClientError("expected host:port, not \(tcp)")
        }
        self = .tcp(host: String(tcp[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port, tls: tls)
    }
}

/// What went wrong, in words for the person running the program.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
