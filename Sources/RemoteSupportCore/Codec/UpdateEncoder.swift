/// Runs `body(0..<iterations)`, possibly at once on several threads. The core has no threads of its own:
/// a host passes one in (the C library uses `DispatchQueue.concurrentPerform`).
public typealias ParallelFor = @Sendable (_ iterations: Int, _ body: (Int) -> Void) -> Void

/// How an `UpdateEncoder` trades time for bytes.
public struct EncoderOptions: Sendable {
    /// zlib level, 0-9, for dense updates (an eighth or more of the tile data from photo-like tiles:
    /// photos and gradients, where it takes level 6 to stay under libvncserver's bytes).
    public var compressionLevel: Int = 6
    /// zlib level, 0-9, for sparse updates (text, flat UI: on real desktops at most 2% of their tile data
    /// is photo-like). Measured with Benchmarks/CodecBench: level 4 instead of 6 is about 40% less
    /// deflate time for 5-18% more bytes, still 7-17% under libvncserver's on the same screens.
    public var sparseCompressionLevel: Int = 4
    /// Look for scrolled and moved content and send it as CopyRect (when the client accepts CopyRect).
    public var detectMotion = true
    /// Into how many pieces tile encoding and deflate are split for the `ParallelFor` (the core count).
    public var workers = 1
    /// Updates smaller than this many uncompressed bytes are deflated as one piece.
    public var parallelDeflateThreshold = 192 * 1024

    public init() {}
}

/// What an update contained, for statistics and benchmarks.
public struct UpdateStatistics: Sendable, Equatable {
    public var changedTiles = 0
    public var copyRectangles = 0
    public var zrleRectangles = 0
    public var rawRectangles = 0
    /// Pixels sent as ZRLE or Raw (copied pixels are not counted).
    public var encodedPixels = 0
    /// ZRLE tile bytes before compression.
    public var uncompressedBytes = 0
    /// The part of `uncompressedBytes` from photo-like tiles (raw, or runs averaging under 3 pixels).
    public var denseBytes = 0
    /// The zlib level the update was compressed with.
    public var compressionLevel = 0
    /// Tiles per subencoding: raw, solid, packed palette, plain RLE, palette RLE.
    public var subencodings = [0, 0, 0, 0, 0]

    public init() {}
}

/// One encoded FramebufferUpdate message.
public struct EncodedUpdate: Sendable {
    /// The CopyRect rectangles it holds, in order.
    public var copies: [CopyRectangle] = []
    /// The rectangles sent as pixels (ZRLE or Raw), in order.
    public var rectangles: [Rect] = []
    /// The whole message, header included, ready to send.
    public var message: [UInt8]
    public var rectangleCount: Int { copies.count + rectangles.count }
    public var statistics: UpdateStatistics
    /// True when there was nothing to send (`message` still is a valid update with no rectangles).
    public var isEmpty: Bool { rectangleCount == 0 }
}

/// Turns successive frames into RFB FramebufferUpdate messages for one client.
///
/// It keeps a copy of what the client's framebuffer holds (in the source format), so an incremental
/// update sends only what changed since, as ZRLE rectangles trimmed to the changed pixels and CopyRect
/// for content that moved. It owns the connection's single ZRLE zlib stream: send every message it
/// returns, in order, to the one client. Not thread-safe: one caller at a time (it may use several
/// threads inside through the `ParallelFor` it was given).
public final class UpdateEncoder {
    public let width: Int
    public let height: Int
    public let sourceFormat: PixelFormat
    public private(set) var clientFormat: PixelFormat
    public let options: EncoderOptions
    /// The encodings the client accepts, in its order of preference (RFB SetEncodings).
    public private(set) var encodings: [Encoding] = [.raw]

    private let parallel: ParallelFor
    private let grid: TileGrid
    private var converter: PixelConverter
    private var tileEncoders: [ZRLETileEncoder]
    private let deflaters: [Deflater]
    /// Per worker, the uncompressed tile data of the current update (kept: the chunks point into them).
    private let writers: [ByteWriter]
    /// The client's framebuffer as this encoder believes it is, in the source format, rows packed.
    private let reference: UnsafeMutableRawPointer
    private var referenceIsValid = false
    private var damage: [TileDamage]
    /// The last 32 KiB of the ZRLE stream's uncompressed bytes: the dictionary for a fresh deflater.
    private var history: [UInt8] = []
    private var zlibHeaderSent = false
    /// The deflater whose state follows the stream's end, if any (it can go on without a dictionary).
    private var syncedDeflater: Int?

