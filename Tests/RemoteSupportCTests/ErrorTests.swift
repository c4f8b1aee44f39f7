import CRemoteSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Every failure is a negative status with a name, and a non-empty message where the API promises one.
@Suite("C API: errors")
struct ErrorTests {
    // MARK: - Calls without a handle

    @Test("rs_encoder_new rejects NULLs, bad sizes, bad formats and bad options")
    func encoderNew() {
        var good = preset(RS_FORMAT_BGRX8888)
        var out: OpaquePointer? = OpaquePointer(bitPattern: 0x1234)
        func new(_ w: UInt32, _ h: UInt32, _ s: UnsafePointer<rs_pixel_format>?, _ c: UnsafePointer<rs_pixel_format>?,
                 _ o: UnsafePointer<rs_encoder_options>?) -> Int32 {
            let status = rs_encoder_new(w, h, s, c, o, &out)
            if status != RS_OK {
                #expect(!string(rs_last_error()).isEmpty, "status \(status)")
                #expect(out == OpaquePointer(bitPattern: 0x1234), "out_encoder is written only on success")
            }
            return status
        }
        #expect(new(10, 10, nil, &good, nil) == RS_ERR_NULL_POINTER)
        #expect(string(rs_last_error()).contains("source_format"))
        #expect(new(10, 10, &good, nil, nil) == RS_ERR_NULL_POINTER)
        #expect(rs_encoder_new(10, 10, &good, &good, nil, nil) == RS_ERR_NULL_POINTER)
        #expect(new(0, 10, &good, &good, nil) == RS_ERR_INVALID_ARGUMENT)
        #expect(new(10, 16385, &good, &good, nil) == RS_ERR_INVALID_ARGUMENT)
        #expect(new(.max, .max, &good, &good, nil) == RS_ERR_INVALID_ARGUMENT)

        for bad in Self.badFormats {
            var f = bad
            #expect(new(10, 10, &f, &good, nil) == RS_ERR_UNSUPPORTED_FORMAT)
            #expect(new(10, 10, &good, &f, nil) == RS_ERR_UNSUPPORTED_FORMAT)
        }

        var options = rs_encoder_options()
        #expect(new(10, 10, &good, &good, &options) == RS_ERR_INVALID_ARGUMENT, "struct_size 0")
        #expect(string(rs_last_error()).contains("struct_size"))
        for (level, threads) in [(Int32(-1), Int32(1)), (10, 1), (6, -1), (6, 65)] {
            rs_encoder_options_init(&options)
            options.compression_level = level
            options.threads = threads
            #expect(new(10, 10, &good, &good, &options) == RS_ERR_INVALID_ARGUMENT)
        }

        // A newer header's bigger struct: fine if the extra bytes are zero.
        var bigger = [UInt8](repeating: 0, count: 32)
        bigger.withUnsafeMutableBytes { raw in
            rs_encoder_options_init(raw.baseAddress!.assumingMemoryBound(to: rs_encoder_options.self))
            raw.storeBytes(of: UInt32(32), toByteOffset: 0, as: UInt32.self)
        }
        func newWith(_ bytes: [UInt8]) -> Int32 {
            bytes.withUnsafeBytes { new(10, 10, &good, &good, $0.baseAddress!.assumingMemoryBound(to: rs_encoder_options.self)) }
        }
        #expect(newWith(bigger) == RS_OK)
        rs_encoder_free(out)
        out = OpaquePointer(bitPattern: 0x1234)
        bigger[20] = 1
        #expect(newWith(bigger) == RS_ERR_INVALID_ARGUMENT)
        #expect(string(rs_last_error()).contains("cannot honour"))

        // Success clears the thread's message.
        #expect(new(10, 10, &good, &good, nil) == RS_OK)
        #expect(string(rs_last_error()) == "")
        rs_encoder_free(out)
    }

    static let badFormats: [rs_pixel_format] = {
        var list: [rs_pixel_format] = []
        var f = preset(RS_FORMAT_BGRX8888)
        f.bits_per_pixel = 24
        list.append(f)
        f = preset(RS_FORMAT_BGRX8888)
        f.true_colour = 0
        list.append(f)
        f = preset(RS_FORMAT_BGRX8888)
        f.red_max = 200 // not 2^n - 1
        list.append(f)
        f = preset(RS_FORMAT_RGB565)
        f.red_shift = 12 // does not fit 16 bits
        list.append(f)
        f = preset(RS_FORMAT_BGR233)
        f.depth = 9
        list.append(f)
        return list
    }()

