/// The ZRLE tile size (RFC 6143 §7.7.6).
public let zrleTileSize = 64

/// Writes rectangles as ZRLE tile data (before compression), RFC 6143 §7.7.6: 64x64 tiles left to right,
/// top to bottom from the rectangle's origin, each with the cheapest subencoding for it.
///
/// One instance per thread: it owns scratch space for one tile. Pixels are handled as target memory values
/// (see `PixelConverter`), so a CPIXEL is a byte window of one.
final class ZRLETileEncoder {
    let converter: PixelConverter
    let cpixelSize: Int
    /// Shift that brings the CPIXEL's first byte to the bottom of a memory value.
    let cpixelShift: UInt32

    private let tile = UnsafeMutablePointer<UInt32>.allocate(capacity: 64 * 64)
    private let runValue = UnsafeMutablePointer<UInt32>.allocate(capacity: 64 * 64)
    private let runLength = UnsafeMutablePointer<Int32>.allocate(capacity: 64 * 64)
    private let runIndex = UnsafeMutablePointer<UInt8>.allocate(capacity: 64 * 64)
    private let palette = Palette()

    /// Counts of subencodings chosen, for statistics: raw, solid, packed palette, plain RLE, palette RLE.
    private(set) var subencodingCounts: (Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0)
    /// Bytes written for photo-like tiles (raw, or runs averaging under 3 pixels): the data on which
    /// deflate's longer searches pay.
    private(set) var denseBytes = 0

    init(converter: PixelConverter) {
        self.converter = converter
        let compact = converter.target.compactPixel
        cpixelSize = compact.size
        cpixelShift = UInt32(compact.offset * 8)
    }

    deinit {
        tile.deallocate()
        runValue.deallocate()
        runLength.deallocate()
        runIndex.deallocate()
    }

    /// The most bytes one tile of `pixels` pixels can take: a raw tile, or a palette RLE one whose every
    /// run is a single pixel (the analysis never chooses worse than raw, but the bound must hold anyway).
    static func maximumTileBytes(pixels: Int, cpixelSize: Int) -> Int {
        1 + 127 * cpixelSize + pixels * (cpixelSize + 1)
    }

    /// Appends the tiles of `rect` of `frame` to `out`.
    func encode(_ frame: FrameView, _ rect: Rect, into out: ByteWriter) {
        encode(frame, rect, into: out, copyingTo: nil, stride: 0)
    }

    /// Appends the tiles of `rect` of `frame` to `out`, and copies the rectangle's source pixels to
    /// `copy` (rows `stride` bytes apart) on the way, while they are in the cache.
    func encode(_ frame: FrameView, _ rect: Rect, into out: ByteWriter, copyingTo copy: UnsafeMutableRawPointer?, stride: Int) {
        // 32-bit pixels that need no conversion are read where they lie; others are converted first.
        let inPlace = converter.isIdentity && frame.format.bytesPerPixel == 4
            && frame.stride % 4 == 0 && Int(bitPattern: frame.base) % 4 == 0
        var ty = rect.y
        while ty < rect.maxY {
            let th = min(zrleTileSize, rect.maxY - ty)
            var tx = rect.x
            while tx < rect.maxX {
                let tw = min(zrleTileSize, rect.maxX - tx)
                if inPlace {
                    let p = (frame.row(ty) + tx * 4).assumingMemoryBound(to: UInt32.self)
                    encodeTile(p, stride: frame.stride / 4, width: tw, height: th, into: out)
                } else {
                    loadTile(frame, x: tx, y: ty, width: tw, height: th)
                    encodeTile(UnsafePointer(tile), stride: tw, width: tw, height: th, into: out)
                }
                if let copy {
                    // Tile by tile, while its pixels are still in the cache.
                    let bpp = frame.format.bytesPerPixel
                    for y in ty..<(ty + th) {
                        (copy + y * stride + tx * bpp).copyMemory(from: frame.row(y) + tx * bpp, byteCount: tw * bpp)
                    }
                }
                tx += tw
            }
            ty += th
        }
    }

    private func loadTile(_ frame: FrameView, x: Int, y: Int, width: Int, height: Int) {
        let bpp = frame.format.bytesPerPixel
        for row in 0..<height {
            converter.convert(frame.row(y + row) + x * bpp, count: width, into: tile + row * width)
        }
    }