    public init(width: Int, height: Int, sourceFormat: PixelFormat, clientFormat: PixelFormat,
                options: EncoderOptions = EncoderOptions(), parallel: ParallelFor? = nil) throws(CodecError) {
        try sourceFormat.validate()
        try clientFormat.validate()
        try checkFrameSize(width: width, height: height)
        guard (0...9).contains(options.compressionLevel), (0...9).contains(options.sparseCompressionLevel) else {
            throw CodecError(.invalidArgument, "compression levels \(options.compressionLevel), \(options.sparseCompressionLevel) are not in 0...9")
        }
        self.width = width
        self.height = height
        self.sourceFormat = sourceFormat
        self.clientFormat = clientFormat
        var options = options
        options.workers = parallel == nil ? 1 : max(1, min(options.workers, 64))
        self.options = options
        self.parallel = parallel ?? { n, body in for i in 0..<n { body(i) } }
        grid = TileGrid(width: width, height: height)
        converter = PixelConverter(source: sourceFormat, target: clientFormat)
        tileEncoders = (0..<options.workers).map { _ in ZRLETileEncoder(converter: PixelConverter(source: sourceFormat, target: clientFormat)) }
        deflaters = (0..<options.workers).map { _ in Deflater(level: Int32(options.compressionLevel)) }
        writers = (0..<options.workers).map { _ in ByteWriter(capacity: 1 << 16) }
        let referenceSize = width * height * sourceFormat.bytesPerPixel
        reference = .allocate(byteCount: referenceSize, alignment: 64)
        // Touched now, so the first update does not pay the page faults.
        reference.initializeMemory(as: UInt8.self, repeating: 0, count: referenceSize)
        damage = Array(repeating: .none, count: grid.count)
    }

    deinit { reference.deallocate() }

    /// Sets the client's pixel format (RFB SetPixelFormat). The next update is a full one.
    public func setClientFormat(_ format: PixelFormat) throws(CodecError) {
        try format.validate()
        clientFormat = format
        converter = PixelConverter(source: sourceFormat, target: format)
        tileEncoders = (0..<options.workers).map { _ in ZRLETileEncoder(converter: converter) }
        referenceIsValid = false
    }

    /// Sets the encodings the client accepts (RFB SetEncodings). Unknown ones are ignored; without ZRLE
    /// the encoder sends Raw.
    public func setEncodings(_ list: [Encoding]) {
        encodings = list
    }

    /// Forgets what the client has: the next update sends every pixel of the requested region.
    public func invalidate() { referenceIsValid = false }

    private var usesZRLE: Bool { encodings.contains(.zrle) }
    private var usesCopyRect: Bool { encodings.contains(.copyRect) }

