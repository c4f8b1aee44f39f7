import Testing
@testable import RemoteSupportCore

@Suite("Encoder and decoder round trips")
struct UpdateRoundTripTests {
    static let formats: [PixelFormat] = [
        .bgrx8888, .rgbx8888, .rgb565, .bgr233,
        // 32-bit big-endian, channels in the low three bytes: CPIXEL is the last three bytes.
        PixelFormat(bitsPerPixel: 32, depth: 24, bigEndian: true, redMax: 255, greenMax: 255, blueMax: 255,
                    redShift: 16, greenShift: 8, blueShift: 0),
        // 32-bit little-endian, channels in the high three bytes: CPIXEL is the last three bytes.
        PixelFormat(bitsPerPixel: 32, depth: 24, bigEndian: false, redMax: 255, greenMax: 255, blueMax: 255,
                    redShift: 24, greenShift: 16, blueShift: 8),
        // 32-bit depth 30 (10 bits a channel): no CPIXEL compaction.
        PixelFormat(bitsPerPixel: 32, depth: 30, bigEndian: false, redMax: 1023, greenMax: 1023, blueMax: 1023,
                    redShift: 20, greenShift: 10, blueShift: 0),
        // 16-bit big-endian 5-5-5.
        PixelFormat(bitsPerPixel: 16, depth: 15, bigEndian: true, redMax: 31, greenMax: 31, blueMax: 31,
                    redShift: 10, greenShift: 5, blueShift: 0),
    ]

    @Test("full frames decode to the source pixels", arguments: formats, [(1, 1), (64, 64), (63, 65), (130, 70), (257, 129)])
    func fullFrame(format: PixelFormat, size: (Int, Int)) throws {
        let source = Scene.desktop(width: size.0, height: size.1, seed: UInt64(size.0 * 1000 + size.1))
        let encoder = try UpdateEncoder(width: size.0, height: size.1, sourceFormat: .bgrx8888, clientFormat: format)
        encoder.setEncodings([.zrle])
        let decoder = try UpdateDecoder(width: size.0, height: size.1, format: format)
        let update = try encode(encoder, source, incremental: false)
        try decoder.apply(update.message)
        #expect(decoder.framebuffer.bytes == Scene.expected(source, as: format).bytes)
    }

    @Test("a source in another format is converted", arguments: [PixelFormat.rgb565, .rgbx8888, .bgr233])
    func otherSourceFormat(source format: PixelFormat) throws {
        let source = Scene.desktop(width: 100, height: 70, seed: 7, format: format)
        let encoder = try UpdateEncoder(width: 100, height: 70, sourceFormat: format, clientFormat: .bgrx8888)
        encoder.setEncodings([.zrle])
        let decoder = try UpdateDecoder(width: 100, height: 70, format: .bgrx8888)
        try decoder.apply(try encode(encoder, source, incremental: false).message)
        #expect(decoder.framebuffer.bytes == Scene.expected(source, as: .bgrx8888).bytes)
    }

    @Test("every subencoding is used and decodes")
    func subencodings() throws {
        let source = Scene.desktop(width: 512, height: 256, seed: 3)
        let encoder = try UpdateEncoder(width: 512, height: 256, sourceFormat: .bgrx8888, clientFormat: .bgrx8888)
        encoder.setEncodings([.zrle])
        let update = try encode(encoder, source, incremental: false)
        let s = update.statistics.subencodings
        #expect(s[0] > 0, "raw")
        #expect(s[1] > 0, "solid")
        #expect(s[2] + s[4] > 0, "palette")
        let decoder = try UpdateDecoder(width: 512, height: 256, format: .bgrx8888)
        try decoder.apply(update.message)
        #expect(decoder.framebuffer.bytes == source.bytes)
    }

    @Test("incremental updates send only what changed, and nothing for no change")
    func incremental() throws {
        let a = Scene.desktop(width: 300, height: 200, seed: 11)
        let b = Scene.fill(a, Rect(x: 70, y: 90, width: 5, height: 3), red: 255, green: 0, blue: 0)
        let encoder = try UpdateEncoder(width: 300, height: 200, sourceFormat: .bgrx8888, clientFormat: .bgrx8888)
        encoder.setEncodings([.zrle, .copyRect])
        let decoder = try UpdateDecoder(width: 300, height: 200, format: .bgrx8888)
        try decoder.apply(try encode(encoder, a, incremental: true).message)
        let same = try encode(encoder, a, incremental: true)
        #expect(same.isEmpty)
        try decoder.apply(same.message)
        let changed = try encode(encoder, b, incremental: true)
        #expect(changed.rectangleCount == 1)
        #expect(changed.statistics.encodedPixels == 15, "the rectangle is trimmed to the changed pixels")
        try decoder.apply(changed.message)
        #expect(decoder.framebuffer.bytes == b.bytes)
    }