    /// Chooses the cheapest subencoding for the tile of memory values at `pixels` (rows `stride` values
    /// apart) and writes it.
    private func encodeTile(_ pixels: UnsafePointer<UInt32>, stride: Int, width: Int, height: Int, into out: ByteWriter) {
        let n = width * height
        let cp = cpixelSize

        // One pass: runs (they may cross rows, never tiles), their length bytes, and the palette.
        palette.startTile()
        var runs = 0
        var plainLengthBytes = 0   // sum of run-length bytes over all runs
        var paletteRunBytes = 0    // palette RLE body: 1 byte per run, plus length bytes for runs > 1
        var start = 0
        var current = pixels[0]
        var i = 0
        @inline(__always) func endRun(_ length: Int) {
            runValue[runs] = current
            runLength[runs] = Int32(length)
            runIndex[runs] = palette.index(of: current)
            let lengthBytes = (length - 1) / 255 + 1
            plainLengthBytes += lengthBytes
            paletteRunBytes += length == 1 ? 1 : 1 + lengthBytes
            runs += 1
        }
        for row in 0..<height {
            let p = pixels + row * stride
            for x in 0..<width {
                let v = p[x]
                if v != current {
                    endRun(i - start)
                    current = v
                    start = i
                }
                i += 1
            }
        }
        endRun(n - start)

        let colours = palette.count
        if colours == 1 {
            out.reserve(1 + cp)
            out.append(1)
            out.appendLittleEndian(runValue[0] >> cpixelShift, size: cp)
            subencodingCounts.1 += 1
            return
        }
        // Sizes before compression are not sizes after it, so the choice is weighted by what deflate
        // makes of each (measured on real desktops with Benchmarks/CodecBench):
        // - raw pixels of photos and gradients compress better than their short runs: plain RLE must be
        //   under 2/3 of raw (1-2% fewer bytes on photo screens);
        // - a palette barely compresses and its indices mean something else in every tile, while plain
        //   RLE's (pixel, length) pairs repeat across tiles: the palette counts six times over. That
        //   leaves palette RLE to flat UI and gradients, where it pays, and plain RLE to anti-aliased text:
        //   13-29% fewer bytes on text screens and 2-3% on gradient wallpapers than choosing by raw sizes
        //   (what libvncserver does).
        var bestKind = 0
        var bestSize = n * cp
        let plainRLE = runs * cp + plainLengthBytes
        if plainRLE * 3 < bestSize * 2 { bestKind = 3; bestSize = plainRLE }
        if !palette.isFull {
            let paletteRLE = colours * cp + paletteRunBytes
            if colours * cp * 6 + paletteRunBytes <= bestSize { bestKind = 4; bestSize = paletteRLE }
            // Packed palettes hold at most 16 colours.
            let bits = colours <= 2 ? 1 : colours <= 4 ? 2 : 4
            let packed = colours * cp + height * ((width * bits + 7) / 8)
            if colours <= 16 && packed <= bestSize { bestKind = 2; bestSize = packed }
        }
        switch bestKind {
        case 0: subencodingCounts.0 += 1
        case 2: subencodingCounts.2 += 1
        case 3: subencodingCounts.3 += 1
        default: subencodingCounts.4 += 1
        }
        out.reserve(bestSize + 1)
        let before = out.count
        switch bestKind {
        case 0: writeRaw(pixels, stride: stride, width: width, height: height, out)
        case 2: writePacked(width: width, height: height, runs: runs, out)
        case 3: writePlainRLE(runs: runs, out)
        default: writePaletteRLE(runs: runs, out)
        }
        assert(out.count - before == bestSize + 1, "tile size estimate and output disagree")
        if bestKind == 0 || (bestKind == 3 && runs * 3 > n) { denseBytes += bestSize + 1 }
    }

    private func writeRaw(_ pixels: UnsafePointer<UInt32>, stride: Int, width: Int, height: Int, _ out: ByteWriter) {
        out.append(0)
        let cp = cpixelSize, shift = cpixelShift
        for row in 0..<height {
            let p = pixels + row * stride
            if cp == 4 {
                out.append(UnsafeRawBufferPointer(start: p, count: width * 4))
            } else {
                for x in 0..<width { out.appendLittleEndian(p[x] >> shift, size: cp) }
            }
        }
    }

