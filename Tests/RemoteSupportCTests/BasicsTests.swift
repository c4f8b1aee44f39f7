import CRemoteSupport
import Dispatch
import RemoteSupportCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("C API: versions, status codes, layouts")
struct BasicsTests {
    @Test("the runtime version matches the header")
    func version() {
        #expect(string(rs_version()) == RS_VERSION_STRING)
        #expect(rs_version_number() == UInt32(RS_VERSION_NUMBER))
        #expect(RS_VERSION_NUMBER == RS_VERSION_MAJOR * 1_000_000 + RS_VERSION_MINOR * 1000 + RS_VERSION_PATCH)
        #expect(RS_VERSION_STRING == "\(RS_VERSION_MAJOR).\(RS_VERSION_MINOR).\(RS_VERSION_PATCH)")
    }

    @Test("codec error codes are the negated CodecError codes")
    func codes() {
        let pairs: [(Int32, CodecError.Code)] = [
            (RS_ERR_TRUNCATED, .truncated), (RS_ERR_RECT_OUT_OF_BOUNDS, .rectangleOutOfBounds),
            (RS_ERR_INVALID_SUBENCODING, .invalidSubencoding), (RS_ERR_PALETTE_INDEX, .paletteIndexOutOfRange),
            (RS_ERR_RUN_PAST_TILE_END, .runPastTileEnd), (RS_ERR_CORRUPT_DATA, .corruptCompressedData),
            (RS_ERR_SIZE_MISMATCH, .compressedSizeMismatch), (RS_ERR_LIMIT_EXCEEDED, .limitExceeded),
            (RS_ERR_UNSUPPORTED_ENCODING, .unsupportedEncoding), (RS_ERR_UNSUPPORTED_FORMAT, .unsupportedPixelFormat),
            (RS_ERR_MALFORMED, .malformed), (RS_ERR_INVALID_IMAGE, .invalidImage), (RS_ERR_INVALID_ARGUMENT, .invalidArgument),
        ]
        for (status, code) in pairs { #expect(status == -code.rawValue, "\(code)") }
    }

    @Test("every status has a static name")
    func names() {
        let all: [(Int32, String)] = [
            (RS_OK, "RS_OK"), (RS_ERR_TRUNCATED, "RS_ERR_TRUNCATED"), (RS_ERR_MALFORMED, "RS_ERR_MALFORMED"),
            (RS_ERR_INVALID_ARGUMENT, "RS_ERR_INVALID_ARGUMENT"), (RS_ERR_NULL_POINTER, "RS_ERR_NULL_POINTER"),
            (RS_ERR_BUFFER_TOO_SMALL, "RS_ERR_BUFFER_TOO_SMALL"), (RS_ERR_MESSAGE_PENDING, "RS_ERR_MESSAGE_PENDING"),
            (RS_ERR_UNKNOWN, "RS_ERR_UNKNOWN"), (12345, "RS_ERR_UNKNOWN"), (-55, "RS_ERR_UNKNOWN"), (.min, "RS_ERR_UNKNOWN"),
        ]
        for (status, name) in all {
            #expect(string(rs_status_name(status)) == name)
            #expect(rs_status_name(status) == rs_status_name(status), "static: the same pointer every time")
        }
        for status in Int32(-13)...Int32(-1) { #expect(string(rs_status_name(status)) != "RS_ERR_UNKNOWN") }
    }

    @Test("struct layouts are what the header documents")
    func layouts() {
        #expect(MemoryLayout<rs_pixel_format>.size == 16)
        #expect(MemoryLayout<rs_rect>.size == 16)
        #expect(MemoryLayout<rs_encoder_options>.size == 16)
        #expect(MemoryLayout<rs_decoder_options>.size == 16)
        #expect(MemoryLayout<rs_update_stats>.size == 88)
        #expect(MemoryLayout<rs_pixel_format>.offset(of: \.red_max) == 4)
        #expect(MemoryLayout<rs_pixel_format>.offset(of: \.red_shift) == 10)
        var o = rs_encoder_options()
        #expect(rs_encoder_options_init(&o) == RS_OK)
        #expect((o.struct_size, o.compression_level, o.detect_motion, o.threads) == (16, 6, 1, 1))
    }

    @Test("presets are the RFB formats they name")
    func presets() {
        let bgrx = preset(RS_FORMAT_BGRX8888)
        #expect((bgrx.bits_per_pixel, bgrx.depth, bgrx.big_endian, bgrx.true_colour) == (32, 24, 0, 1))
        #expect((bgrx.red_shift, bgrx.green_shift, bgrx.blue_shift, bgrx.red_max) == (16, 8, 0, 255))
        let rgb565 = preset(RS_FORMAT_RGB565)
        #expect((rgb565.bits_per_pixel, rgb565.red_max, rgb565.green_max, rgb565.red_shift) == (16, 31, 63, 11))
        let bgr233 = preset(RS_FORMAT_BGR233)
        #expect((bgr233.bits_per_pixel, bgr233.blue_shift, bgr233.blue_max) == (8, 6, 3))
        #expect(preset(RS_FORMAT_RGBX8888).red_shift == 0)
    }

    @Test("rs_last_error is per thread")
    func threadLocal() {
        var f = rs_pixel_format()
        #expect(rs_pixel_format_preset(99, &f) == RS_ERR_INVALID_ARGUMENT)
        let mine = string(rs_last_error())
        #expect(mine.contains("99"))
        // Another thread sees its own (empty, then its own) message and leaves ours alone.
        final class Box: @unchecked Sendable { var before = "", after = "" }
        let box = Box()
        var thread = pthread_t()
        let context = Unmanaged.passRetained(box).toOpaque()
        pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.before = string(rs_last_error())
            var f = rs_pixel_format()
            _ = rs_pixel_format_preset(7, &f)
            box.after = string(rs_last_error())
            return nil
        }, context)
        pthread_join(thread, nil)
        #expect(box.before == "")
        #expect(box.after.contains("7"))
        #expect(string(rs_last_error()) == mine)
    }
}
