import CRemoteSupport
import Testing

/// A small deterministic random generator (xorshift64*), so frames are the same on every run.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next() >> 32) }
}

/// A frame in RS_FORMAT_BGRX8888 (bytes B, G, R, 0), rows packed.
struct Frame: Equatable {
    let width: Int
    let height: Int
    var bytes: [UInt8]
    var stride: Int { width * 4 }

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        bytes = [UInt8](repeating: 0, count: width * height * 4)
    }

    subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        get {
            let i = (y * width + x) * 4
            return (bytes[i + 2], bytes[i + 1], bytes[i])
        }
        set {
            let i = (y * width + x) * 4
            bytes[i] = newValue.b
            bytes[i + 1] = newValue.g
            bytes[i + 2] = newValue.r
            bytes[i + 3] = 0
        }
    }

    /// A desktop-like scene: a text-like band (few colours, sharp edges), a gradient, and noise.
    static func desktop(width: Int, height: Int, seed: UInt64) -> Frame {
        var f = Frame(width: width, height: height)
        var rng = TestRandom(seed: seed)
        for y in 0..<height {
            for x in 0..<width {
                switch x * 3 / width {
                case 0: // "text": dark glyph strokes on a light background
                    let ink = (y % 12) < 9 && ((x * 7 + y * 3 + Int(seed)) % 11 < 3)
                    f[x, y] = ink ? (20, 20, 40) : (245, 245, 240)
                case 1: // gradient
                    f[x, y] = (UInt8(truncatingIfNeeded: x * 2), UInt8(truncatingIfNeeded: y * 3), 128)
                default: // noise (photo-like)
                    f[x, y] = (rng.byte(), rng.byte(), rng.byte())
                }
            }
        }
        return f
    }

    /// This frame scrolled up by `lines` rows, the rows exposed at the bottom taken from `fresh`.
    func scrolled(by lines: Int, fresh: Frame) -> Frame {
        var out = self
        for y in 0..<height {
            for x in 0..<width {
                out[x, y] = y + lines < height ? self[x, y + lines] : fresh[x, y]
            }
        }
        return out
    }

    /// This frame with a rectangle filled with one colour.
    func filled(x: Int, y: Int, width w: Int, height h: Int, _ c: (UInt8, UInt8, UInt8)) -> Frame {
        var out = self
        for yy in y..<(y + h) { for xx in x..<(x + w) { out[xx, yy] = c } }
        return out
    }

    /// The bytes a client of `format` (little-endian true colour) should hold for this frame: each
    /// channel scaled as the encoder does, `(c * max + 127) / 255`.
    func expected(as format: rs_pixel_format) -> [UInt8] {
        let bpp = Int(format.bits_per_pixel) / 8
        var out = [UInt8](repeating: 0, count: width * height * bpp)
        func scale(_ c: UInt8, _ max: UInt16) -> UInt32 { (UInt32(c) * UInt32(max) + 127) / 255 }
        for y in 0..<height {
            for x in 0..<width {
                let p = self[x, y]
                let v = scale(p.r, format.red_max) << UInt32(format.red_shift)
                    | scale(p.g, format.green_max) << UInt32(format.green_shift)
                    | scale(p.b, format.blue_max) << UInt32(format.blue_shift)
                for k in 0..<bpp { out[(y * width + x) * bpp + k] = UInt8(truncatingIfNeeded: v >> UInt32(8 * k)) }
            }
        }
        return out
    }
}

func preset(_ p: Int32) -> rs_pixel_format {
    var f = rs_pixel_format()
    let status = rs_pixel_format_preset(p, &f)
    precondition(status == RS_OK, "preset \(p)")
    return f
}

func string(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "<NULL>" }

/// An encoder for `width` x `height` BGRX frames, freed at deinit.
final class TestEncoder {
    let handle: OpaquePointer
    let width: Int
    let height: Int

    init(width: Int, height: Int, client: rs_pixel_format = preset(RS_FORMAT_BGRX8888), threads: Int32 = 1,
         encodings: [Int32] = [RS_ENCODING_ZRLE, RS_ENCODING_COPYRECT]) throws {
        var source = preset(RS_FORMAT_BGRX8888), client = client
        var options = rs_encoder_options()
        #expect(rs_encoder_options_init(&options) == RS_OK)
        options.threads = threads
        var out: OpaquePointer?
        let status = rs_encoder_new(UInt32(width), UInt32(height), &source, &client, &options, &out)
        #expect(status == RS_OK, "\(string(rs_last_error()))")
        handle = try #require(out)
        self.width = width
        self.height = height
        #expect(rs_encoder_set_encodings(handle, encodings, encodings.count) == RS_OK)
    }

    deinit { rs_encoder_free(handle) }

    /// Encodes through the library-owned buffer and returns a copy of the message.
    func encode(_ frame: Frame, incremental: Bool, region: rs_rect? = nil) throws -> [UInt8] {
        var message: UnsafePointer<UInt8>?
        var length = 0
        let status = frame.bytes.withUnsafeBufferPointer { p in
            if var r = region {
                return rs_encoder_encode(handle, p.baseAddress, p.count, frame.stride, incremental ? 1 : 0, &r, &message, &length)
            }
            return rs_encoder_encode(handle, p.baseAddress, p.count, frame.stride, incremental ? 1 : 0, nil, &message, &length)
        }
        try #require(status == RS_OK, "\(string(rs_status_name(status))): \(string(rs_encoder_errmsg(handle)))")
        #expect(string(rs_encoder_errmsg(handle)) == "")
        return Array(UnsafeBufferPointer(start: try #require(message), count: length))
    }

    var stats: rs_update_stats {
        var s = rs_update_stats()
        rs_update_stats_init(&s)
        let status = rs_encoder_stats(handle, &s)
        precondition(status == RS_OK)
        return s
    }
}

/// A decoder, freed at deinit.
final class TestDecoder {
    let handle: OpaquePointer
    let width: Int
    let height: Int
    let bytesPerPixel: Int

    init(width: Int, height: Int, format: rs_pixel_format = preset(RS_FORMAT_BGRX8888)) throws {
        var format = format
        var out: OpaquePointer?
        let status = rs_decoder_new(UInt32(width), UInt32(height), &format, nil, &out)
        #expect(status == RS_OK, "\(string(rs_last_error()))")
        handle = try #require(out)
        self.width = width
        self.height = height
        bytesPerPixel = Int(format.bits_per_pixel) / 8
    }

    deinit { rs_decoder_free(handle) }

    @discardableResult
    func apply(_ message: [UInt8]) -> (status: Int32, rectangles: Int) {
        var rectangles = -1
        let status = message.withUnsafeBufferPointer { rs_decoder_apply(handle, $0.baseAddress, $0.count, &rectangles) }
        return (status, rectangles)
    }

    /// The framebuffer, through the borrowed pointer.
    var pixels: [UInt8] {
        var p: UnsafePointer<UInt8>?
        var stride = 0
        let status = rs_decoder_pixels(handle, &p, &stride)
        precondition(status == RS_OK && stride == width * bytesPerPixel)
        return Array(UnsafeBufferPointer(start: p, count: stride * height))
    }
}
