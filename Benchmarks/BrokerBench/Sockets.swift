#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOConcurrencyHelpers

/// Blocking POSIX sockets for the relay workloads: one thread per direction and nothing between the
/// benchmark and the kernel, so the client side costs the same in every case and stays out of the way.
struct SocketError: Error, CustomStringConvertible {
    let description: String
    init(_ what: String) { description = "\(what): \(String(cString: strerror(errno)))" }
    init(message: String) { description = message }
}

func monotonicNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

final class Sock: @unchecked Sendable {
    let fd: Int32
    private let writeLock = NIOLock()
    private let closed = NIOLockedValueBox(false)

    init(fd: Int32) {
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    static func connect(port: Int, host: String = "127.0.0.1") throws -> Sock {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let e = SocketError("connect 127.0.0.1:\(port)")
            Glibc.close(fd)
            throw e
        }
        return Sock(fd: fd)
    }

    /// Writes everything (whole frames), under the write lock: a pong from the reading thread never
    /// lands inside a frame of the sending thread.
    func send(_ bytes: UnsafeRawBufferPointer) throws {
        try writeLock.withLock {
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SocketError("send")
                }
                offset += n
            }
        }
    }

    func send(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try send($0) } }

    /// Reads what is there (blocking up to `timeoutMs`): nil on timeout, 0 at the end of the stream.
    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws -> Int? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, timeoutMs)
        if r == 0 { return nil }
        if r < 0 { if errno == EINTR { return nil }; throw SocketError("poll") }
        let n = recv(fd, buffer.baseAddress, buffer.count, 0)
        if n < 0 {
            if errno == EINTR || errno == EAGAIN { return nil }
            throw SocketError("recv")
        }
        return n
    }

    func close() {
        let already = closed.withLockedValue { c -> Bool in defer { c = true }; return c }
        if !already { Glibc.close(fd) }
    }
}

/// A listening socket on 127.0.0.1 (the sink of the direct, nginx and websockify cases).
final class Listener: @unchecked Sendable {
    let fd: Int32
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw SocketError("bind 127.0.0.1:\(port)") }
        guard listen(fd, 128) == 0 else { throw SocketError("listen") }
    }

    func accept(timeoutMs: Int32) throws -> Sock {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, timeoutMs) == 1 else { throw SocketError(message: "nothing connected to the sink within \(timeoutMs) ms") }
        let c = Glibc.accept(fd, nil, nil)
        guard c >= 0 else { throw SocketError("accept") }
        return Sock(fd: c)
    }

    func close() { Glibc.close(fd) }
}

// MARK: WebSocket (client side, RFC 6455)

/// The client end of a WebSocket over a `Sock`: the upgrade, then frames out (masked with a zero key,
/// which is legal and costs nothing, so the client does no per-byte work) and frames in (unmasked).
enum WebSocket {
    static func upgrade(_ sock: Sock, port: Int, path: String) throws {
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try sock.send(Array(request.utf8))
        // Read the response byte by byte up to the blank line: nothing after it may be swallowed.
        var response: [UInt8] = []
        var byte: UInt8 = 0
        let deadline = monotonicNanos() + 5_000_000_000
        while !(response.count >= 4 && response.suffix(4) == [13, 10, 13, 10]) {
            guard monotonicNanos() < deadline else { throw SocketError(message: "no WebSocket upgrade answer") }
            let n = try withUnsafeMutableBytes(of: &byte) { try sock.receive(into: $0, timeoutMs: 100) }
            if n == 0 { throw SocketError(message: "closed during the WebSocket upgrade") }
            if n == 1 { response.append(byte) }
        }
        let head = String(decoding: response, as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 101") else { throw SocketError(message: "WebSocket upgrade refused: \(head.prefix(200))") }
    }

    /// Appends one binary message carrying `payload`, masked with the zero key.
    static func appendMessage(_ payload: UnsafeRawBufferPointer, opcode: UInt8 = 0x2, to out: inout [UInt8]) {
        out.append(0x80 | opcode)
        let n = payload.count
        if n < 126 {
            out.append(0x80 | UInt8(n))
        } else if n < 65536 {
            out.append(0x80 | 126)
            out.append(UInt8(n >> 8)); out.append(UInt8(n & 0xFF))
        } else {
            out.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((n >> shift) & 0xFF)) }
        }
        out.append(contentsOf: [0, 0, 0, 0])
        out.append(contentsOf: payload)
    }

    /// Wraps whole protocol frames (back to back) into one message each (PROTOCOL.md 2).
    static func wrapFrames(_ frames: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(frames.count + 16 * (frames.count / 64 + 1))
        frames.withUnsafeBytes { raw in
            var offset = 0
            while offset + 4 <= raw.count {
                let n = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).bigEndian)
                appendMessage(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 4 + n)]), to: &out)
                offset += 4 + n
            }
        }
        return out
    }
}

/// Incremental decoder of server-to-client WebSocket frames: payload bytes of data messages go to
/// `deliver` as they come (a stream), pings are answered, a close ends the stream.
struct WebSocketDecoder {
    private var header: [UInt8] = []
    private var remaining = 0
    private var opcode: UInt8 = 0
    private var control: [UInt8] = []
    private(set) var closed = false

    /// Returns control replies to send (pongs).
    mutating func feed(_ bytes: UnsafeRawBufferPointer, deliver: (UnsafeRawBufferPointer) -> Void) -> [UInt8] {
        var replies: [UInt8] = []
        var i = 0
        while i < bytes.count && !closed {
            if remaining == 0 && !inPayload {
                header.append(bytes[i]); i += 1
                guard let (len, headerSize) = parsedHeader() else { continue }
                _ = headerSize
                opcode = header[0] & 0x0F
                remaining = len
                header.removeAll(keepingCapacity: true)
                inPayload = true
                if remaining == 0 { finishMessage(&replies) }
                continue
            }
            let take = min(remaining, bytes.count - i)
            let slice = UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)])
            if opcode == 0x0 || opcode == 0x2 { deliver(slice) } else { control.append(contentsOf: slice) }
            remaining -= take
            i += take
            if remaining == 0 { finishMessage(&replies) }
        }
        return replies
    }

    private var inPayload = false

    private mutating func finishMessage(_ replies: inout [UInt8]) {
        inPayload = false
        switch opcode {
        case 0x9: control.withUnsafeBytes { WebSocket.appendMessage($0, opcode: 0xA, to: &replies) }
        case 0x8: closed = true
        default: break
        }
        control.removeAll(keepingCapacity: true)
    }

    /// (payload length, header size) once the header is complete.
    private func parsedHeader() -> (Int, Int)? {
        guard header.count >= 2 else { return nil }
        let masked = header[1] & 0x80 != 0
        let short = Int(header[1] & 0x7F)
        let extra = short == 126 ? 2 : short == 127 ? 8 : 0
        let size = 2 + extra + (masked ? 4 : 0)
        guard header.count >= size else { return nil }
        var len = short
        if extra > 0 {
            len = 0
            for k in 0..<extra { len = len << 8 | Int(header[2 + k]) }
        }
        return (len, size)
    }
}