    @Test("a requested region limits the update, and the rest follows later")
    func region() throws {
        let a = Scene.desktop(width: 200, height: 200, seed: 5)
        let b = Scene.fill(Scene.fill(a, Rect(x: 0, y: 0, width: 10, height: 10), red: 1, green: 2, blue: 3),
                           Rect(x: 150, y: 150, width: 10, height: 10), red: 4, green: 5, blue: 6)
        let encoder = try UpdateEncoder(width: 200, height: 200, sourceFormat: .bgrx8888, clientFormat: .bgrx8888)
        encoder.setEncodings([.zrle])
        let decoder = try UpdateDecoder(width: 200, height: 200, format: .bgrx8888)
        try decoder.apply(try encode(encoder, a, incremental: false).message)
        let left = try encode(encoder, b, incremental: true, region: Rect(x: 0, y: 0, width: 100, height: 100))
        #expect(left.statistics.encodedPixels == 100)
        try decoder.apply(left.message)
        let rest = try encode(encoder, b, incremental: true)
        #expect(rest.statistics.encodedPixels == 100)
        try decoder.apply(rest.message)
        #expect(decoder.framebuffer.bytes == b.bytes)
    }

    @Test("a vertical scroll is sent as CopyRect plus the new rows")
    func scroll() throws {
        let a = Scene.desktop(width: 320, height: 400, seed: 21)
        let fresh = Scene.desktop(width: 320, height: 400, seed: 22)
        let b = Scene.scroll(a, top: 20, bottom: 380, lines: 39, fresh: fresh)
        let encoder = try UpdateEncoder(width: 320, height: 400, sourceFormat: .bgrx8888, clientFormat: .bgrx8888)
        encoder.setEncodings([.zrle, .copyRect])
        let decoder = try UpdateDecoder(width: 320, height: 400, format: .bgrx8888)
        try decoder.apply(try encode(encoder, a, incremental: true).message)
        let update = try encode(encoder, b, incremental: true)
        #expect(update.statistics.copyRectangles >= 1)
        #expect(update.statistics.encodedPixels < 320 * 400 / 3, "most of the screen is copied, not re-sent")
        try decoder.apply(update.message)
        #expect(decoder.framebuffer.bytes == b.bytes)
    }

    @Test("a dragged window is sent as CopyRect plus the exposed background")
    func drag() throws {
        let background = Scene.desktop(width: 400, height: 300, seed: 31)
        let window = Scene.desktop(width: 400, height: 300, seed: 32)
        var a = background
        for y in 40..<200 { for x in 50..<250 { a.setPixel(x: x, y: y, window.pixel(x: x, y: y)) } }
        let b = Scene.move(a, Rect(x: 50, y: 40, width: 200, height: 160), dx: 53, dy: 21, background: background)
        let encoder = try UpdateEncoder(width: 400, height: 300, sourceFormat: .bgrx8888, clientFormat: .bgrx8888)
        encoder.setEncodings([.zrle, .copyRect])
        let decoder = try UpdateDecoder(width: 400, height: 300, format: .bgrx8888)
        try decoder.apply(try encode(encoder, a, incremental: true).message)
        let update = try encode(encoder, b, incremental: true)
        #expect(update.statistics.copyRectangles >= 1)
        #expect(update.statistics.encodedPixels < 200 * 160, "the window's pixels are copied, not re-sent")
        try decoder.apply(update.message)
        #expect(decoder.framebuffer.bytes == b.bytes)
    }

    @Test("without CopyRect or ZRLE the encoder falls back", arguments: [[Encoding.zrle], [Encoding.raw], []])
    func fallbacks(encodings: [Encoding]) throws {
        let background = Scene.desktop(width: 200, height: 200, seed: 41)
        let a = Scene.scroll(background, top: 0, bottom: 200, lines: 0, fresh: background)
        let b = Scene.scroll(a, top: 0, bottom: 200, lines: 17, fresh: Scene.desktop(width: 200, height: 200, seed: 42))
        let encoder = try UpdateEncoder(width: 200, height: 200, sourceFormat: .bgrx8888, clientFormat: .rgb565)
        encoder.setEncodings(encodings)
        let decoder = try UpdateDecoder(width: 200, height: 200, format: .rgb565)
        for frame in [a, b] {
            let update = try encode(encoder, frame, incremental: true)
            #expect(update.statistics.copyRectangles == 0)
            #expect((update.statistics.rawRectangles > 0) == !encodings.contains(.zrle))
            try decoder.apply(update.message)
        }
        #expect(decoder.framebuffer.bytes == Scene.expected(b, as: .rgb565).bytes)
    }

