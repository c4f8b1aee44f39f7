/// Converts pixels of a source format into the in-memory representation of a target format.
///
/// The "memory value" of a target pixel is a `UInt32` whose little-endian bytes are the pixel's bytes as
/// they lie in the target's memory (1, 2 or 4 of them). Tiles are analysed and written in that form, so a
/// CPIXEL is just a byte window of it, and equal pixels have equal memory values.
struct PixelConverter {
    let source: PixelFormat
    let target: PixelFormat
    /// Source and target are the same format: a memory value is the source bytes, unchanged.
    let isIdentity: Bool
    // Per channel: source channel value -> target channel bits, already shifted.
    private let red: [UInt32]
    private let green: [UInt32]
    private let blue: [UInt32]

    init(source: PixelFormat, target: PixelFormat) {
        self.source = source
        self.target = target
        self.isIdentity = source == target
        func table(_ smax: UInt16, _ dmax: UInt16, _ dshift: UInt8) -> [UInt32] {
            (0...Int(smax)).map { c in
                UInt32((c * Int(dmax) + Int(smax) / 2) / Int(smax)) << UInt32(dshift)
            }
        }
        red = isIdentity ? [] : table(source.redMax, target.redMax, target.redShift)
        green = isIdentity ? [] : table(source.greenMax, target.greenMax, target.greenShift)
        blue = isIdentity ? [] : table(source.blueMax, target.blueMax, target.blueShift)
    }

    /// Reads the pixel value at `p` in `format` (an integer whose bit fields the format describes).
    @inline(__always)
    static func loadPixel(_ p: UnsafeRawPointer, _ format: PixelFormat) -> UInt32 {
        switch format.bitsPerPixel {
        case 32:
            let v = p.loadUnaligned(as: UInt32.self)
            return format.bigEndian ? v.byteSwapped : v
        case 16:
            let v = p.loadUnaligned(as: UInt16.self)
            return UInt32(format.bigEndian ? v.byteSwapped : v)
        default:
            return UInt32(p.load(as: UInt8.self))
        }
    }

    /// Stores a pixel value at `p` in `format`'s byte order.
    @inline(__always)
    static func storePixel(_ value: UInt32, _ p: UnsafeMutableRawPointer, _ format: PixelFormat) {
        switch format.bitsPerPixel {
        case 32: p.storeBytes(of: format.bigEndian ? value.byteSwapped : value, as: UInt32.self)
        case 16:
            let v = UInt16(truncatingIfNeeded: value)
            p.storeBytes(of: format.bigEndian ? v.byteSwapped : v, as: UInt16.self)
        default: p.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        }
    }

    /// The memory value (see the type's comment) of a pixel value in `format`.
    @inline(__always)
    static func memoryValue(_ value: UInt32, _ format: PixelFormat) -> UInt32 {
        guard format.bigEndian else { return value }
        switch format.bitsPerPixel {
        case 32: return value.byteSwapped
        case 16: return UInt32(UInt16(truncatingIfNeeded: value).byteSwapped)
        default: return value
        }
    }

    /// Converts `count` source pixels starting at `src` into target memory values at `dst`.
    func convert(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<UInt32>) {
        let sbpp = source.bytesPerPixel
        if isIdentity {
            switch sbpp {
            case 4: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
            case 2: for i in 0..<count { dst[i] = UInt32(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
            default: for i in 0..<count { dst[i] = UInt32(src.load(fromByteOffset: i, as: UInt8.self)) }
            }
            return
        }
        let rs = UInt32(source.redShift), gs = UInt32(source.greenShift), bs = UInt32(source.blueShift)
        let rm = UInt32(source.redMax), gm = UInt32(source.greenMax), bm = UInt32(source.blueMax)
        red.withUnsafeBufferPointer { r in
            green.withUnsafeBufferPointer { g in
                blue.withUnsafeBufferPointer { b in
                    for i in 0..<count {
                        let p = Self.loadPixel(src + i * sbpp, source)
                        let v = r[Int((p >> rs) & rm)] | g[Int((p >> gs) & gm)] | b[Int((p >> bs) & bm)]
                        dst[i] = Self.memoryValue(v, target)
                    }
                }
            }
        }
    }
}
