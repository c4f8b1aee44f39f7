/// The largest width or height the codec accepts (RFB sizes are 16-bit; 16384 bounds memory at 1 GiB).
public let maximumFramebufferDimension = 16384

/// Throws `.invalidArgument` unless both sides are within 1...`maximumFramebufferDimension`.
func checkFrameSize(width: Int, height: Int) throws(CodecError) {
    guard (1...maximumFramebufferDimension).contains(width), (1...maximumFramebufferDimension).contains(height) else {
        throw CodecError(.invalidArgument, "frame size \(width)x\(height) is outside 1...\(maximumFramebufferDimension)")
    }
}

/// A rectangle in framebuffer coordinates.
public struct Rect: Hashable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public var area: Int { isEmpty ? 0 : width * height }

    public func contains(_ r: Rect) -> Bool {
        r.x >= x && r.y >= y && r.maxX <= maxX && r.maxY <= maxY
    }

    public func intersection(_ r: Rect) -> Rect {
        let x0 = Swift.max(x, r.x), y0 = Swift.max(y, r.y)
        let x1 = Swift.min(maxX, r.maxX), y1 = Swift.min(maxY, r.maxY)
        return Rect(x: x0, y: y0, width: Swift.max(0, x1 - x0), height: Swift.max(0, y1 - y0))
    }

    public var description: String { "\(width)x\(height)+\(x)+\(y)" }
}

/// Pixels that someone else owns (a capture buffer, a C caller's memory), borrowed for one call.
///
/// Invariants (checked by `init`): `1 <= width, height <= 16384`, `stride >= width * bytesPerPixel`,
/// and `base` points at `stride * (height - 1) + width * bytesPerPixel` readable bytes.
public struct FrameView {
    public let base: UnsafeRawPointer
    public let width: Int
    public let height: Int
    public let stride: Int
    public let format: PixelFormat

    public init(base: UnsafeRawPointer, width: Int, height: Int, stride: Int, format: PixelFormat) throws(CodecError) {
        try format.validate()
        try checkFrameSize(width: width, height: height)
        guard stride >= width * format.bytesPerPixel, stride <= Int(Int32.max) else {
            throw CodecError(.invalidArgument, "stride \(stride) is less than a row of \(width) pixels")
        }
        self.base = base
        self.width = width
        self.height = height
        self.stride = stride
        self.format = format
    }

    @inline(__always) func row(_ y: Int) -> UnsafeRawPointer { base + y * stride }
    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }
}

/// Pixels in one format, owned, rows packed with no padding (`stride == width * bytesPerPixel`).
public struct Framebuffer: Sendable {
    public let width: Int
    public let height: Int
    public let format: PixelFormat
    public var bytes: [UInt8]

    public var stride: Int { width * format.bytesPerPixel }
    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    /// A black framebuffer.
    public init(width: Int, height: Int, format: PixelFormat) throws(CodecError) {
        try format.validate()
        try checkFrameSize(width: width, height: height)
        self.width = width
        self.height = height
        self.format = format
        self.bytes = [UInt8](repeating: 0, count: width * height * format.bytesPerPixel)
    }

    public init(width: Int, height: Int, format: PixelFormat, bytes: [UInt8]) throws(CodecError) {
        try self.init(width: width, height: height, format: format)
        guard bytes.count == self.bytes.count else {
            throw CodecError(.invalidArgument, "\(width)x\(height) at \(format.bytesPerPixel) bytes per pixel needs \(self.bytes.count) bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// Calls `body` with a view of these pixels.
    public func withView<R>(_ body: (FrameView) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { raw in
            // The init cannot fail: the size and format were checked when this framebuffer was made.
            let view = try! FrameView(base: raw.baseAddress!, width: width, height: height, stride: stride, format: format)
            return try body(view)
        }
    }

    /// The pixel value at (x, y), as an integer whose bit fields the format describes.
    public func pixel(x: Int, y: Int) -> UInt32 {
        bytes.withUnsafeBytes { PixelConverter.loadPixel($0.baseAddress! + (y * width + x) * format.bytesPerPixel, format) }
    }

    /// The channel values at (x, y), each in `0...max` of its channel.
    public func channels(x: Int, y: Int) -> (red: UInt16, green: UInt16, blue: UInt16) {
        format.channels(of: pixel(x: x, y: y))
    }

    /// Sets the pixel at (x, y) to a value whose bit fields the format describes.
    public mutating func setPixel(x: Int, y: Int, _ value: UInt32) {
        let format = self.format, offset = (y * width + x) * format.bytesPerPixel
        bytes.withUnsafeMutableBytes { PixelConverter.storePixel(value, $0.baseAddress! + offset, format) }
    }
}

extension PixelFormat {
    /// Splits a pixel value into its channel values.
    public func channels(of pixel: UInt32) -> (red: UInt16, green: UInt16, blue: UInt16) {
        (UInt16(truncatingIfNeeded: (pixel >> UInt32(redShift)) & UInt32(redMax)),
         UInt16(truncatingIfNeeded: (pixel >> UInt32(greenShift)) & UInt32(greenMax)),
         UInt16(truncatingIfNeeded: (pixel >> UInt32(blueShift)) & UInt32(blueMax)))
    }

    /// Builds a pixel value from 8-bit channel values, scaled to this format's channel sizes the way the
    /// encoder converts (`(c * max + 127) / 255`).
    public func pixel(red: UInt8, green: UInt8, blue: UInt8) -> UInt32 {
        func scale(_ c: UInt8, _ max: UInt16) -> UInt32 { (UInt32(c) * UInt32(max) + 127) / 255 }
        return scale(red, redMax) << UInt32(redShift) | scale(green, greenMax) << UInt32(greenShift)
            | scale(blue, blueMax) << UInt32(blueShift)
    }
}