    /// Encodes the update for a FramebufferUpdateRequest of `region` (the whole frame if nil).
    ///
    /// `incremental` asks only for what changed since the last update; the first update, and any after
    /// `invalidate` or a format change, send the whole region anyway. An incremental update with no
    /// change comes back empty (RFB servers hold such a request until something changes).
    public func encode(_ frame: FrameView, region: Rect? = nil, incremental: Bool) throws(CodecError) -> EncodedUpdate {
        guard frame.width == width, frame.height == height, frame.format == sourceFormat else {
            throw CodecError(.invalidArgument, "frame is \(frame.width)x\(frame.height) \(frame.format), the encoder expects \(width)x\(height) \(sourceFormat)")
        }
        let area = (region ?? frame.bounds).intersection(frame.bounds)
        var statistics = UpdateStatistics()
        guard !area.isEmpty else { return EncodedUpdate(message: [0, 0, 0, 0], statistics: statistics) }

        let bpp = sourceFormat.bytesPerPixel
        var copies: [CopyRectangle] = []
        let rectangles: [Rect]
        if incremental && referenceIsValid {
            for i in damage.indices { damage[i] = .none }
            grid.damage(frame, reference: reference, referenceStride: width * bpp, in: area, into: &damage)
            if options.detectMotion && usesCopyRect && area == frame.bounds {
                copies = findMotion(frame)
            }
            rectangles = grid.rectangles(from: damage)
            statistics.changedTiles = damage.lazy.filter { !$0.isEmpty }.count
        } else {
            // A full update is one rectangle: every rectangle ends a deflate block (a sync flush), so
            // fewer rectangles compress better; tiles are still encoded in parallel, band by band.
            rectangles = [area]
            grid.forEachTile(in: area) { _ in statistics.changedTiles += 1 }
        }

        var payloads: [[UInt8]]
        if usesZRLE {
            payloads = encodeZRLE(frame, rectangles, &statistics)
            statistics.zrleRectangles = rectangles.count
        } else {
            payloads = rectangles.map { encodeRaw(frame, $0) }
            statistics.rawRectangles = rectangles.count
        }
        statistics.copyRectangles = copies.count
        statistics.encodedPixels = rectangles.reduce(0) { $0 + $1.area }

        // What the client will hold after this update: copies first (applied in order, already done),
        // then the pixels (the ZRLE path copies them while encoding).
        if !usesZRLE {
            for r in rectangles { copyIntoReference(frame, r) }
        }
        referenceIsValid = true

        let count = copies.count + rectangles.count
        var message: [UInt8] = []
        message.reserveCapacity(4 + count * 16 + payloads.reduce(0) { $0 + $1.count })
        message += [FramebufferUpdate.messageType, 0, UInt8(count >> 8), UInt8(count & 0xFF)]
        for c in copies {
            appendHeader(&message, c.destination, .copyRect)
            appendU16(&message, c.sourceX)
            appendU16(&message, c.sourceY)
        }
        for (r, payload) in zip(rectangles, payloads) {
            appendHeader(&message, r, usesZRLE ? .zrle : .raw)
            if usesZRLE {
                let n = UInt32(payload.count)
                message += [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
            }
            message += payload
        }
        return EncodedUpdate(copies: copies, rectangles: rectangles, message: message, statistics: statistics)
    }

    // MARK: - Damage

    private func copyIntoReference(_ frame: FrameView, _ r: Rect) {
        let bpp = sourceFormat.bytesPerPixel
        for y in r.y..<r.maxY {
            (reference + (y * width + r.x) * bpp).copyMemory(from: frame.row(y) + r.x * bpp, byteCount: r.width * bpp)
        }
    }

    // MARK: - Motion

    private func findMotion(_ frame: FrameView) -> [CopyRectangle] {
        let copies = MotionDetector(grid: grid).find(frame, reference: UnsafeRawPointer(reference), damage: damage)
        guard !copies.isEmpty else { return [] }
        // Apply the copies to the reference exactly as the client will, then re-measure what still
        // differs in the tiles that changed or were written by a copy.
        let bpp = sourceFormat.bytesPerPixel
        var touched = damage.map { !$0.isEmpty }
        for c in copies {
            c.apply(to: reference, stride: width * bpp, bytesPerPixel: bpp)
            grid.forEachTile(in: c.destination) { touched[$0] = true }
        }
        for i in damage.indices { damage[i] = .none }
        grid.damage(frame, reference: reference, referenceStride: width * bpp, in: frame.bounds,
                    tiles: { touched[$0] }, into: &damage)
        return copies
    }

    // MARK: - ZRLE

    /// Encodes the rectangles' tiles, then deflates them as one stream, in pieces on several threads.
    private func encodeZRLE(_ frame: FrameView, _ rectangles: [Rect], _ statistics: inout UpdateStatistics) -> [[UInt8]] {
        guard !rectangles.isEmpty else { return [] }
        // Phase 1: tile data. Jobs are bands of up to 64 rows of a rectangle, in stream order, split into
        // contiguous groups of about equal area, one group per worker.
        var bands: [(rectangle: Int, rect: Rect)] = []
        for (i, r) in rectangles.enumerated() {
            var y = r.y
            while y < r.maxY {
                let h = min(zrleTileSize, r.maxY - y)
                bands.append((i, Rect(x: r.x, y: y, width: r.width, height: h)))
                y += h
            }
        }
        let workers = min(options.workers, bands.count)
        let groups = Self.split(bands.map { $0.rect.area }, into: workers)
        let writers = self.writers
        for w in writers { w.removeAll() }
        var bandEnds = [Int](repeating: 0, count: bands.count)
        let encoders = tileEncoders
        let countsBefore = encoders.map { $0.subencodingCounts }
        let denseBefore = encoders.map { $0.denseBytes }
        let reference = self.reference, referenceStride = width * sourceFormat.bytesPerPixel
        bandEnds.withUnsafeMutableBufferPointer { ends in
            parallel(workers) { g in
                for b in groups[g] {
                    encoders[g].encode(frame, bands[b].rect, into: writers[g], copyingTo: reference, stride: referenceStride)
                    ends[b] = writers[g].count
                }
            }
        }
        statistics.denseBytes = zip(encoders, denseBefore).reduce(0) { $0 + $1.0.denseBytes - $1.1 }
        for (e, before) in zip(encoders, countsBefore) {
            let now = e.subencodingCounts
            statistics.subencodings[0] += now.0 - before.0
            statistics.subencodings[1] += now.1 - before.1
            statistics.subencodings[2] += now.2 - before.2
            statistics.subencodings[3] += now.3 - before.3
            statistics.subencodings[4] += now.4 - before.4
        }
        // The stream's uncompressed bytes as a list of chunks, one per band.
        var chunks: [Chunk] = []
        for (g, range) in groups.enumerated() {
            var start = 0
            for b in range {
                chunks.append(Chunk(base: UnsafeRawPointer(writers[g].base) + start, count: bandEnds[b] - start, rectangle: bands[b].rectangle))
                start = bandEnds[b]
            }
        }
        let total = chunks.reduce(0) { $0 + $1.count }
        statistics.uncompressedBytes = total

        // Phase 2: deflate. Split the bytes into segments; each is deflated by its own stream, primed
        // with the 32 KiB before it, and sync-flushed at its end and at each rectangle's end, so the
        // pieces concatenate into one valid stream.
        let segments = total >= options.parallelDeflateThreshold ? deflaters.count : 1
        let level = Int32(statistics.denseBytes * 8 < total ? options.sparseCompressionLevel : options.compressionLevel)
        statistics.compressionLevel = Int(level)
        if let s = syncedDeflater, deflaters[s].level != level { syncedDeflater = nil }
        let first = syncedDeflater ?? 0
        var dictionaries: [[UInt8]] = []
        for s in 0..<segments {
            let startOffset = total * s / segments
            if s == 0 && syncedDeflater != nil { dictionaries.append([]); continue }
            dictionaries.append(Self.bytesBefore(startOffset, chunks: chunks, history: history))
        }
        var outputs = [[(rectangle: Int, bytes: ByteWriter)]](repeating: [], count: segments)
        let deflaters = self.deflaters
        let synced = syncedDeflater != nil
        outputs.withUnsafeMutableBufferPointer { out in
            parallel(segments) { s in
                let deflater = deflaters[(first + s) % deflaters.count]
                if s > 0 || !synced {
                    dictionaries[s].withUnsafeBytes { deflater.reset(dictionary: $0, level: level) }
                }
                out[s] = Self.deflate(chunks: chunks, from: total * s / segments, to: total * (s + 1) / segments, with: deflater)
            }
        }
        syncedDeflater = (first + segments - 1) % deflaters.count
        history = Self.bytesBefore(total, chunks: chunks, history: history)

        var payloads = [[UInt8]](repeating: [], count: rectangles.count)
        if !zlibHeaderSent {
            payloads[0] = Self.zlibHeader(level: options.compressionLevel)
            zlibHeaderSent = true
        }
        for segment in outputs {
            for piece in segment { payloads[piece.rectangle] += piece.bytes.bytes }
        }
        return payloads
    }

    private struct Chunk {
        var base: UnsafeRawPointer
        var count: Int
        var rectangle: Int
    }

    /// Deflates stream bytes `from..<to`, sync-flushing at every rectangle end and at `to`.
    private static func deflate(chunks: [Chunk], from: Int, to: Int, with deflater: Deflater) -> [(rectangle: Int, bytes: ByteWriter)] {
        var pieces: [(rectangle: Int, bytes: ByteWriter)] = []
        var offset = 0
        for (i, c) in chunks.enumerated() {
            defer { offset += c.count }
            let a = max(from, offset), b = min(to, offset + c.count)
            guard a < b else { continue }
            let rectangleEnds = i + 1 == chunks.count || chunks[i + 1].rectangle != c.rectangle
            let flush = b == to || (rectangleEnds && b == offset + c.count)
            if pieces.last?.rectangle != c.rectangle { pieces.append((c.rectangle, ByteWriter(capacity: (b - a) / 4 + 256))) }
            deflater.compress(UnsafeRawBufferPointer(start: c.base + (a - offset), count: b - a), flush: flush, into: pieces[pieces.count - 1].bytes)
        }
        return pieces
    }

    /// The (up to) 32 KiB of stream bytes before `offset`, reaching back into earlier updates.
    private static func bytesBefore(_ offset: Int, chunks: [Chunk], history: [UInt8]) -> [UInt8] {
        let window = 32768
        var result: [UInt8] = []
        let fromHistory = max(0, window - offset)
        if fromHistory > 0 { result += history.suffix(fromHistory) }
        let start = max(0, offset - window)
        var position = 0
        for c in chunks {
            defer { position += c.count }
            let a = max(start, position), b = min(offset, position + c.count)
            guard a < b else { continue }
            result += UnsafeRawBufferPointer(start: c.base + (a - position), count: b - a)
        }
        return result
    }

    static func zlibHeader(level: Int) -> [UInt8] {
        // CMF 0x78 (deflate, 32 KiB window); FLG carries the level hint and makes the pair divisible by 31.
        switch level {
        case 0...1: [0x78, 0x01]
        case 2...5: [0x78, 0x5E]
        case 6: [0x78, 0x9C]
        default: [0x78, 0xDA]
        }
    }

    /// Splits weights into `parts` contiguous ranges of about equal sum.
    static func split(_ weights: [Int], into parts: Int) -> [Range<Int>] {
        let total = weights.reduce(0, +)
        var ranges: [Range<Int>] = []
        var start = 0, sum = 0
        for p in 1...parts {
            let target = total * p / parts
            var end = start
            while end < weights.count && (sum < target || p == parts) {
                sum += weights[end]
                end += 1
            }
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }

    // MARK: - Raw

    private func encodeRaw(_ frame: FrameView, _ r: Rect) -> [UInt8] {
        let cbpp = clientFormat.bytesPerPixel
        var out = [UInt8](repeating: 0, count: r.area * cbpp)
        let line = UnsafeMutablePointer<UInt32>.allocate(capacity: r.width)
        defer { line.deallocate() }
        out.withUnsafeMutableBytes { dst in
            for y in 0..<r.height {
                converter.convert(frame.row(r.y + y) + r.x * sourceFormat.bytesPerPixel, count: r.width, into: line)
                for x in 0..<r.width {
                    withUnsafeBytes(of: line[x]) { v in
                        (dst.baseAddress! + (y * r.width + x) * cbpp).copyMemory(from: v.baseAddress!, byteCount: cbpp)
                    }
                }
            }
        }
        return out
    }

    // MARK: - Message bytes

    private func appendU16(_ m: inout [UInt8], _ v: Int) {
        m.append(UInt8(v >> 8 & 0xFF))
        m.append(UInt8(v & 0xFF))
    }

    private func appendHeader(_ m: inout [UInt8], _ r: Rect, _ encoding: Encoding) {
        appendU16(&m, r.x)
        appendU16(&m, r.y)
        appendU16(&m, r.width)
        appendU16(&m, r.height)
        let e = UInt32(bitPattern: encoding.rawValue)
        m += [UInt8(e >> 24), UInt8(e >> 16 & 0xFF), UInt8(e >> 8 & 0xFF), UInt8(e & 0xFF)]
    }
}
