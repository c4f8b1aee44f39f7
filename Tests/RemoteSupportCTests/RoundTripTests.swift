import CRemoteSupport
import Testing

@Suite("C API: encode and decode round trips")
struct RoundTripTests {
    static let clientFormats: [Int32] = [RS_FORMAT_BGRX8888, RS_FORMAT_RGBX8888, RS_FORMAT_RGB565, RS_FORMAT_BGR233]

    @Test("full, incremental and scrolled updates decode to the source", arguments: clientFormats, [Int32(1), 2])
    func session(clientPreset: Int32, threads: Int32) throws {
        let (w, h) = (300, 200)
        let client = preset(clientPreset)
        let encoder = try TestEncoder(width: w, height: h, client: client, threads: threads)
        let decoder = try TestDecoder(width: w, height: h, format: client)

        let a = Frame.desktop(width: w, height: h, seed: 1)
        let first = try encoder.encode(a, incremental: true)
        #expect(decoder.apply(first).status == RS_OK)
        #expect(decoder.pixels == a.expected(as: client))
        #expect(encoder.stats.zrle_rectangles > 0)
        #expect(encoder.stats.message_bytes == UInt64(first.count))

        // Nothing changed: a 4-byte update with no rectangle.
        let same = try encoder.encode(a, incremental: true)
        #expect(same == [0, 0, 0, 0])
        #expect(encoder.stats.rectangles == 0)
        #expect(decoder.apply(same) == (RS_OK, 0))

        // A small change is sent trimmed to the changed pixels.
        let b = a.filled(x: 70, y: 90, width: 5, height: 3, (255, 0, 0))
        let small = try encoder.encode(b, incremental: true)
        #expect(encoder.stats.encoded_pixels == 15)
        #expect(decoder.apply(small) == (RS_OK, 1))
        var rect = rs_rect()
        var encoding: Int32 = -1
        #expect(rs_decoder_rectangle(decoder.handle, 0, &rect, &encoding) == RS_OK)
        #expect((rect.x, rect.y, rect.width, rect.height, encoding) == (70, 90, 5, 3, RS_ENCODING_ZRLE))
        #expect(decoder.pixels == b.expected(as: client))

        // A scroll becomes CopyRect plus the exposed strip.
        let c = b.scrolled(by: 24, fresh: Frame.desktop(width: w, height: h, seed: 2))
        let scroll = try encoder.encode(c, incremental: true)
        #expect(encoder.stats.copy_rectangles >= 1)
        #expect(UInt64(scroll.count) < UInt64(first.count) / 2)
        #expect(decoder.apply(scroll).status == RS_OK)
        #expect(decoder.pixels == c.expected(as: client))

        // Non-incremental: everything again.
        let full = try encoder.encode(c, incremental: false)
        #expect(encoder.stats.encoded_pixels == UInt64(w * h))
        #expect(decoder.apply(full).status == RS_OK)
        #expect(decoder.pixels == c.expected(as: client))
    }

    @Test("Raw only when the client did not list ZRLE")
    func rawOnly() throws {
        let encoder = try TestEncoder(width: 70, height: 50, encodings: [])
        let decoder = try TestDecoder(width: 70, height: 50)
        let a = Frame.desktop(width: 70, height: 50, seed: 3)
        let message = try encoder.encode(a, incremental: false)
        #expect(encoder.stats.raw_rectangles > 0 && encoder.stats.zrle_rectangles == 0)
        #expect(decoder.apply(message).status == RS_OK)
        #expect(decoder.pixels == a.bytes)
    }

    @Test("a region limits the update; a region outside the frame gives an empty update")
    func region() throws {
        let encoder = try TestEncoder(width: 128, height: 128)
        let decoder = try TestDecoder(width: 128, height: 128)
        let a = Frame.desktop(width: 128, height: 128, seed: 4)
        let part = try encoder.encode(a, incremental: false, region: rs_rect(x: 10, y: 20, width: 30, height: 40))
        #expect(encoder.stats.encoded_pixels == 1200)
        #expect(decoder.apply(part).status == RS_OK)
        let outside = try encoder.encode(a, incremental: false, region: rs_rect(x: 500, y: 0, width: 10, height: 10))
        #expect(outside == [0, 0, 0, 0])
        let huge = try encoder.encode(a, incremental: false, region: rs_rect(x: 0, y: 0, width: .max, height: .max))
        #expect(encoder.stats.encoded_pixels == 128 * 128)
        #expect(decoder.apply(huge).status == RS_OK)
        #expect(decoder.pixels == a.bytes)
    }

