import CZlib

/// A zlib (or gzip) stream decoder that hands out its output in bounded pieces.
///
/// ZRLE keeps one zlib stream per connection: each rectangle's bytes are given with `begin`, read out as
/// the tiles need them, and `end` checks that nothing is left over. Output is never produced faster than
/// the reader asks, so a zlib bomb costs no more memory than the reader's buffer. A failed stream stays
/// failed, since everything after it depends on it.
final class Inflater {
    private var stream = z_stream()
    private(set) var isBroken = false
    private(set) var hasEnded = false
    /// Whether the end of the deflate stream is expected (gzip files) or an error (ZRLE never ends one).
    let endIsAllowed: Bool

    /// `windowBits` as zlib takes it: 15 for a zlib stream, 31 for gzip.
    init(windowBits: Int32 = 15, endIsAllowed: Bool = false) {
        self.endIsAllowed = endIsAllowed
        let status = rs_inflate_init2(&stream, windowBits)
        precondition(status == Z_OK, "inflateInit2 failed (\(status)): out of memory")
    }

    deinit { inflateEnd(&stream) }

    /// Sets the compressed input, which must stay valid until `end()` or the next `begin`.
    func begin(_ input: UnsafeRawBufferPointer) {
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
    }

    /// Inflates into `buffer` and returns how many bytes it wrote: 0 when the input is used up.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(CodecError) -> Int {
        guard !isBroken else { throw CodecError(.corruptCompressedData, "the zlib stream failed earlier") }
        guard buffer.count > 0, !hasEnded else { return 0 }
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(min(buffer.count, Int(UInt32.max)))
        while true {
            let status = CZlib.inflate(&stream, Z_SYNC_FLUSH)
            let produced = buffer.count - Int(stream.avail_out)
            switch status {
            case Z_OK:
                if produced > 0 { return produced }
                // Input was consumed without output (block headers, flush markers): go on.
            case Z_BUF_ERROR:
                return produced   // no progress possible: the input is used up
            case Z_STREAM_END:
                hasEnded = true
                guard endIsAllowed else {
                    isBroken = true
                    throw CodecError(.corruptCompressedData, "the zlib stream ended; a ZRLE stream never ends")
                }
                return produced
            default:
                isBroken = true
                let message = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                throw CodecError(.corruptCompressedData, "zlib: \(message)")
            }
        }
    }

    /// Checks that the input given to `begin` holds no more output: data left over means the sender and
    /// this reader disagree about the contents, so it is an error.
    func end() throws(CodecError) {
        var probe: UInt8 = 0
        let extra = try withUnsafeMutableBytes(of: &probe) { p throws(CodecError) in try read(into: p) }
        if extra > 0 {
            isBroken = true
            throw CodecError(.compressedSizeMismatch, "compressed data holds more than the rectangle needs")
        }
        stream.next_in = nil
        stream.avail_in = 0
    }

    /// Compressed bytes given to `begin` and not yet used.
    var unreadInput: Int { Int(stream.avail_in) }
}
