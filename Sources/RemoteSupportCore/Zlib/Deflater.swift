import CZlib

/// A raw deflate stream (no zlib header or trailer) that ends every `compress` call on a sync flush, so
/// its outputs can be concatenated into one valid stream, even when several `Deflater`s each produce a
/// piece of it (each primed with the 32 KiB that precede its piece, as pigz does).
final class Deflater {
    private var stream = z_stream()
    let level: Int32

    init(level: Int32) {
        self.level = level
        // windowBits -15: raw deflate with a 32 KiB window; memLevel 8 is zlib's default.
        let status = rs_deflate_init2(&stream, level, -15, 8, Z_DEFAULT_STRATEGY)
        precondition(status == Z_OK, "deflateInit2 failed (\(status)): out of memory")
    }

    deinit { deflateEnd(&stream) }

    /// Forgets the stream's history and primes it with `dictionary` (at most the last 32 KiB are used).
    func reset(dictionary: UnsafeRawBufferPointer) {
        deflateReset(&stream)
        let d = dictionary.count > 32768 ? UnsafeRawBufferPointer(rebasing: dictionary[(dictionary.count - 32768)...]) : dictionary
        if let base = d.baseAddress, d.count > 0 {
            deflateSetDictionary(&stream, base.assumingMemoryBound(to: Bytef.self), uInt(d.count))
        }
    }

    /// Compresses `input`, appending the compressed bytes to `output`; with `flush`, ends on a sync
    /// flush so everything so far can be decoded from the output alone.
    func compress(_ input: UnsafeRawBufferPointer, flush: Bool, into output: inout [UInt8]) {
        var remaining = input
        repeat {
            // A sync-flushed chunk never grows past deflateBound plus the flush marker.
            let chunk = min(remaining.count, 1 << 20)
            let bound = Int(deflateBound(&stream, uLong(chunk))) + 16
            let start = output.count
            output.reserveCapacity(start + bound)
            output.append(contentsOf: repeatElement(0, count: bound))
            let mode = flush && chunk == remaining.count ? Z_SYNC_FLUSH : Z_NO_FLUSH
            let produced: Int = output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: remaining.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(chunk)
                stream.next_out = out.baseAddress! + start
                stream.avail_out = uInt(bound)
                let status = deflate(&stream, mode)
                precondition(status == Z_OK || status == Z_BUF_ERROR, "deflate failed (\(status))")
                precondition(stream.avail_in == 0 && stream.avail_out > 0, "deflate output exceeded its bound")
                return bound - Int(stream.avail_out)
            }
            output.removeLast(bound - produced)
            remaining = chunk == remaining.count ? UnsafeRawBufferPointer(start: nil, count: 0)
                : UnsafeRawBufferPointer(rebasing: remaining[chunk...])
        } while remaining.count > 0
    }
}
