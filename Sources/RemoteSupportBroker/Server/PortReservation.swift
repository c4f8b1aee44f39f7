#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A free TCP port on a host, held until the server listens on it (`--port 0`: the public URL needs the
/// port before the HTTP server binds).
///
/// The port is bound with SO_REUSEADDR and not listened on, so the server (which also sets SO_REUSEADDR)
/// can bind it beside this socket, while nobody else can: the kernel hands it to no other `bind(0)` or
/// outgoing connection meanwhile. Picking a port and closing it at once left a window in which another
/// process could take it (a parallel test run hit "the port is in use").
final class PortReservation: Sendable {
    let port: Int
    private let descriptor: Mutex<Int32>

    init(host: String) throws {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, "0", &hints, &list) == 0, let first = list else {
            throw ConfigurationError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry?.pointee {
            entry = info.ai_next
            let fd = socket(info.ai_family, info.ai_socktype, info.ai_protocol)
            guard fd >= 0 else { continue }
            var on: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            var bound = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            guard bind(fd, info.ai_addr, info.ai_addrlen) == 0,
                  withUnsafeMutablePointer(to: &bound, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }) == 0
            else {
                close(fd)
                continue
            }
            let port = withUnsafeBytes(of: &bound) { raw -> UInt16 in
                // sin_port and sin6_port both sit at byte 2 (after the family, or the length and family on
                // BSDs), in network byte order.
                UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self))
            }
            self.port = Int(port)
            descriptor = Mutex(fd)
            return
        }
        throw ConfigurationError("cannot find a free port on \(host)")
    }

    /// The server listens now (or gave up): the port is its own.
    func release() {
        descriptor.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    deinit { release() }
}