    @Test("parallel pieces make one valid stream, whatever the order they run in")
    func parallelDeflate() throws {
        var options = EncoderOptions()
        options.workers = 3
        options.parallelDeflateThreshold = 1024
        let frames = (0..<4).map { Scene.desktop(width: 480, height: 300, seed: 50 + UInt64($0)) }
        let encoder = try UpdateEncoder(width: 480, height: 300, sourceFormat: .bgrx8888, clientFormat: .bgrx8888,
                                        options: options, parallel: reverseParallel)
        encoder.setEncodings([.zrle])
        let decoder = try UpdateDecoder(width: 480, height: 300, format: .bgrx8888)
        for (i, frame) in frames.enumerated() {
            try decoder.apply(try encode(encoder, frame, incremental: i % 2 == 1).message)
            #expect(decoder.framebuffer.bytes == frame.bytes)
        }
    }

    @Test("a new client format restarts with a full update")
    func formatChange() throws {
        let a = Scene.desktop(width: 100, height: 100, seed: 61)
        let encoder = try UpdateEncoder(width: 100, height: 100, sourceFormat: .bgrx8888, clientFormat: .bgrx8888)
        encoder.setEncodings([.zrle])
        _ = try encode(encoder, a, incremental: true)
        try encoder.setClientFormat(.bgr233)
        let decoder = try UpdateDecoder(width: 100, height: 100, format: .bgr233)
        // The zlib stream goes on across formats, so a fresh decoder must see the first update too:
        // replay both into it through one stream is not possible, so check the stream by a new encoder.
        let fresh = try UpdateEncoder(width: 100, height: 100, sourceFormat: .bgrx8888, clientFormat: .bgr233)
        fresh.setEncodings([.zrle])
        try decoder.apply(try encode(fresh, a, incremental: true).message)
        #expect(decoder.framebuffer.bytes == Scene.expected(a, as: .bgr233).bytes)
        let update = try encode(encoder, a, incremental: true)
        #expect(update.statistics.encodedPixels == 100 * 100)
    }
}

@Suite("Encoder choices")
struct EncoderChoiceTests {
    @Test("sparse updates use the sparse level, photo-like ones the full level")
    func adaptiveLevel() throws {
        var options = EncoderOptions()
        options.compressionLevel = 7
        options.sparseCompressionLevel = 2
        // Flat background with a little two-colour "text": sparse.
        var text = try Framebuffer(width: 256, height: 128, format: .bgrx8888)
        for y in stride(from: 8, to: 120, by: 16) { for x in stride(from: 8, to: 248, by: 3) { text.setPixel(x: x, y: y, 0x202020) } }
        // Noise: dense.
        var rng = TestRandom(seed: 99)
        var noise = try Framebuffer(width: 256, height: 128, format: .bgrx8888)
        for y in 0..<128 { for x in 0..<256 { noise.setPixel(x: x, y: y, UInt32(truncatingIfNeeded: rng.next()) & 0xFFFFFF) } }
        let encoder = try UpdateEncoder(width: 256, height: 128, sourceFormat: .bgrx8888, clientFormat: .bgrx8888, options: options)
        encoder.setEncodings([.zrle])
        let decoder = try UpdateDecoder(width: 256, height: 128, format: .bgrx8888)
        for (frame, level) in [(text, 2), (noise, 7), (text, 2)] {
            let update = try encode(encoder, frame, incremental: false)
            #expect(update.statistics.compressionLevel == level)
            try decoder.apply(update.message)
            #expect(decoder.framebuffer.bytes == frame.bytes, "the stream stays valid across level changes")
        }
    }

    @Test("many colours in runs go to plain RLE, a few flat colours to a palette")
    func tileChoice() throws {
        // One tile of 100 colours in runs of 10 (palette RLE is smaller before compression, plain RLE
        // after: the weighted choice takes plain RLE), and one of 3 colours in long runs.
        var fb = try Framebuffer(width: 128, height: 64, format: .bgrx8888)
        for y in 0..<64 {
            for x in 0..<64 { let c = UInt32(((y * 64 + x) / 10) % 100) * 2; fb.setPixel(x: x, y: y, c << 16 | c << 8 | 7) }
            for x in 64..<128 { fb.setPixel(x: x, y: y, [0x102030, 0xF0F0F0, 0x3366CC][(x / 11 + y / 9) % 3]) }
        }
        let encoder = try UpdateEncoder(width: 128, height: 64, sourceFormat: .bgrx8888, clientFormat: .bgrx8888)
        encoder.setEncodings([.zrle])
        let s = try encode(encoder, fb, incremental: false).statistics.subencodings
        #expect(s[3] == 1, "plain RLE for the many-colour tile")
        #expect(s[2] + s[4] == 1, "a palette subencoding for the three-colour tile")
    }
}
