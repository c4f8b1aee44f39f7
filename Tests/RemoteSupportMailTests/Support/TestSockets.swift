import Glibc

/// A TCP socket on 127.0.0.1 with a port from the OS, for servers that misbehave: `listening: true` gives a
/// server that accepts connections (the kernel completes them) but never says a word; `listening: false`
/// gives a port where connections are refused. `close()` it in a `defer`.
final class TestSocket: @unchecked Sendable {
    let port: Int
    private let fd: Int32

    init(listening: Bool) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSetupError("socket() failed: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound, !listening || listen(fd, 8) == 0 else {
            Glibc.close(fd)
            throw TestSetupError("bind/listen on 127.0.0.1 failed: \(errno)")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(fd) }
}