    @Test("rs_decoder_new rejects NULLs, bad sizes, formats and options")
    func decoderNew() {
        var good = preset(RS_FORMAT_RGB565)
        var out: OpaquePointer?
        #expect(rs_decoder_new(10, 10, nil, nil, &out) == RS_ERR_NULL_POINTER)
        #expect(rs_decoder_new(10, 10, &good, nil, nil) == RS_ERR_NULL_POINTER)
        #expect(rs_decoder_new(0, 1, &good, nil, &out) == RS_ERR_INVALID_ARGUMENT)
        #expect(rs_decoder_new(1, 20000, &good, nil, &out) == RS_ERR_INVALID_ARGUMENT)
        for bad in Self.badFormats {
            var f = bad
            #expect(rs_decoder_new(10, 10, &f, nil, &out) == RS_ERR_UNSUPPORTED_FORMAT)
        }
        var options = rs_decoder_options()
        #expect(rs_decoder_new(10, 10, &good, &options, &out) == RS_ERR_INVALID_ARGUMENT)
        rs_decoder_options_init(&options)
        options.max_rectangles = 70000
        #expect(rs_decoder_new(10, 10, &good, &options, &out) == RS_ERR_INVALID_ARGUMENT)
        #expect(out == nil)
        #expect(!string(rs_last_error()).isEmpty)
    }

    @Test("presets and init functions check their arguments")
    func presetsAndInits() {
        var f = rs_pixel_format()
        #expect(rs_pixel_format_preset(0, &f) == RS_ERR_INVALID_ARGUMENT)
        #expect(rs_pixel_format_preset(5, &f) == RS_ERR_INVALID_ARGUMENT)
        #expect(string(rs_last_error()).contains("preset"))
        #expect(rs_pixel_format_preset(RS_FORMAT_RGB565, nil) == RS_ERR_NULL_POINTER)
        #expect(rs_encoder_options_init(nil) == RS_ERR_NULL_POINTER)
        #expect(rs_decoder_options_init(nil) == RS_ERR_NULL_POINTER)
        #expect(rs_update_stats_init(nil) == RS_ERR_NULL_POINTER)
        #expect(rs_image_decode_ppm(nil, 0, &f, nil) == RS_ERR_NULL_POINTER)
    }

    // MARK: - Encoder

