import Testing
@testable import RemoteSupportCore

@Suite("Pixel formats and CPIXEL")
struct PixelFormatTests {
    @Test("CPIXEL size and position follow libvncserver and TigerVNC")
    func compactPixel() {
        #expect(PixelFormat.bgrx8888.compactPixel == (3, 0))
        var be = PixelFormat.bgrx8888
        be.bigEndian = true
        #expect(be.compactPixel == (3, 1))
        var high = PixelFormat.bgrx8888
        (high.redShift, high.greenShift, high.blueShift) = (24, 16, 8)
        #expect(high.compactPixel == (3, 1))
        high.bigEndian = true
        #expect(high.compactPixel == (3, 0))
        var deep = PixelFormat.bgrx8888
        deep.depth = 30
        #expect(deep.compactPixel == (4, 0))
        #expect(PixelFormat.rgb565.compactPixel == (2, 0))
        #expect(PixelFormat.bgr233.compactPixel == (1, 0))
    }

    @Test("the 16-byte PIXEL_FORMAT round-trips")
    func rfbBytes() throws {
        for f in [PixelFormat.bgrx8888, .rgb565, .bgr233] {
            #expect(try PixelFormat(rfbBytes: f.rfbBytes) == f)
        }
        #expect(throws: CodecError(.truncated)) { try PixelFormat(rfbBytes: [32, 24]) }
    }

    @Test("formats the codec cannot use are rejected", arguments: [
        PixelFormat(bitsPerPixel: 24, depth: 24, bigEndian: false, redMax: 255, greenMax: 255, blueMax: 255, redShift: 16, greenShift: 8, blueShift: 0),
        PixelFormat(bitsPerPixel: 8, depth: 8, bigEndian: false, trueColour: false, redMax: 7, greenMax: 7, blueMax: 3, redShift: 0, greenShift: 3, blueShift: 6),
        PixelFormat(bitsPerPixel: 16, depth: 16, bigEndian: false, redMax: 30, greenMax: 63, blueMax: 31, redShift: 11, greenShift: 5, blueShift: 0),
        PixelFormat(bitsPerPixel: 16, depth: 16, bigEndian: false, redMax: 31, greenMax: 63, blueMax: 31, redShift: 12, greenShift: 5, blueShift: 0),
        PixelFormat(bitsPerPixel: 16, depth: 17, bigEndian: false, redMax: 31, greenMax: 63, blueMax: 31, redShift: 11, greenShift: 5, blueShift: 0),
    ])
    func invalid(format: PixelFormat) {
        #expect(throws: CodecError(.unsupportedPixelFormat)) { try format.validate() }
    }

    @Test("sizes outside 1...16384 and short strides are rejected")
    func sizes() {
        #expect(throws: CodecError(.invalidArgument)) { try Framebuffer(width: 0, height: 1, format: .bgrx8888) }
        #expect(throws: CodecError(.invalidArgument)) { try Framebuffer(width: 16385, height: 1, format: .bgrx8888) }
        let bytes = [UInt8](repeating: 0, count: 64)
        bytes.withUnsafeBytes { raw in
            #expect(throws: CodecError(.invalidArgument)) {
                try FrameView(base: raw.baseAddress!, width: 4, height: 4, stride: 15, format: .bgrx8888)
            }
        }
    }

    @Test("the largest frame size encodes a small region")
    func largest() throws {
        let w = 16384, h = 16
        let fb = try Framebuffer(width: w, height: h, format: .bgr233)
        let encoder = try UpdateEncoder(width: w, height: h, sourceFormat: .bgr233, clientFormat: .bgr233)
        encoder.setEncodings([.zrle])
        let update = try encode(encoder, fb, incremental: false)
        let decoder = try UpdateDecoder(width: w, height: h, format: .bgr233)
        try decoder.apply(update.message)
        #expect(update.statistics.subencodings[1] == 256, "one solid tile per 64 columns")
    }
}