    private func writePalette(_ out: ByteWriter) {
        for i in 0..<palette.count { out.appendLittleEndian(palette.colours[i] >> cpixelShift, size: cpixelSize) }
    }

    private func writePacked(width: Int, height: Int, runs: Int, _ out: ByteWriter) {
        out.append(UInt8(palette.count))
        writePalette(out)
        let bits = palette.count <= 2 ? 1 : palette.count <= 4 ? 2 : 4
        // Expand the runs back to one index per pixel, then pack each row, leftmost pixel in the top bits.
        let indices = UnsafeMutableRawPointer(tile).assumingMemoryBound(to: UInt8.self)
        var p = 0
        for r in 0..<runs {
            let length = Int(runLength[r])
            (indices + p).initialize(repeating: runIndex[r], count: length)
            p += length
        }
        for row in 0..<height {
            var byte: UInt32 = 0
            var used = 0
            let rowStart = indices + row * width
            for x in 0..<width {
                byte = byte << UInt32(bits) | UInt32(rowStart[x])
                used += bits
                if used == 8 {
                    out.append(UInt8(truncatingIfNeeded: byte))
                    byte = 0
                    used = 0
                }
            }
            if used > 0 { out.append(UInt8(truncatingIfNeeded: byte << UInt32(8 - used))) }
        }
    }

    @inline(__always) private func writeRunLength(_ length: Int, _ out: ByteWriter) {
        var rest = length - 1
        while rest >= 255 {
            out.append(255)
            rest -= 255
        }
        out.append(UInt8(rest))
    }

    private func writePlainRLE(runs: Int, _ out: ByteWriter) {
        out.append(128)
        for r in 0..<runs {
            out.appendLittleEndian(runValue[r] >> cpixelShift, size: cpixelSize)
            writeRunLength(Int(runLength[r]), out)
        }
    }

    private func writePaletteRLE(runs: Int, _ out: ByteWriter) {
        out.append(UInt8(128 + palette.count))
        writePalette(out)
        for r in 0..<runs {
            let length = Int(runLength[r])
            if length <= 2 {
                // A run of two as two bare indices: as long as index|128, 1, and it compresses better.
                out.append(runIndex[r])
                if length == 2 { out.append(runIndex[r]) }
            } else {
                out.append(runIndex[r] | 128)
                writeRunLength(length, out)
            }
        }
    }
}

/// The distinct colours of one tile, up to 127 (the most a ZRLE palette holds), in first-seen order.
/// A small open-addressing table; `startTile` clears it in O(1) by bumping a generation stamp.
/// Raw storage rather than arrays: this sits in the per-pixel loop, where array and exclusivity checks cost.
final class Palette {
    let colours = UnsafeMutablePointer<UInt32>.allocate(capacity: 128)
    private(set) var count = 0
    static let maximumColours = 127
    /// More than `maximumColours` colours were seen: no palette subencoding is used.
    var isFull: Bool { count > Self.maximumColours }
    private let keys = UnsafeMutablePointer<UInt32>.allocate(capacity: 256)
    private let slotIndex = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    private let stamps = UnsafeMutablePointer<UInt32>.allocate(capacity: 256)
    private var generation: UInt32 = 1

    init() { stamps.initialize(repeating: 0, count: 256) }

    deinit {
        colours.deallocate()
        keys.deallocate()
        slotIndex.deallocate()
        stamps.deallocate()
    }

    func startTile() {
        count = 0
        generation &+= 1
        if generation == 0 {
            stamps.update(repeating: 0, count: 256)
            generation = 1
        }
    }

    /// The colour's palette index, adding it if new; 0 once the palette is full (the index is then unused).
    @inline(__always) func index(of colour: UInt32) -> UInt8 {
        if count > Self.maximumColours { return 0 }
        var h = Int((colour &* 0x9E37_79B1) >> 24)
        while true {
            if stamps[h] != generation {
                stamps[h] = generation
                keys[h] = colour
                slotIndex[h] = UInt8(count)
                colours[count] = colour
                count += 1
                return UInt8(count - 1)
            }
            if keys[h] == colour { return slotIndex[h] }
            h = (h + 1) & 255
        }
    }
}