    @Test("encoder calls reject a NULL handle, NULL pointers, short strides and short buffers")
    func encoderCalls() throws {
        let encoder = try TestEncoder(width: 20, height: 10)
        let e = encoder.handle
        let frame = Frame.desktop(width: 20, height: 10, seed: 1)
        var message: UnsafePointer<UInt8>?
        var length = 0
        var format = preset(RS_FORMAT_BGRX8888)

        func expectFailure(_ status: Int32, _ expected: Int32, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(status == expected, "\(string(rs_status_name(status)))", sourceLocation: sourceLocation)
            #expect(!string(rs_encoder_errmsg(e)).isEmpty, sourceLocation: sourceLocation)
        }
        frame.bytes.withUnsafeBufferPointer { p in
            let base = p.baseAddress, n = p.count
            // NULL handle: the message goes to rs_last_error.
            #expect(rs_encoder_encode(nil, base, n, 80, 0, nil, &message, &length) == RS_ERR_NULL_POINTER)
            #expect(string(rs_last_error()).contains("encoder"))
            #expect(rs_encoder_set_client_format(nil, &format) == RS_ERR_NULL_POINTER)
            #expect(rs_encoder_set_encodings(nil, nil, 0) == RS_ERR_NULL_POINTER)
            #expect(rs_encoder_invalidate(nil) == RS_ERR_NULL_POINTER)
            #expect(rs_encoder_copy_message(nil, nil, 0, &length) == RS_ERR_NULL_POINTER)
            #expect(rs_encoder_stats(nil, nil) == RS_ERR_NULL_POINTER)
            #expect(rs_encoder_encode_into(nil, base, n, 80, 0, nil, nil, 0, &length) == RS_ERR_NULL_POINTER)
            #expect(string(rs_encoder_errmsg(nil)) == "encoder is NULL")

            expectFailure(rs_encoder_encode(e, nil, n, 80, 0, nil, &message, &length), RS_ERR_NULL_POINTER)
            expectFailure(rs_encoder_encode(e, base, n, 80, 0, nil, nil, &length), RS_ERR_NULL_POINTER)
            expectFailure(rs_encoder_encode(e, base, n, 80, 0, nil, &message, nil), RS_ERR_NULL_POINTER)
            expectFailure(rs_encoder_encode(e, base, n, 79, 0, nil, &message, &length), RS_ERR_INVALID_ARGUMENT)
            #expect(string(rs_encoder_errmsg(e)).contains("stride"))
            expectFailure(rs_encoder_encode(e, base, n, -1, 0, nil, &message, &length), RS_ERR_INVALID_ARGUMENT)
            expectFailure(rs_encoder_encode(e, base, n, Int(Int32.max) + 1, 0, nil, &message, &length), RS_ERR_INVALID_ARGUMENT)
            expectFailure(rs_encoder_encode(e, base, n - 1, 80, 0, nil, &message, &length), RS_ERR_INVALID_ARGUMENT)
            #expect(string(rs_encoder_errmsg(e)).contains("pixels_length"))
            expectFailure(rs_encoder_encode(e, base, n, 84, 0, nil, &message, &length), RS_ERR_INVALID_ARGUMENT)
            expectFailure(rs_encoder_encode(e, base, -5, 80, 0, nil, &message, &length), RS_ERR_INVALID_ARGUMENT)
            expectFailure(rs_encoder_encode_into(e, base, n, 80, 0, nil, nil, 10, &length), RS_ERR_NULL_POINTER)
            expectFailure(rs_encoder_encode_into(e, base, n, 80, 0, nil, nil, 0, nil), RS_ERR_NULL_POINTER)
            #expect(message == nil && length == 0, "out-params untouched on failure")

            expectFailure(rs_encoder_copy_message(e, nil, 0, &length), RS_ERR_INVALID_ARGUMENT) // nothing encoded yet
            expectFailure(rs_encoder_set_encodings(e, nil, 3), RS_ERR_NULL_POINTER)
            expectFailure(rs_encoder_set_encodings(e, [0], 70000), RS_ERR_INVALID_ARGUMENT)
            var bad = Self.badFormats[0]
            expectFailure(rs_encoder_set_client_format(e, &bad), RS_ERR_UNSUPPORTED_FORMAT)
            expectFailure(rs_encoder_set_client_format(e, nil), RS_ERR_NULL_POINTER)
            var small = rs_update_stats()
            small.struct_size = 8
            expectFailure(rs_encoder_stats(e, &small), RS_ERR_INVALID_ARGUMENT)
            expectFailure(rs_encoder_stats(e, nil), RS_ERR_NULL_POINTER)

            // After all that the encoder still works, and success clears the message.
            #expect(rs_encoder_encode(e, base, n, 80, 0, nil, &message, &length) == RS_OK)
            #expect(string(rs_encoder_errmsg(e)) == "")
            #expect(length > 4)
        }
        // Unknown encodings are ignored.
        #expect(rs_encoder_set_encodings(e, [7, -239, RS_ENCODING_ZRLE], 3) == RS_OK)
    }

    // MARK: - Decoder

    /// A well-formed message to break: one 4x2 Raw rectangle at (1, 1) in BGRX.
    static let raw: [UInt8] = [0, 0, 0, 1, 0, 1, 0, 1, 0, 4, 0, 2, 0, 0, 0, 0] + [UInt8](repeating: 7, count: 32)

