/// Caps a decoder puts on what a peer may send.
public struct DecoderLimits: Sendable {
    /// The most zlib bytes one ZRLE rectangle may carry.
    public var maximumCompressedRectangleBytes = 64 << 20
    /// The most rectangles one update may carry.
    public var maximumRectangles = FramebufferUpdate.maximumRectangles

    public init() {}
}

/// Applies FramebufferUpdate messages (Raw, CopyRect and ZRLE rectangles) to a framebuffer in the
/// client's pixel format: the viewer's side of `UpdateEncoder`.
///
/// A message is checked whole before any pixel changes (rectangle headers, bounds, encodings, lengths):
/// such an error leaves the framebuffer as it was. An error inside ZRLE data (corrupt zlib, bad palette,
/// runs past a tile) is found while decoding: the pixels of that update may be partly applied, and the
/// zlib stream is then broken for good (as in any VNC viewer, the connection must be reset).
/// Not thread-safe.
public final class UpdateDecoder {
    public let width: Int
    public let height: Int
    public let format: PixelFormat
    public let limits: DecoderLimits
    /// The decoded pixels, `stride` bytes a row; the address stays the same for the decoder's life, and
    /// the contents change only inside `apply`.
    public let pixels: UnsafeRawPointer
    public var stride: Int { width * format.bytesPerPixel }
    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }
    private let storage: UnsafeMutableRawPointer
    private let zrle: ZRLETileDecoder

    public init(width: Int, height: Int, format: PixelFormat, limits: DecoderLimits = DecoderLimits()) throws(CodecError) {
        try format.validate()
        try checkFrameSize(width: width, height: height)
        self.width = width
        self.height = height
        self.format = format
        self.limits = limits
        let size = width * height * format.bytesPerPixel
        storage = .allocate(byteCount: size, alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        pixels = UnsafeRawPointer(storage)
        zrle = ZRLETileDecoder(format: format)
    }

    deinit { storage.deallocate() }

    /// A copy of the decoded pixels.
    public var framebuffer: Framebuffer {
        // Cannot fail: the size and format were checked in init.
        try! Framebuffer(width: width, height: height, format: format,
                         bytes: Array(UnsafeRawBufferPointer(start: pixels, count: stride * height)))
    }

    /// One rectangle of a parsed update.
    public struct Rectangle: Sendable, Equatable {
        public var rect: Rect
        public var encoding: Encoding
        /// Where the payload lies in the message (after the ZRLE length, for ZRLE).
        var payload: Range<Int>
    }

    /// Applies a whole FramebufferUpdate message and returns its rectangles, in order.
    @discardableResult
    public func apply(_ message: UnsafeRawBufferPointer) throws(CodecError) -> [Rectangle] {
        let rectangles = try parse(message)
        let bpp = format.bytesPerPixel
        let stride = self.stride
        let pixels = storage
        for r in rectangles {
            let payload = UnsafeRawBufferPointer(rebasing: message[r.payload])
            switch r.encoding {
            case .raw:
                for y in 0..<r.rect.height {
                    (pixels + (r.rect.y + y) * stride + r.rect.x * bpp).copyMemory(
                        from: payload.baseAddress! + y * r.rect.width * bpp, byteCount: r.rect.width * bpp)
                }
            case .copyRect:
                let sx = Int(payload[0]) << 8 | Int(payload[1]), sy = Int(payload[2]) << 8 | Int(payload[3])
                CopyRectangle(destination: r.rect, sourceX: sx, sourceY: sy).apply(to: pixels, stride: stride, bytesPerPixel: bpp)
            default:
                try zrle.decode(payload, rect: r.rect, into: pixels, stride: stride)
            }
        }
        return rectangles
    }

    @discardableResult
    public func apply(_ message: [UInt8]) throws(CodecError) -> [Rectangle] {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: message.count, alignment: 1)
        defer { copy.deallocate() }
        copy.copyBytes(from: message)
        return try apply(UnsafeRawBufferPointer(copy))
    }

    /// Checks a message's structure without decoding pixels.
    func parse(_ m: UnsafeRawBufferPointer) throws(CodecError) -> [Rectangle] {
        var p = 0
        let m = ByteReader(m)
        try m.need(p, 4, "its header")
        guard m[0] == FramebufferUpdate.messageType else {
            throw CodecError(.malformed, "message type \(m[0]) is not FramebufferUpdate (0)")
        }
        p = 2
        let count = m.u16(&p)
        guard count <= limits.maximumRectangles else {
            throw CodecError(.limitExceeded, "\(count) rectangles, more than the limit of \(limits.maximumRectangles)")
        }
        let bounds = self.bounds
        let bpp = format.bytesPerPixel
        var result: [Rectangle] = []
        result.reserveCapacity(count)
        for i in 0..<count {
            try m.need(p, 12, "the header of rectangle \(i)")
            let rect = Rect(x: m.u16(&p), y: m.u16(&p), width: m.u16(&p), height: m.u16(&p))
            let encoding = Encoding(rawValue: Int32(bitPattern: UInt32(m.u32(&p))))
            guard bounds.contains(rect) else {
                throw CodecError(.rectangleOutOfBounds, "rectangle \(i) \(rect) is outside the \(bounds.width)x\(bounds.height) framebuffer")
            }
            let start: Int
            switch encoding {
            case .raw:
                let size = rect.area * bpp
                try m.need(p, size, "the pixels of raw rectangle \(i)")
                start = p
                p += size
            case .copyRect:
                try m.need(p, 4, "the source of CopyRect \(i)")
                start = p
                let source = Rect(x: m.u16(&p), y: m.u16(&p), width: rect.width, height: rect.height)
                guard bounds.contains(source) else {
                    throw CodecError(.rectangleOutOfBounds, "CopyRect \(i) source \(source) is outside the framebuffer")
                }
            case .zrle:
                try m.need(p, 4, "the length of ZRLE rectangle \(i)")
                let length = m.u32(&p)
                guard length <= limits.maximumCompressedRectangleBytes else {
                    throw CodecError(.limitExceeded, "ZRLE rectangle \(i) claims \(length) bytes, over the limit of \(limits.maximumCompressedRectangleBytes)")
                }
                try m.need(p, length, "the data of ZRLE rectangle \(i)")
                start = p
                p += length
            default:
                throw CodecError(.unsupportedEncoding, "rectangle \(i) uses \(encoding), not Raw, CopyRect or ZRLE")
            }
            if rect.isEmpty && encoding != .zrle { continue }
            result.append(Rectangle(rect: rect, encoding: encoding, payload: start..<p))
        }
        guard p == m.count else {
            throw CodecError(.malformed, "\(m.count - p) bytes after the last rectangle")
        }
        return result
    }
}

/// Big-endian reads from a message whose length the caller checks with `need` first.
private struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
    var count: Int { bytes.count }
    subscript(i: Int) -> UInt8 { bytes[i] }

    func need(_ p: Int, _ n: Int, _ what: String) throws(CodecError) {
        if bytes.count - p < n { throw CodecError(.truncated, "the update ends inside \(what)") }
    }

    func u16(_ p: inout Int) -> Int {
        defer { p += 2 }
        return Int(bytes[p]) << 8 | Int(bytes[p + 1])
    }

    func u32(_ p: inout Int) -> Int {
        defer { p += 4 }
        return Int(bytes[p]) << 24 | Int(bytes[p + 1]) << 16 | Int(bytes[p + 2]) << 8 | Int(bytes[p + 3])
    }
}
