import Foundation
import NIOConcurrencyHelpers

/// Runs `body` on its own thread; `wait()` joins it.
final class Worker: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var error: (any Error)?
    init(_ name: String, _ body: @escaping @Sendable () throws -> Void) {
        let thread = Thread { [self] in
            do { try body() } catch { self.error = error }
            done.signal()
        }
        thread.name = name
        thread.start()
    }
    func wait() throws {
        done.wait()
        if let error { throw error }
    }
}

struct BulkResult: Codable {
    var bytes: Int
    var records: Int
    var seconds: Double
    var megabytesPerSecond: Double
    var complete: Bool
}

struct RoundTripResult: Codable {
    var count: Int
    var seconds: Double
    var perSecond: Double
    var p50Microseconds: Double
    var p99Microseconds: Double
    var maxMicroseconds: Double
}

enum Workloads {
    /// `sender` sends 16 KiB records back to back for `duration`; `receiver` counts them. The rate is the
    /// record payload (sealed bytes) received over the time from the first send to the last byte in.
    static func bulk(from sender: Endpoint, to receiver: Endpoint, recordSize: Int, duration: Double,
                     batch: Int = 4, counterBase: inout UInt64) throws -> BulkResult {
        let sent = NIOLockedValueBox<(bytes: Int, done: Bool)>((0, false))
        let base = counterBase
        // One batch of frames, prebuilt (wrapped for a WebSocket); only the counters change.
        var frames: [UInt8] = []
        for i in 0..<batch { appendRecordFrame(epoch: 0, counter: base + UInt64(i), sealedCount: recordSize, to: &frames) }
        let frameSize = 4 + 2 + 12 + recordSize
        var wire = sender.webSocket ? WebSocket.wrapFrames(frames) : frames
        // Offsets of each frame's counter in `wire`.
        var counterOffsets: [Int] = []
        do {
            let wsHeader = sender.webSocket ? (frameSize < 126 ? 6 : frameSize < 65536 ? 8 : 14) : 0
            for i in 0..<batch { counterOffsets.append(i * (wsHeader + frameSize) + wsHeader + 4 + 2 + 4) }
        }
        let start = monotonicNanos()
        let received = NIOLockedValueBox<(bytes: Int, records: Int, last: UInt64)>((0, 0, start))
        let hardStop = start + UInt64((duration + 10) * 1e9)
        let reader = Worker("bulk-recv") {
            while monotonicNanos() < hardStop {
                var bytes = 0, records = 0
                let open = try receiver.readFrames(timeoutMs: 50) { _, count in bytes += count; records += 1 }
                let total = received.withLockedValue { r -> Int in
                    if bytes > 0 { r.bytes += bytes; r.records += records; r.last = monotonicNanos() }
                    return r.bytes
                }
                let s = sent.withLockedValue { $0 }
                if s.done && total >= s.bytes { return }
                if !open { throw SocketError(message: "\(receiver.name) closed during the bulk transfer") }
            }
        }
        var counter = base
        var bytes = 0
        let end = start + UInt64(duration * 1e9)
        var sendError: (any Error)?
        while monotonicNanos() < end {
            for offset in counterOffsets {
                withUnsafeBytes(of: counter.bigEndian) { c in for k in 0..<8 { wire[offset + k] = c[k] } }
                counter += 1
            }
            do { try sender.send(frames: wire, prewrapped: true) } catch { sendError = error; break }
            bytes += batch * recordSize
        }
        counterBase = counter
        sent.withLockedValue { $0 = (bytes, true) }
        // The sender also answers pings: read what came back without blocking (nothing but pings expected).
        _ = try? sender.readFrames(timeoutMs: 0) { _, _ in }
        try reader.wait()
        if let sendError { throw sendError }
        let r = received.withLockedValue { $0 }
        let seconds = Double(r.last - start) / 1e9
        return BulkResult(bytes: r.bytes, records: r.records, seconds: seconds,
                          megabytesPerSecond: seconds > 0 ? Double(r.bytes) / seconds / 1e6 : 0, complete: r.bytes == bytes)
    }

    /// `asker` sends a record with a 64-byte payload and waits for the answer that `echoer` sends back on
    /// each record it gets; one outstanding, for `duration` (at most `maximum` round trips).
    static func roundTrips(asker: Endpoint, echoer: Endpoint, payload: Int = 64, duration: Double, maximum: Int = 2_000_000,
                           counterBase: inout UInt64) throws -> RoundTripResult {
        let stop = NIOLockedValueBox(false)
        let base = counterBase
        let hardStop = monotonicNanos() + UInt64((duration + 10) * 1e9)
        let echo = Worker("echo") {
            var counter = base
            var frame: [UInt8] = []
            appendRecordFrame(epoch: 0, counter: counter, sealedCount: payload, to: &frame)
            var wire = echoer.webSocket ? WebSocket.wrapFrames(frame) : frame
            let counterOffset = (echoer.webSocket ? 6 : 0) + 10
            while !stop.withLockedValue({ $0 }) && monotonicNanos() < hardStop {
                var due = 0
                let open = try echoer.readFrames(timeoutMs: 20) { _, _ in due += 1 }
                for _ in 0..<due {
                    withUnsafeBytes(of: counter.bigEndian) { c in for k in 0..<8 { wire[counterOffset + k] = c[k] } }
                    counter += 1
                    try echoer.send(frames: wire, prewrapped: true)
                }
                if !open { throw SocketError(message: "\(echoer.name) closed during the round trips") }
            }
        }
        var frame: [UInt8] = []
        appendRecordFrame(epoch: 0, counter: base, sealedCount: payload, to: &frame)
        var wire = asker.webSocket ? WebSocket.wrapFrames(frame) : frame
        let counterOffset = (asker.webSocket ? 6 : 0) + 10
        var latencies: [UInt64] = []
        latencies.reserveCapacity(min(maximum, 1 << 20))
        var counter = base
        let start = monotonicNanos()
        let end = start + UInt64(duration * 1e9)
        var failure: (any Error)?
        loop: while latencies.count < maximum && monotonicNanos() < end {
            withUnsafeBytes(of: counter.bigEndian) { c in for k in 0..<8 { wire[counterOffset + k] = c[k] } }
            counter += 1
            let t0 = monotonicNanos()
            do {
                try asker.send(frames: wire, prewrapped: true)
                var got = 0
                while got == 0 {
                    guard monotonicNanos() < hardStop else { throw SocketError(message: "no answer to a round trip") }
                    let open = try asker.readFrames(timeoutMs: 1000) { _, _ in got += 1 }
                    if !open { throw SocketError(message: "\(asker.name) closed during the round trips") }
                }
            } catch { failure = error; break loop }
            latencies.append(monotonicNanos() - t0)
        }
        let elapsed = Double(monotonicNanos() - start) / 1e9
        stop.withLockedValue { $0 = true }
        try echo.wait()
        if let failure { throw failure }
        counterBase = counter + UInt64(maximum)
        latencies.sort()
        func pct(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1000
        }
        return RoundTripResult(count: latencies.count, seconds: elapsed, perSecond: Double(latencies.count) / elapsed,
                               p50Microseconds: pct(0.50), p99Microseconds: pct(0.99), maxMicroseconds: Double(latencies.last ?? 0) / 1000)
    }
}
