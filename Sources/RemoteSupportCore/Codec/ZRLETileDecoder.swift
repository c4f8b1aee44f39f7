/// Reads ZRLE rectangles (RFC 6143 §7.7.6) into a framebuffer of the client's pixel format.
///
/// Owns the connection's zlib stream: rectangles must be given in the order they were sent. Every count
/// from the wire is checked before it is used: palette sizes and indices, run lengths against the tile,
/// the inflated size against what the tiles need (a zlib bomb is read no further than one tile past the
/// rectangle's end). Not thread-safe.
final class ZRLETileDecoder {
    let format: PixelFormat
    let cpixelSize: Int
    let cpixelShift: UInt32
    private let inflater = Inflater()
    private let tile = UnsafeMutablePointer<UInt32>.allocate(capacity: 64 * 64)
    private let palette = UnsafeMutablePointer<UInt32>.allocate(capacity: 128)
    // Inflated bytes not parsed yet live in buffer[start..<end].
    private let bufferCapacity = 1 << 18
    private let buffer: UnsafeMutableRawPointer
    private var start = 0
    private var end = 0

    init(format: PixelFormat) {
        self.format = format
        let compact = format.compactPixel
        cpixelSize = compact.size
        cpixelShift = UInt32(compact.offset * 8)
        buffer = .allocate(byteCount: bufferCapacity + 8, alignment: 16)
    }

    deinit {
        tile.deallocate()
        palette.deallocate()
        buffer.deallocate()
    }

    /// Decodes one rectangle's zlib data (the bytes after its 4-byte length) into `pixels`, whose rows
    /// are `stride` bytes apart; `rect` must already be checked against the framebuffer.
    func decode(_ data: UnsafeRawBufferPointer, rect: Rect, into pixels: UnsafeMutableRawPointer, stride: Int) throws(CodecError) {
        inflater.begin(data)
        start = 0
        end = 0
        // 32-bit pixels are decoded straight into the framebuffer; others go through the tile buffer.
        let direct = format.bytesPerPixel == 4 && stride % 4 == 0 && Int(bitPattern: pixels) % 4 == 0
        var inputLeft = true
        var ty = rect.y
        while ty < rect.maxY {
            let th = min(zrleTileSize, rect.maxY - ty)
            var tx = rect.x
            while tx < rect.maxX {
                let tw = min(zrleTileSize, rect.maxX - tx)
                let most = ZRLETileEncoder.maximumTileBytes(pixels: tw * th, cpixelSize: cpixelSize)
                if end - start < most && inputLeft { inputLeft = try refill(wanting: most) }
                let destination = pixels + ty * stride + tx * format.bytesPerPixel
                if direct {
                    try decodeTile(width: tw, height: th, into: destination.assumingMemoryBound(to: UInt32.self), stride: stride / 4)
                } else {
                    try decodeTile(width: tw, height: th, into: tile, stride: tw)
                    blit(width: tw, height: th, to: destination, stride: stride)
                }
                tx += tw
            }
            ty += th
        }
        guard start == end else {
            throw CodecError(.compressedSizeMismatch, "\(end - start) inflated bytes left over after the rectangle's tiles")
        }
        try inflater.end()
    }

    /// Moves unread bytes to the front and inflates until `wanting` bytes are buffered or the input is
    /// used up; returns whether input may remain.
    private func refill(wanting: Int) throws(CodecError) -> Bool {
        if start > 0 {
            (buffer).copyMemory(from: buffer + start, byteCount: end - start)
            end -= start
            start = 0
        }
        while end < wanting {
            let n = try inflater.read(into: UnsafeMutableRawBufferPointer(start: buffer + end, count: bufferCapacity - end))
            if n == 0 { return false }
            end += n
        }
        return true
    }

    @inline(__always) private func need(_ n: Int) throws(CodecError) {
        if end - start < n { throw CodecError(.truncated, "a tile needs \(n) more bytes than the rectangle holds") }
    }

    @inline(__always) private func readByte() -> UInt8 {
        let b = buffer.load(fromByteOffset: start, as: UInt8.self)
        start += 1
        return b
    }

    /// Reads a CPIXEL as a memory value (caller has checked the bytes are there; the buffer has slack).
    @inline(__always) private func readCPixel() -> UInt32 {
        var v = (buffer + start).loadUnaligned(as: UInt32.self)
        if cpixelSize < 4 { v &= (1 << UInt32(cpixelSize * 8)) - 1 }
        start += cpixelSize
        return v << cpixelShift
    }

    private func readPalette(_ size: Int) throws(CodecError) {
        try need(size * cpixelSize)
        for i in 0..<size { palette[i] = readCPixel() }
    }

