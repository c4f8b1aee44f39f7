import CZlib

/// A raw deflate stream (no zlib header or trailer) that ends every `compress` call on a sync flush, so
/// its outputs can be concatenated into one valid stream, even when several `Deflater`s each produce a
/// piece of it (each primed with the 32 KiB that precede its piece, as pigz does).
final class Deflater {
    private var stream = z_stream()
    private(set) var level: Int32

    init(level: Int32) {
        self.level = level
        // windowBits -15: raw deflate with a 32 KiB window; memLevel 8 is zlib's default.
        let status = rs_deflate_init2(&stream, level, -15, 8, Z_DEFAULT_STRATEGY)
        precondition(status == Z_OK, "deflateInit2 failed (\(status)): out of memory")
    }

    deinit { deflateEnd(&stream) }

    /// Forgets the stream's history, switches to `level`, and primes the stream with `dictionary` (at
    /// most the last 32 KiB are used).
    func reset(dictionary: UnsafeRawBufferPointer, level: Int32) {
        deflateReset(&stream)
        if level != self.level {
            // Right after a reset deflateParams has nothing to flush, so it writes no output.
            let status = deflateParams(&stream, level, Z_DEFAULT_STRATEGY)
            precondition(status == Z_OK, "deflateParams failed (\(status))")
            self.level = level
        }
        let d = dictionary.count > 32768 ? UnsafeRawBufferPointer(rebasing: dictionary[(dictionary.count - 32768)...]) : dictionary
        if let base = d.baseAddress, d.count > 0 {
            deflateSetDictionary(&stream, base.assumingMemoryBound(to: Bytef.self), uInt(d.count))
        }
    }

    /// Compresses `input`, appending the compressed bytes to `output`; with `flush`, ends on a sync
    /// flush so everything so far can be decoded from the output alone.
    func compress(_ input: UnsafeRawBufferPointer, flush: Bool, into output: ByteWriter) {
        precondition(input.count <= Int(UInt32.max), "deflate input over 4 GiB")
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        let mode = flush ? Z_SYNC_FLUSH : Z_NO_FLUSH
        repeat {
            // deflateBound covers the input; the margin covers the flush marker and pending bits.
            let room = Int(deflateBound(&stream, uLong(stream.avail_in))) + 64
            output.reserve(room)
            stream.next_out = (output.base + output.count).assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(room)
            let status = deflate(&stream, mode)
            precondition(status == Z_OK || status == Z_BUF_ERROR, "deflate failed (\(status))")
            output.count += room - Int(stream.avail_out)
        } while stream.avail_in > 0 || stream.avail_out == 0
    }
}
