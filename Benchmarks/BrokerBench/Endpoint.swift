import Foundation
import NIOConcurrencyHelpers

/// Frame types the raw side handles (PROTOCOL.md 7).
enum WireType {
    static let ping: UInt8 = 0x02
    static let pong: UInt8 = 0x03
    static let close: UInt8 = 0x04
    static let record: UInt8 = 0x30
}

/// A record frame: `u32 length | 0x30 | flags 0 | u32 epoch | u64 counter | sealed` (PROTOCOL.md 7.16).
func appendRecordFrame(epoch: UInt32, counter: UInt64, sealedCount: Int, to out: inout [UInt8]) {
    let length = UInt32(2 + 12 + sealedCount)
    withUnsafeBytes(of: length.bigEndian) { out.append(contentsOf: $0) }
    out.append(WireType.record)
    out.append(0)
    withUnsafeBytes(of: epoch.bigEndian) { out.append(contentsOf: $0) }
    withUnsafeBytes(of: counter.bigEndian) { out.append(contentsOf: $0) }
    // Stand-in ciphertext + tag: the broker never opens it.
    for i in 0..<sealedCount { out.append(UInt8(truncatingIfNeeded: i &* 131 &+ 7)) }
}

func controlFrame(_ type: UInt8, _ payload: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    withUnsafeBytes(of: UInt32(2 + payload.count).bigEndian) { out.append(contentsOf: $0) }
    out.append(type)
    out.append(0)
    out.append(contentsOf: payload)
    return out
}

/// Incremental parser of the protocol's frame stream that never copies record payloads: it reads the
/// 6-byte frame header and the 12-byte record header, then skips the sealed bytes by count.
struct FrameParser {
    private var header = [UInt8]()
    private var type: UInt8 = 0
    private var length = 0
    private var skip = 0
    private var control: [UInt8] = []
    private var collecting = 0
    private var phase = Phase.frameHeader
    private enum Phase { case frameHeader, recordHeader, sealed, control }
    private var counter: UInt64 = 0

    /// Calls `record(counter, sealedCount)` once a record frame is complete and `control(type, payload)`
    /// for any other frame.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, record: (UInt64, Int) -> Void, control onControl: (UInt8, [UInt8]) -> Void) {
        var i = 0
        let n = bytes.count
        while i < n {
            switch phase {
            case .frameHeader:
                let take = min(6 - header.count, n - i)
                header.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)]))
                i += take
                guard header.count == 6 else { continue }
                length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
                type = header[4]
                header.removeAll(keepingCapacity: true)
                if type == WireType.record && length >= 14 {
                    phase = .recordHeader
                } else {
                    collecting = length - 2
                    phase = .control
                    if collecting == 0 { onControl(type, []); phase = .frameHeader }
                }
            case .recordHeader:
                let take = min(12 - header.count, n - i)
                header.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)]))
                i += take
                guard header.count == 12 else { continue }
                counter = 0
                for k in 4..<12 { counter = counter << 8 | UInt64(header[k]) }
                header.removeAll(keepingCapacity: true)
                skip = length - 14
                phase = .sealed
                if skip == 0 { record(counter, 0); phase = .frameHeader }
            case .sealed:
                let take = min(skip, n - i)
                skip -= take
                i += take
                if skip == 0 { record(counter, length - 14); phase = .frameHeader }
            case .control:
                let take = min(collecting, n - i)
                control.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)]))
                collecting -= take
                i += take
                if collecting == 0 {
                    onControl(type, control)
                    control.removeAll(keepingCapacity: true)
                    phase = .frameHeader
                }
            }
        }
    }
}

/// One end of a relayed stream, as the benchmark sees it: a socket, speaking protocol frames either
/// as a byte stream (TCP) or one WebSocket message per frame (client side of a WebSocket).
final class Endpoint: @unchecked Sendable {
    let sock: Sock
    let webSocket: Bool
    let name: String
    private var decoder = WebSocketDecoder()
    /// Only the thread that reads touches these.
    var parser = FrameParser()
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
    let pings = NIOLockedValueBox(0)

    init(_ sock: Sock, webSocket: Bool, name: String) {
        self.sock = sock
        self.webSocket = webSocket
        self.name = name
    }

    deinit { buffer.deallocate() }

    static func tcp(port: Int, name: String) throws -> Endpoint { Endpoint(try Sock.connect(port: port), webSocket: false, name: name) }

    static func webSocket(port: Int, path: String, name: String) throws -> Endpoint {
        let sock = try Sock.connect(port: port)
        try WebSocket.upgrade(sock, port: port, path: path)
        return Endpoint(sock, webSocket: true, name: name)
    }

    /// Sends whole frames (already wrapped when `prewrapped`).
    func send(frames: [UInt8], prewrapped: Bool = false) throws {
        if webSocket && !prewrapped { try sock.send(WebSocket.wrapFrames(frames)) } else { try sock.send(frames) }
    }

    /// Reads once (up to `timeoutMs`) and hands the protocol bytes to `deliver`; false at the end of
    /// the stream.
    func read(timeoutMs: Int32, deliver: (UnsafeRawBufferPointer) -> Void) throws -> Bool {
        guard let n = try sock.receive(into: buffer, timeoutMs: timeoutMs) else { return true }
        if n == 0 { return false }
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
        if webSocket {
            let replies = decoder.feed(bytes, deliver: deliver)
            if !replies.isEmpty { try sock.send(replies) }
            return !decoder.closed
        }
        deliver(bytes)
        return true
    }

    /// Reads once in raw mode: records reported to `record`, pings answered with pongs.
    func readFrames(timeoutMs: Int32, record: (UInt64, Int) -> Void) throws -> Bool {
        var pongs: [[UInt8]] = []
        var closed = false
        let open = try read(timeoutMs: timeoutMs) { bytes in
            parser.feed(bytes, record: record) { type, payload in
                if type == WireType.ping { pongs.append(controlFrame(WireType.pong, payload)) }
                if type == WireType.close { closed = true }
            }
        }
        for p in pongs {
            pings.withLockedValue { $0 += 1 }
            try send(frames: p)
        }
        return open && !closed
    }

    func close() { sock.close() }
}