    /// Reads a run length (RFC 6143: bytes of 255 then one below 255, plus one), at most `limit`.
    @inline(__always) private func readRunLength(limit: Int) throws(CodecError) -> Int {
        var length = 1
        while true {
            try need(1)
            let b = readByte()
            length += Int(b)
            if length > limit { throw CodecError(.runPastTileEnd, "a run of \(length)+ pixels passes the tile's end") }
            if b != 255 { return length }
        }
    }

    /// Decodes one tile into `out` (rows `stride` values apart): the framebuffer itself for 32-bit
    /// pixels, the tile buffer otherwise.
    private func decodeTile(width: Int, height: Int, into out: UnsafeMutablePointer<UInt32>, stride: Int) throws(CodecError) {
        let n = width * height
        try need(1)
        let sub = Int(readByte())
        switch sub {
        case 0:
            try need(n * cpixelSize)
            for row in 0..<height {
                let o = out + row * stride
                if cpixelSize == 4 {
                    UnsafeMutableRawPointer(o).copyMemory(from: buffer + start, byteCount: width * 4)
                    start += width * 4
                } else {
                    for x in 0..<width { o[x] = readCPixel() }
                }
            }
        case 1:
            try need(cpixelSize)
            let colour = readCPixel()
            for row in 0..<height { (out + row * stride).update(repeating: colour, count: width) }
        case 2...16:
            try readPalette(sub)
            let bits = sub == 2 ? 1 : sub <= 4 ? 2 : 4
            let rowBytes = (width * bits + 7) / 8
            try need(rowBytes * height)
            let mask = UInt8((1 << bits) - 1)
            for row in 0..<height {
                let rowStart = start
                let o = out + row * stride
                for x in 0..<width {
                    let bitOffset = x * bits
                    let byte = buffer.load(fromByteOffset: rowStart + bitOffset / 8, as: UInt8.self)
                    let index = Int((byte >> UInt8(8 - bits - bitOffset % 8)) & mask)
                    guard index < sub else {
                        throw CodecError(.paletteIndexOutOfRange, "packed palette index \(index) of a \(sub)-colour palette")
                    }
                    o[x] = palette[index]
                }
                start = rowStart + rowBytes
            }
        case 128:
            var run = RunWriter(out: out, stride: stride, width: width)
            var p = 0
            while p < n {
                try need(cpixelSize)
                let colour = readCPixel()
                let length = try readRunLength(limit: n - p)
                run.fill(colour, length)
                p += length
            }
        case 130...255:
            let size = sub - 128
            try readPalette(size)
            var run = RunWriter(out: out, stride: stride, width: width)
            var p = 0
            while p < n {
                try need(1)
                let b = readByte()
                let index = Int(b & 127)
                guard index < size else {
                    throw CodecError(.paletteIndexOutOfRange, "palette RLE index \(index) of a \(size)-colour palette")
                }
                let length = b & 128 != 0 ? try readRunLength(limit: n - p) : 1
                run.fill(palette[index], length)
                p += length
            }
        default:
            throw CodecError(.invalidSubencoding, "ZRLE subencoding \(sub) is not defined")
        }
    }

    /// Copies the decoded tile into the framebuffer, each memory value as `bytesPerPixel` bytes.
    private func blit(width: Int, height: Int, to destination: UnsafeMutableRawPointer, stride: Int) {
        let bpp = format.bytesPerPixel
        for row in 0..<height {
            let src = tile + row * width
            let dst = destination + row * stride
            switch bpp {
            case 4: dst.copyMemory(from: src, byteCount: width * 4)
            case 2: for x in 0..<width { dst.storeBytes(of: UInt16(truncatingIfNeeded: src[x]), toByteOffset: x * 2, as: UInt16.self) }
            default: for x in 0..<width { dst.storeBytes(of: UInt8(truncatingIfNeeded: src[x]), toByteOffset: x, as: UInt8.self) }
            }
        }
    }
}

/// Writes runs of one value across the rows of a tile, left to right, top to bottom.
private struct RunWriter {
    let out: UnsafeMutablePointer<UInt32>
    let stride: Int
    let width: Int
    var row = 0
    var x = 0

    init(out: UnsafeMutablePointer<UInt32>, stride: Int, width: Int) {
        self.out = out
        self.stride = stride
        self.width = width
    }

    /// The caller has checked that `length` pixels fit in the tile.
    @inline(__always) mutating func fill(_ value: UInt32, _ length: Int) {
        var left = length
        while left > 0 {
            let n = min(left, width - x)
            let p = out + row * stride + x
            if n == 1 { p.pointee = value } else { p.update(repeating: value, count: n) }
            left -= n
            x += n
            if x == width {
                x = 0
                row += 1
            }
        }
    }
}
