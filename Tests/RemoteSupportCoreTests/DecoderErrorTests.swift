import Testing
@testable import RemoteSupportCore

/// Builds FramebufferUpdate messages by hand, so the decoder sees exactly the bytes a test means.
struct MessageBuilder {
    var bytes: [UInt8] = []
    private(set) var count = 0
    let deflater = Deflater(level: 6)
    var streamStarted = false

    mutating func rectangle(_ r: Rect, _ encoding: Encoding) {
        for v in [r.x, r.y, r.width, r.height] { bytes += [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        let e = UInt32(bitPattern: encoding.rawValue)
        bytes += [UInt8(e >> 24), UInt8(e >> 16 & 0xFF), UInt8(e >> 8 & 0xFF), UInt8(e & 0xFF)]
        count += 1
    }

    /// A ZRLE rectangle whose uncompressed tile data is `tiles`.
    mutating func zrle(_ r: Rect, tiles: [UInt8]) {
        let out = ByteWriter()
        tiles.withUnsafeBytes { deflater.compress($0, flush: true, into: out) }
        zrle(r, compressed: (streamStarted ? [] : [0x78, 0x9C]) + Array(out.bytes))
        streamStarted = true
    }

    mutating func zrle(_ r: Rect, compressed data: [UInt8]) {
        rectangle(r, .zrle)
        let n = UInt32(data.count)
        bytes += [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + data
    }

    var message: [UInt8] { [0, 0, UInt8(count >> 8), UInt8(count & 0xFF)] + bytes }
}

@Suite("Decoder: RFC vectors and hostile input")
struct DecoderErrorTests {
    func decoder(_ w: Int = 64, _ h: Int = 64, _ format: PixelFormat = .bgrx8888) -> UpdateDecoder {
        try! UpdateDecoder(width: w, height: h, format: format)
    }

    @Test("each subencoding, written by hand, decodes to the pixels it describes")
    func handWrittenTiles() throws {
        // A 4x2 rectangle (one tile), 3-byte CPIXELs B,G,R for bgrx8888.
        let red: [UInt8] = [0, 0, 255], blue: [UInt8] = [255, 0, 0]
        let r = Rect(x: 1, y: 1, width: 4, height: 2)
        let cases: [(String, [UInt8], [UInt32])] = [
            ("raw", [0] + red + blue + red + blue + blue + blue + red + red,
             [0xFF0000, 0x0000FF, 0xFF0000, 0x0000FF, 0x0000FF, 0x0000FF, 0xFF0000, 0xFF0000]),
            ("solid", [1] + blue, Array(repeating: 0x0000FF, count: 8)),
            // 2 colours, 1 bit an index, rows padded to a byte, leftmost pixel in the top bit.
            ("packed", [2] + red + blue + [0b0101_0000, 0b1100_0000],
             [0xFF0000, 0x0000FF, 0xFF0000, 0x0000FF, 0x0000FF, 0x0000FF, 0xFF0000, 0xFF0000]),
            // Runs cross rows: 3 red, 5 blue (length - 1 in the byte).
            ("plain RLE", [128] + red + [2] + blue + [4], [0xFF0000, 0xFF0000, 0xFF0000, 0x0000FF, 0x0000FF, 0x0000FF, 0x0000FF, 0x0000FF]),
            // Palette RLE: index 1 alone, then index 0 | 128 with a run of 7.
            ("palette RLE", [130] + red + blue + [1, 128, 6], [0x0000FF] + Array(repeating: 0xFF0000, count: 7)),
        ]
        for (name, tile, expected) in cases {
            var m = MessageBuilder()
            m.zrle(r, tiles: tile)
            let d = decoder()
            try d.apply(m.message)
            var got: [UInt32] = []
            for y in r.y..<r.maxY { for x in r.x..<r.maxX { got.append(d.framebuffer.pixel(x: x, y: y)) } }
            #expect(got == expected, "\(name)")
        }
    }

    @Test("run lengths: 255 is one byte of 254, 256 needs 255 then 0")
    func longRuns() throws {
        // A 64x64 tile: a run of 256, then 3840.
        var tile: [UInt8] = [128, 1, 2, 3, 255, 0, 4, 5, 6]
        var rest = 3840 - 1
        while rest >= 255 { tile.append(255); rest -= 255 }
        tile.append(UInt8(rest))
        var m = MessageBuilder()
        m.zrle(Rect(x: 0, y: 0, width: 64, height: 64), tiles: tile)
        let d = decoder()
        try d.apply(m.message)
        #expect(d.framebuffer.pixel(x: 63, y: 3) == 0x030201)
        #expect(d.framebuffer.pixel(x: 0, y: 4) == 0x060504)
    }

    @Test("CopyRect copies overlapping areas as if through a buffer")
    func copyRectOverlap() throws {
        let d = decoder(8, 8, .bgr233)
        var raw = MessageBuilder()
        raw.rectangle(Rect(x: 0, y: 0, width: 8, height: 8), .raw)
        raw.bytes += (0..<64).map { UInt8($0) }
        try d.apply(raw.message)
        var copy = MessageBuilder()
        copy.rectangle(Rect(x: 1, y: 1, width: 6, height: 6), .copyRect)
        copy.bytes += [0, 0, 0, 0]
        try d.apply(copy.message)
        for y in 1..<7 { for x in 1..<7 { #expect(d.framebuffer.pixel(x: x, y: y) == UInt32((y - 1) * 8 + (x - 1))) } }
    }

    nonisolated(unsafe) static let hostile: [(String, CodecError.Code, (inout MessageBuilder) -> Void)] = [
        ("rectangle outside", .rectangleOutOfBounds, { $0.zrle(Rect(x: 60, y: 0, width: 8, height: 8), tiles: [1, 0, 0, 0]) }),
        ("CopyRect source outside", .rectangleOutOfBounds, {
            $0.rectangle(Rect(x: 0, y: 0, width: 8, height: 8), .copyRect); $0.bytes += [0, 60, 0, 0] }),
        ("unknown encoding", .unsupportedEncoding, { $0.rectangle(Rect(x: 0, y: 0, width: 1, height: 1), Encoding(rawValue: 7)) }),
        ("subencoding 17", .invalidSubencoding, { $0.zrle(Rect(x: 0, y: 0, width: 2, height: 2), tiles: [17] + [UInt8](repeating: 0, count: 60)) }),
        ("subencoding 129", .invalidSubencoding, { $0.zrle(Rect(x: 0, y: 0, width: 2, height: 2), tiles: [129, 0, 0, 0, 0]) }),
        ("packed index past palette", .paletteIndexOutOfRange, { $0.zrle(Rect(x: 0, y: 0, width: 2, height: 1), tiles: [3, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0b0011_0000]) }),
        ("palette RLE index past palette", .paletteIndexOutOfRange, { $0.zrle(Rect(x: 0, y: 0, width: 2, height: 1), tiles: [130, 1, 1, 1, 2, 2, 2, 5, 0]) }),
        ("plain run past the tile", .runPastTileEnd, { $0.zrle(Rect(x: 0, y: 0, width: 2, height: 2), tiles: [128, 1, 2, 3, 4]) }),
        ("palette run past the tile", .runPastTileEnd, { $0.zrle(Rect(x: 0, y: 0, width: 2, height: 2), tiles: [130, 1, 1, 1, 2, 2, 2, 128, 255, 255, 0]) }),
        ("tile data ends early", .truncated, { $0.zrle(Rect(x: 0, y: 0, width: 4, height: 4), tiles: [0, 1, 2, 3]) }),
        ("tile data left over", .compressedSizeMismatch, { $0.zrle(Rect(x: 0, y: 0, width: 1, height: 1), tiles: [1, 1, 2, 3, 9, 9]) }),
        ("corrupt zlib", .corruptCompressedData, { $0.zrle(Rect(x: 0, y: 0, width: 1, height: 1), compressed: [0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0xFF]) }),
        ("zlib bomb", .compressedSizeMismatch, {
            // One solid tile, then megabytes of zeros in the same rectangle's data.
            $0.zrle(Rect(x: 0, y: 0, width: 64, height: 64), tiles: [1, 1, 2, 3] + [UInt8](repeating: 0, count: 8 << 20)) }),
        ("length over the cap", .limitExceeded, {
            $0.rectangle(Rect(x: 0, y: 0, width: 1, height: 1), .zrle); $0.bytes += [0x7F, 0xFF, 0xFF, 0xFF] }),
        ("length past the message", .truncated, {
            $0.rectangle(Rect(x: 0, y: 0, width: 1, height: 1), .zrle); $0.bytes += [0, 0, 1, 0, 1, 2] }),
        ("raw pixels missing", .truncated, { $0.rectangle(Rect(x: 0, y: 0, width: 4, height: 4), .raw); $0.bytes += [1, 2, 3] }),
    ]

    @Test("hostile input is a clear error", arguments: hostile.indices)
    func hostileInput(index: Int) {
        let (name, code, build) = Self.hostile[index]
        var m = MessageBuilder()
        build(&m)
        let d = decoder()
        #expect(throws: CodecError(code), "\(name)") { try d.apply(m.message) }
    }

    @Test("structural errors leave the framebuffer untouched")
    func atomicStructure() throws {
        let d = decoder(8, 8)
        var m = MessageBuilder()
        m.zrle(Rect(x: 0, y: 0, width: 8, height: 8), tiles: [1, 9, 9, 9])
        m.rectangle(Rect(x: 0, y: 0, width: 9, height: 1), .raw)
        #expect(throws: CodecError(.rectangleOutOfBounds)) { try d.apply(m.message) }
        #expect(d.framebuffer.bytes.allSatisfy { $0 == 0 })
    }

    @Test("a message is rejected at every truncation point", arguments: [1, 2, 3, 5, 11, 16, 17, 20, 30])
    func truncations(cut: Int) throws {
        let source = Scene.desktop(width: 70, height: 40, seed: 9)
        let encoder = try UpdateEncoder(width: 70, height: 40, sourceFormat: .bgrx8888, clientFormat: .bgrx8888)
        encoder.setEncodings([.zrle])
        let full = try encode(encoder, source, incremental: false).message
        let d = decoder(70, 40)
        #expect(throws: CodecError.self) { try d.apply(Array(full.prefix(full.count - cut))) }
    }

    @Test("wrong message type and trailing bytes are errors")
    func framing() {
        #expect(throws: CodecError(.malformed)) { try decoder().apply([1, 0, 0, 0]) }
        #expect(throws: CodecError(.malformed)) { try decoder().apply([0, 0, 0, 0, 9]) }
        #expect(throws: CodecError(.truncated)) { try decoder().apply([0, 0]) }
    }
}