    @Test("changing the client format sends everything again in the new format")
    func clientFormatChange() throws {
        let encoder = try TestEncoder(width: 90, height: 60)
        let a = Frame.desktop(width: 90, height: 60, seed: 5)
        _ = try encoder.encode(a, incremental: true)
        var f565 = preset(RS_FORMAT_RGB565)
        #expect(rs_encoder_set_client_format(encoder.handle, &f565) == RS_OK)
        // A new connection-side decoder in the new format still needs the same zlib stream: feed both.
        let message = try encoder.encode(a, incremental: true)
        #expect(encoder.stats.encoded_pixels == 90 * 60)
        #expect(message.count > 4)
    }

    @Test("rs_encoder_invalidate makes the next incremental update full")
    func invalidate() throws {
        let encoder = try TestEncoder(width: 64, height: 64)
        let a = Frame.desktop(width: 64, height: 64, seed: 6)
        _ = try encoder.encode(a, incremental: true)
        #expect(try encoder.encode(a, incremental: true) == [0, 0, 0, 0])
        #expect(rs_encoder_invalidate(encoder.handle) == RS_OK)
        _ = try encoder.encode(a, incremental: true)
        #expect(encoder.stats.encoded_pixels == 64 * 64)
    }

    @Test("caller-owned buffer: a big enough one gets the message at once")
    func encodeInto() throws {
        let encoder = try TestEncoder(width: 100, height: 80)
        let decoder = try TestDecoder(width: 100, height: 80)
        let a = Frame.desktop(width: 100, height: 80, seed: 7)
        var buffer = [UInt8](repeating: 0xAA, count: 100 * 80 * 4 + 1024)
        var length = 0
        let status = a.bytes.withUnsafeBufferPointer { p in
            buffer.withUnsafeMutableBufferPointer { b in
                rs_encoder_encode_into(encoder.handle, p.baseAddress, p.count, a.stride, 0, nil, b.baseAddress, b.count, &length)
            }
        }
        #expect(status == RS_OK)
        #expect(length > 4 && length < buffer.count)
        #expect(decoder.apply(Array(buffer[..<length])).status == RS_OK)
        #expect(decoder.pixels == a.bytes)
    }

    @Test("caller-owned buffer too small: the needed size comes back, the message waits, nothing is skipped")
    func encodeIntoTooSmall() throws {
        let encoder = try TestEncoder(width: 100, height: 80)
        let decoder = try TestDecoder(width: 100, height: 80)
        let a = Frame.desktop(width: 100, height: 80, seed: 8)
        let b = a.filled(x: 0, y: 0, width: 50, height: 50, (1, 2, 3))

        func encodeInto(_ f: Frame, _ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int, _ length: inout Int) -> Int32 {
            f.bytes.withUnsafeBufferPointer { p in
                rs_encoder_encode_into(encoder.handle, p.baseAddress, p.count, f.stride, 1, nil, buffer, capacity, &length)
            }
        }
        // Size query with NULL/0.
        var needed = 0
        #expect(encodeInto(a, nil, 0, &needed) == RS_ERR_BUFFER_TOO_SMALL)
        #expect(needed > 4)
        #expect(string(rs_encoder_errmsg(encoder.handle)).contains("\(needed)"))

        // While the message waits, encoding is refused and changes nothing.
        var ignored = 0
        #expect(encodeInto(b, nil, 0, &ignored) == RS_ERR_MESSAGE_PENDING)
        #expect(ignored == 0, "out_length is written only on success or RS_ERR_BUFFER_TOO_SMALL")
        var message: UnsafePointer<UInt8>?
        let refused = b.bytes.withUnsafeBufferPointer { p in
            rs_encoder_encode(encoder.handle, p.baseAddress, p.count, b.stride, 1, nil, &message, &ignored)
        }
        #expect(refused == RS_ERR_MESSAGE_PENDING)
        #expect(message == nil)

        // Still too small: same answer, still pending.
        var small = [UInt8](repeating: 0, count: needed - 1)
        var length = 0
        #expect(rs_encoder_copy_message(encoder.handle, &small, small.count, &length) == RS_ERR_BUFFER_TOO_SMALL)
        #expect(length == needed)

        var exact = [UInt8](repeating: 0, count: needed)
        length = 0
        #expect(rs_encoder_copy_message(encoder.handle, &exact, exact.count, &length) == RS_OK)
        #expect(length == needed)
        #expect(string(rs_encoder_errmsg(encoder.handle)) == "")
        #expect(decoder.apply(exact).status == RS_OK)
        #expect(decoder.pixels == a.bytes)

        // Taken: encoding goes on, and the stream is intact.
        let next = try encoder.encode(b, incremental: true)
        #expect(decoder.apply(next).status == RS_OK)
        #expect(decoder.pixels == b.bytes)

        // copy_message may fetch the last message again; a too-small buffer then blocks nothing.
        var again = [UInt8](repeating: 0, count: next.count)
        #expect(rs_encoder_copy_message(encoder.handle, &again, again.count, &length) == RS_OK)
        #expect(again == next)
        #expect(rs_encoder_copy_message(encoder.handle, nil, 0, &length) == RS_ERR_BUFFER_TOO_SMALL)
        #expect(length == next.count)
        #expect(try encoder.encode(b, incremental: true) == [0, 0, 0, 0])
    }