    @Test("malformed messages get the right code and a message", arguments: [
        (raw, RS_OK),
        ([], RS_ERR_TRUNCATED),
        (Array(raw.prefix(3)), RS_ERR_TRUNCATED),
        (Array(raw.dropLast()), RS_ERR_TRUNCATED),
        (raw + [0], RS_ERR_MALFORMED),
        ([2] + raw.dropFirst(), RS_ERR_MALFORMED),
        // x = 30: the rectangle reaches past the 32-pixel width.
        ([0, 0, 0, 1, 0, 30, 0, 1, 0, 4, 0, 2, 0, 0, 0, 0] + [UInt8](repeating: 7, count: 32), RS_ERR_RECT_OUT_OF_BOUNDS),
        // encoding 5 (Hextile) is not supported.
        ([0, 0, 0, 1, 0, 1, 0, 1, 0, 4, 0, 2, 0, 0, 0, 5] + [UInt8](repeating: 7, count: 32), RS_ERR_UNSUPPORTED_ENCODING),
        // CopyRect from outside the framebuffer.
        ([0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 2, 0, 0, 0, 1, 0, 40, 0, 0], RS_ERR_RECT_OUT_OF_BOUNDS),
        // ZRLE with garbage zlib data.
        ([0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 2, 0, 0, 0, 16, 0, 0, 0, 4, 0xFF, 0xFF, 0xFF, 0xFF], RS_ERR_CORRUPT_DATA),
        // ZRLE claiming more bytes than the default limit (64 MiB).
        ([0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 2, 0, 0, 0, 16, 0x7F, 0, 0, 0], RS_ERR_LIMIT_EXCEEDED),
    ] as [([UInt8], Int32)])
    func malformed(message: [UInt8], expected: Int32) throws {
        let decoder = try TestDecoder(width: 32, height: 16)
        let before = decoder.pixels
        let (status, rectangles) = decoder.apply(message)
        #expect(status == expected, "\(string(rs_status_name(status))): \(string(rs_decoder_errmsg(decoder.handle)))")
        if expected == RS_OK {
            #expect(rectangles == 1)
            #expect(string(rs_decoder_errmsg(decoder.handle)) == "")
        } else {
            #expect(rectangles == -1, "out_rectangles is written only on success")
            #expect(!string(rs_decoder_errmsg(decoder.handle)).isEmpty)
            var r = rs_rect()
            #expect(rs_decoder_rectangle(decoder.handle, 0, &r, nil) == RS_ERR_INVALID_ARGUMENT)
            if expected != RS_ERR_CORRUPT_DATA { #expect(decoder.pixels == before, "structural errors change no pixel") }
        }
    }

    @Test("decoder limits from the options struct apply")
    func limits() throws {
        var format = preset(RS_FORMAT_BGRX8888)
        var options = rs_decoder_options()
        rs_decoder_options_init(&options)
        #expect(options.max_rectangles == 65535 && options.max_rectangle_bytes == 64 << 20)
        options.max_rectangles = 0
        var out: OpaquePointer?
        #expect(rs_decoder_new(32, 16, &format, &options, &out) == RS_OK)
        let d = try #require(out)
        defer { rs_decoder_free(d) }
        #expect(rs_decoder_apply(d, Self.raw, Self.raw.count, nil) == RS_ERR_LIMIT_EXCEEDED)
        #expect(rs_decoder_apply(d, [0, 0, 0, 0], 4, nil) == RS_OK)
    }

    @Test("a ZRLE error breaks the stream for good")
    func brokenStream() throws {
        let encoder = try TestEncoder(width: 64, height: 64)
        let decoder = try TestDecoder(width: 64, height: 64)
        let a = Frame.desktop(width: 64, height: 64, seed: 1)
        var first = try encoder.encode(a, incremental: true)
        first[first.count - 3] ^= 0x55
        #expect(decoder.apply(first).status < 0)
        let second = try encoder.encode(a.filled(x: 0, y: 0, width: 3, height: 3, (1, 1, 1)), incremental: true)
        #expect(decoder.apply(second).status == RS_ERR_CORRUPT_DATA)
    }

    @Test("decoder calls reject a NULL handle, NULL pointers, short strides and small buffers")
    func decoderCalls() throws {
        let decoder = try TestDecoder(width: 32, height: 16)
        let d = decoder.handle
        var pixels: UnsafePointer<UInt8>?
        var stride = 0
        var r = rs_rect()
        var buffer = [UInt8](repeating: 0, count: 32 * 16 * 4)
        #expect(rs_decoder_apply(nil, Self.raw, Self.raw.count, nil) == RS_ERR_NULL_POINTER)
        #expect(string(rs_last_error()).contains("decoder"))
        #expect(rs_decoder_pixels(nil, &pixels, &stride) == RS_ERR_NULL_POINTER)
        #expect(rs_decoder_copy_pixels(nil, &buffer, buffer.count, 128) == RS_ERR_NULL_POINTER)
        #expect(rs_decoder_rectangle(nil, 0, &r, nil) == RS_ERR_NULL_POINTER)
        #expect(string(rs_decoder_errmsg(nil)) == "decoder is NULL")

        #expect(rs_decoder_apply(d, nil, 10, nil) == RS_ERR_NULL_POINTER)
        #expect(!string(rs_decoder_errmsg(d)).isEmpty)
        #expect(rs_decoder_apply(d, Self.raw, -1, nil) == RS_ERR_INVALID_ARGUMENT)
        #expect(rs_decoder_pixels(d, nil, &stride) == RS_ERR_NULL_POINTER)
        #expect(rs_decoder_pixels(d, &pixels, nil) == RS_ERR_NULL_POINTER)
        #expect(pixels == nil && stride == 0)
        #expect(rs_decoder_rectangle(d, 0, nil, nil) == RS_ERR_NULL_POINTER)
        #expect(rs_decoder_rectangle(d, -1, &r, nil) == RS_ERR_INVALID_ARGUMENT)
        #expect(rs_decoder_copy_pixels(d, nil, 100, 128) == RS_ERR_NULL_POINTER)
        #expect(rs_decoder_copy_pixels(d, &buffer, buffer.count, 127) == RS_ERR_INVALID_ARGUMENT)
        #expect(string(rs_decoder_errmsg(d)).contains("stride"))
        #expect(rs_decoder_copy_pixels(d, &buffer, buffer.count - 1, 128) == RS_ERR_BUFFER_TOO_SMALL)
        #expect(rs_decoder_copy_pixels(d, &buffer, buffer.count, 129) == RS_ERR_BUFFER_TOO_SMALL)
        #expect(rs_decoder_copy_pixels(d, &buffer, buffer.count, .max) == RS_ERR_BUFFER_TOO_SMALL)
        #expect(rs_decoder_copy_pixels(d, &buffer, -1, 128) == RS_ERR_BUFFER_TOO_SMALL)
        #expect(rs_decoder_copy_pixels(d, &buffer, buffer.count, 128) == RS_OK)
        #expect(string(rs_decoder_errmsg(d)) == "")
        var count = 0
        #expect(rs_decoder_apply(d, Self.raw, Self.raw.count, &count) == RS_OK)
        #expect(rs_decoder_rectangle(d, 1, &r, nil) == RS_ERR_INVALID_ARGUMENT)
        #expect(rs_decoder_rectangle(d, 0, &r, nil) == RS_OK)
        #expect((r.x, r.y, r.width, r.height) == (1, 1, 4, 2))
    }

    // MARK: - Images

    @Test("bad PPM data", arguments: [
        (Array("P5\n1 1\n255\n\u{0}".utf8), RS_ERR_INVALID_IMAGE),
        (Array("P6\n2 1\n255\n\u{1}\u{2}\u{3}".utf8), RS_ERR_TRUNCATED),
        (Array("P6\n0 1\n255\n".utf8), RS_ERR_INVALID_IMAGE),
        (Array("P6\n1 1\n65535\n".utf8), RS_ERR_INVALID_IMAGE),
        (Array("P".utf8), RS_ERR_TRUNCATED),
        ([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF], RS_ERR_CORRUPT_DATA),
    ] as [([UInt8], Int32)])
    func badPPM(data: [UInt8], expected: Int32) {
        var format = preset(RS_FORMAT_BGRX8888)
        var image: OpaquePointer?
        let status = rs_image_decode_ppm(data, data.count, &format, &image)
        #expect(status == expected, "\(string(rs_status_name(status))): \(string(rs_last_error()))")
        #expect(image == nil)
        #expect(!string(rs_last_error()).isEmpty)
    }

    @Test("image getters and every free accept NULL")
    func nulls() {
        #expect(rs_image_width(nil) == 0 && rs_image_height(nil) == 0 && rs_image_stride(nil) == 0)
        #expect(rs_image_pixels(nil) == nil)
        rs_image_free(nil)
        rs_encoder_free(nil)
        rs_decoder_free(nil)
    }
}
