/// Binary PPM (`P6`, maxval 1-255) images, optionally gzip-compressed: the frame files the examples and
/// benchmarks serve. Parsing is strict and bounded: the declared size must be within the framebuffer
/// limits, and a gzip stream is inflated no further than the header says the image needs.
public enum PPMImage {
    /// Parses a PPM (or gzipped PPM) into a framebuffer of `format`.
    public static func decode(_ data: [UInt8], format: PixelFormat = .bgrx8888) throws(CodecError) -> Framebuffer {
        if data.count >= 2 && data[0] == 0x1F && data[1] == 0x8B {
            return try decodeGzip(data, format: format)
        }
        let header = try parseHeader(data[...])
        guard data.count - header.headerSize >= header.pixelBytes else {
            throw CodecError(.truncated, "PPM pixel data is \(data.count - header.headerSize) bytes, the header announces \(header.pixelBytes)")
        }
        return try CodecError.typed {
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws(CodecError) in
                try makeFramebuffer(header, UnsafeRawBufferPointer(rebasing: raw[header.headerSize..<(header.headerSize + header.pixelBytes)]), format: format)
            }
        }
    }

    /// Writes a framebuffer as a binary PPM (8 bits per channel, channels scaled up to 0-255).
    public static func encode(_ fb: Framebuffer) -> [UInt8] {
        var out = Array("P6\n\(fb.width) \(fb.height)\n255\n".utf8)
        out.reserveCapacity(out.count + fb.width * fb.height * 3)
        let f = fb.format
        func scale(_ c: UInt16, _ max: UInt16) -> UInt8 { UInt8((UInt32(c) * 255 + UInt32(max) / 2) / UInt32(max)) }
        for y in 0..<fb.height {
            for x in 0..<fb.width {
                let c = fb.channels(x: x, y: y)
                out += [scale(c.red, f.redMax), scale(c.green, f.greenMax), scale(c.blue, f.blueMax)]
            }
        }
        return out
    }

    struct Header {
        var width: Int
        var height: Int
        var maxValue: Int
        var headerSize: Int
        var pixelBytes: Int { width * height * 3 }
    }

    static func parseHeader(_ d: ArraySlice<UInt8>) throws(CodecError) -> Header {
        var p = d.startIndex
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C }
        func skipSpaceAndComments() {
            while p < d.endIndex {
                if isSpace(d[p]) { p += 1 } else if d[p] == UInt8(ascii: "#") {
                    while p < d.endIndex && d[p] != 0x0A && d[p] != 0x0D { p += 1 }
                } else { break }
            }
        }
        func number(_ what: String) throws(CodecError) -> Int {
            skipSpaceAndComments()
            var value = 0, digits = 0
            while p < d.endIndex, d[p] >= 0x30, d[p] <= 0x39 {
                value = value * 10 + Int(d[p] - 0x30)
                digits += 1
                p += 1
                if value > 1 << 20 { throw CodecError(.invalidImage, "PPM \(what) is too large") }
            }
            if digits == 0 {
                throw p >= d.endIndex ? CodecError(.truncated, "PPM header ends before its \(what)")
                    : CodecError(.invalidImage, "PPM \(what) is not a number")
            }
            return value
        }
        guard d.count >= 2 else { throw CodecError(.truncated, "not a PPM: too short") }
        guard d[p] == UInt8(ascii: "P"), d[p + 1] == UInt8(ascii: "6") else {
            throw CodecError(.invalidImage, "not a binary PPM: it does not start with P6")
        }
        p += 2
        let width = try number("width")
        let height = try number("height")
        let maxValue = try number("maximum value")
        guard p < d.endIndex else { throw CodecError(.truncated, "PPM header ends after its maximum value") }
        guard isSpace(d[p]) else { throw CodecError(.invalidImage, "PPM maximum value is not followed by whitespace") }
        p += 1
        guard (1...maximumFramebufferDimension).contains(width), (1...maximumFramebufferDimension).contains(height) else {
            throw CodecError(.invalidImage, "PPM size \(width)x\(height) is outside 1...\(maximumFramebufferDimension)")
        }
        guard (1...255).contains(maxValue) else {
            throw CodecError(.invalidImage, "PPM maximum value \(maxValue) is not 1-255 (16-bit PPM is not supported)")
        }
        return Header(width: width, height: height, maxValue: maxValue, headerSize: p - d.startIndex)
    }

    private static func decodeGzip(_ data: [UInt8], format: PixelFormat) throws(CodecError) -> Framebuffer {
        let inflater = Inflater(windowBits: 31, endIsAllowed: true)
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 1)
        defer { input.deallocate() }
        input.copyBytes(from: data)
        inflater.begin(UnsafeRawBufferPointer(input))
        // Inflate just enough for the header, then exactly what it announces.
        let head = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 1)
        defer { head.deallocate() }
        var have = 0
        var header: Header?
        while header == nil {
            let n = try inflater.read(into: UnsafeMutableRawBufferPointer(rebasing: head[have...]))
            have += n
            do {
                header = try parseHeader(Array(head[..<have])[...])
            } catch {
                guard error.code == .truncated, n > 0 else { throw error }
                if have == head.count { throw CodecError(.invalidImage, "PPM header is longer than \(head.count) bytes") }
            }
        }
        let h = header!
        let pixels = UnsafeMutableRawBufferPointer.allocate(byteCount: h.pixelBytes, alignment: 1)
        defer { pixels.deallocate() }
        let already = min(have - h.headerSize, h.pixelBytes)
        if already > 0 { pixels.baseAddress!.copyMemory(from: head.baseAddress! + h.headerSize, byteCount: already) }
        var filled = already
        while filled < pixels.count {
            let n = try inflater.read(into: UnsafeMutableRawBufferPointer(rebasing: pixels[filled...]))
            if n == 0 { throw CodecError(.truncated, "gzipped PPM ends after \(filled) of \(pixels.count) pixel bytes") }
            filled += n
        }
        return try makeFramebuffer(h, UnsafeRawBufferPointer(pixels), format: format)
    }

    private static func makeFramebuffer(_ h: Header, _ rgb: UnsafeRawBufferPointer, format: PixelFormat) throws(CodecError) -> Framebuffer {
        var fb = try Framebuffer(width: h.width, height: h.height, format: format)
        let maxValue = UInt32(h.maxValue)
        func to8(_ v: UInt8) -> UInt8 { maxValue == 255 ? v : UInt8(min(255, (UInt32(v) * 255 + maxValue / 2) / maxValue)) }
        let bpp = format.bytesPerPixel
        fb.bytes.withUnsafeMutableBytes { out in
            for i in 0..<(h.width * h.height) {
                let v = format.pixel(red: to8(rgb[i * 3]), green: to8(rgb[i * 3 + 1]), blue: to8(rgb[i * 3 + 2]))
                PixelConverter.storePixel(v, out.baseAddress! + i * bpp, format)
            }
        }
        return fb
    }
}