    @Test("threads = 0 (all cores) and threads = 2 give the same pixels as one thread")
    func threaded() throws {
        let (w, h) = (700, 400) // big enough for the parallel deflate path
        let a = Frame.desktop(width: w, height: h, seed: 9)
        let b = a.scrolled(by: 40, fresh: Frame.desktop(width: w, height: h, seed: 10))
        for threads: Int32 in [0, 2, 3] {
            let encoder = try TestEncoder(width: w, height: h, threads: threads)
            let decoder = try TestDecoder(width: w, height: h)
            #expect(decoder.apply(try encoder.encode(a, incremental: false)).status == RS_OK)
            #expect(decoder.pixels == a.bytes)
            #expect(decoder.apply(try encoder.encode(b, incremental: true)).status == RS_OK)
            #expect(decoder.pixels == b.bytes)
        }
    }

    @Test("the borrowed framebuffer stays put and shows later updates; copies honour the stride")
    func pixels() throws {
        let encoder = try TestEncoder(width: 50, height: 40)
        let decoder = try TestDecoder(width: 50, height: 40)
        let a = Frame.desktop(width: 50, height: 40, seed: 11)
        let b = a.filled(x: 10, y: 10, width: 5, height: 5, (9, 9, 9))
        var p1: UnsafePointer<UInt8>?
        var stride = 0
        #expect(rs_decoder_pixels(decoder.handle, &p1, &stride) == RS_OK)
        #expect(stride == 200)
        decoder.apply(try encoder.encode(a, incremental: true))
        decoder.apply(try encoder.encode(b, incremental: true))
        var p2: UnsafePointer<UInt8>?
        #expect(rs_decoder_pixels(decoder.handle, &p2, &stride) == RS_OK)
        #expect(p1 == p2)
        #expect(Array(UnsafeBufferPointer(start: p1, count: 200 * 40)) == b.bytes)

        // Padded copy: 8 bytes between rows left untouched.
        let padded = 208
        var buffer = [UInt8](repeating: 0xEE, count: padded * 40)
        #expect(rs_decoder_copy_pixels(decoder.handle, &buffer, buffer.count, padded) == RS_OK)
        for y in 0..<40 {
            #expect(Array(buffer[(y * padded)..<(y * padded + 200)]) == Array(b.bytes[(y * 200)..<(y * 200 + 200)]))
            #expect(buffer[(y * padded + 200)..<(y * padded + 208)].allSatisfy { $0 == 0xEE })
        }
        // The last row needs no padding after it.
        var tight = [UInt8](repeating: 0, count: padded * 39 + 200)
        #expect(rs_decoder_copy_pixels(decoder.handle, &tight, tight.count, padded) == RS_OK)
    }

    @Test("PPM images decode into the requested format")
    func ppm() throws {
        let header = Array("P6\n# a comment\n3 2\n255\n".utf8)
        let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90]
        var format = preset(RS_FORMAT_BGRX8888)
        var image: OpaquePointer?
        let data = header + rgb
        #expect(rs_image_decode_ppm(data, data.count, &format, &image) == RS_OK)
        let img = try #require(image)
        defer { rs_image_free(img) }
        #expect(rs_image_width(img) == 3 && rs_image_height(img) == 2 && rs_image_stride(img) == 12)
        let pixels = Array(UnsafeBufferPointer(start: rs_image_pixels(img), count: 24))
        #expect(Array(pixels[0..<8]) == [0, 0, 255, 0, 0, 255, 0, 0])
        #expect(Array(pixels[12..<16]) == [30, 20, 10, 0])

        // An image's pixels can be encoded directly.
        let encoder = try TestEncoder(width: 3, height: 2)
        var message: UnsafePointer<UInt8>?
        var length = 0
        #expect(rs_encoder_encode(encoder.handle, rs_image_pixels(img), 24, 12, 0, nil, &message, &length) == RS_OK)
        let decoder = try TestDecoder(width: 3, height: 2)
        #expect(rs_decoder_apply(decoder.handle, message, length, nil) == RS_OK)
        #expect(decoder.pixels == pixels)
    }
}
