/// A true-colour pixel format as RFB describes it (RFC 6143 §7.4): 8, 16 or 32 bits per pixel,
/// each channel a contiguous bit field `(pixel >> shift) & max` with `max = 2^n - 1`, stored in
/// memory in the given byte order.
///
/// Colour-map formats are not supported: `validate()` rejects them with `.unsupportedPixelFormat`.
public struct PixelFormat: Hashable, Sendable, CustomStringConvertible {
    public var bitsPerPixel: UInt8
    public var depth: UInt8
    public var bigEndian: Bool
    public var trueColour: Bool
    public var redMax: UInt16
    public var greenMax: UInt16
    public var blueMax: UInt16
    public var redShift: UInt8
    public var greenShift: UInt8
    public var blueShift: UInt8

    public init(
        bitsPerPixel: UInt8, depth: UInt8, bigEndian: Bool, trueColour: Bool = true,
        redMax: UInt16, greenMax: UInt16, blueMax: UInt16,
        redShift: UInt8, greenShift: UInt8, blueShift: UInt8
    ) {
        self.bitsPerPixel = bitsPerPixel
        self.depth = depth
        self.bigEndian = bigEndian
        self.trueColour = trueColour
        self.redMax = redMax
        self.greenMax = greenMax
        self.blueMax = blueMax
        self.redShift = redShift
        self.greenShift = greenShift
        self.blueShift = blueShift
    }

    /// 32-bit little-endian `0x00RRGGBB`: bytes B, G, R, X in memory. What X11 and most desktops use.
    public static let bgrx8888 = PixelFormat(
        bitsPerPixel: 32, depth: 24, bigEndian: false,
        redMax: 255, greenMax: 255, blueMax: 255, redShift: 16, greenShift: 8, blueShift: 0)

    /// 32-bit little-endian `0x00BBGGRR`: bytes R, G, B, X in memory.
    public static let rgbx8888 = PixelFormat(
        bitsPerPixel: 32, depth: 24, bigEndian: false,
        redMax: 255, greenMax: 255, blueMax: 255, redShift: 0, greenShift: 8, blueShift: 16)

    /// 16-bit little-endian RGB 5-6-5.
    public static let rgb565 = PixelFormat(
        bitsPerPixel: 16, depth: 16, bigEndian: false,
        redMax: 31, greenMax: 63, blueMax: 31, redShift: 11, greenShift: 5, blueShift: 0)

    /// 8-bit BGR 2-3-3 (blue in the top two bits), the classic VNC 8-bit true-colour format.
    public static let bgr233 = PixelFormat(
        bitsPerPixel: 8, depth: 8, bigEndian: false,
        redMax: 7, greenMax: 7, blueMax: 3, redShift: 0, greenShift: 3, blueShift: 6)

    public var bytesPerPixel: Int { Int(bitsPerPixel) / 8 }

    public var description: String {
        "\(bitsPerPixel)bpp depth \(depth) \(bigEndian ? "BE" : "LE") "
            + "r\(redMax)<<\(redShift) g\(greenMax)<<\(greenShift) b\(blueMax)<<\(blueShift)"
    }

    /// Checks that the format is one this codec can produce and consume.
    public func validate() throws(CodecError) {
        guard trueColour else {
            throw CodecError(.unsupportedPixelFormat, "colour-map pixel formats are not supported")
        }
        guard bitsPerPixel == 8 || bitsPerPixel == 16 || bitsPerPixel == 32 else {
            throw CodecError(.unsupportedPixelFormat, "bits per pixel must be 8, 16 or 32, not \(bitsPerPixel)")
        }
        guard depth >= 1 && depth <= bitsPerPixel else {
            throw CodecError(.unsupportedPixelFormat, "depth \(depth) does not fit \(bitsPerPixel) bits per pixel")
        }
        for (name, max, shift) in [("red", redMax, redShift), ("green", greenMax, greenShift), ("blue", blueMax, blueShift)] {
            guard max != 0 && (UInt32(max) & (UInt32(max) + 1)) == 0 else {
                throw CodecError(.unsupportedPixelFormat, "\(name) max \(max) is not 2^n - 1")
            }
            guard Int(shift) + Self.bitCount(max) <= Int(bitsPerPixel) else {
                throw CodecError(.unsupportedPixelFormat, "\(name) channel (max \(max), shift \(shift)) does not fit \(bitsPerPixel) bits")
            }
        }
    }

    static func bitCount(_ max: UInt16) -> Int { UInt16.bitWidth - max.leadingZeroBitCount }

    /// The 16-byte PIXEL_FORMAT structure of RFB.
    public var rfbBytes: [UInt8] {
        [bitsPerPixel, depth, bigEndian ? 1 : 0, trueColour ? 1 : 0,
         UInt8(redMax >> 8), UInt8(redMax & 0xFF), UInt8(greenMax >> 8), UInt8(greenMax & 0xFF),
         UInt8(blueMax >> 8), UInt8(blueMax & 0xFF), redShift, greenShift, blueShift, 0, 0, 0]
    }

    /// Parses the 16-byte PIXEL_FORMAT structure of RFB (it is not validated: call `validate()`).
    public init(rfbBytes b: some Collection<UInt8>) throws(CodecError) {
        guard b.count >= 16 else { throw CodecError(.truncated, "a pixel format needs 16 bytes, got \(b.count)") }
        let a = Array(b.prefix(16))
        self.init(
            bitsPerPixel: a[0], depth: a[1], bigEndian: a[2] != 0, trueColour: a[3] != 0,
            redMax: UInt16(a[4]) << 8 | UInt16(a[5]), greenMax: UInt16(a[6]) << 8 | UInt16(a[7]),
            blueMax: UInt16(a[8]) << 8 | UInt16(a[9]), redShift: a[10], greenShift: a[11], blueShift: a[12])
    }

    // MARK: - CPIXEL (RFC 6143 §7.7.6)

    /// How a pixel of this format is written as a ZRLE CPIXEL: `size` bytes taken from `offset` in the
    /// pixel's in-memory bytes.
    ///
    /// A CPIXEL is the whole pixel, except for 32-bit true colour of depth <= 24 whose colour bits all fit
    /// in three bytes: then it is the first three bytes of the pixel in memory if they hold every colour
    /// bit, otherwise the last three. This is the rule libvncserver and TigerVNC implement (for a
    /// little-endian client whose bits fit the least significant three bytes, the first three).
    public var compactPixel: (size: Int, offset: Int) {
        guard bitsPerPixel == 32, depth <= 24, trueColour else { return (bytesPerPixel, 0) }
        let channels = [(redMax, redShift), (greenMax, greenShift), (blueMax, blueShift)]
        let fitsLow = channels.allSatisfy { UInt64($0.0) << UInt64($0.1) < 1 << 24 }
        let fitsHigh = channels.allSatisfy { $0.1 > 7 }
        if (fitsLow && !bigEndian) || (fitsHigh && bigEndian) { return (3, 0) }
        if (fitsLow && bigEndian) || (fitsHigh && !bigEndian) { return (3, 1) }
        return (4, 0)
    }
}
