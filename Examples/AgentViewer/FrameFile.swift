import Foundation
import RemoteSupportCore

/// The viewer's framebuffer as a file (`--frame-out`): binary PPM (P6, RGB, 8 bits a channel), replaced
/// atomically (a temporary file renamed over it) so a reader never sees half a frame.
enum FrameFile {
    /// A copy of the decoded screen's pixels, taken under the session's lock (a memory copy) so the
    /// conversion to PPM runs outside it while the connection goes on.
    struct Snapshot {
        let width: Int, height: Int, stride: Int
        let format: PixelFormat
        let bytes: [UInt8]

        init(_ screen: UpdateDecoder) {
            width = screen.width
            height = screen.height
            stride = screen.stride
            format = screen.format
            bytes = [UInt8](UnsafeRawBufferPointer(start: screen.pixels, count: screen.stride * screen.height))
        }
    }

    /// The PPM bytes of `screen`, channels scaled to 0-255 whatever the pixel format.
    static func ppm(of screen: Snapshot) -> [UInt8] {
        let header = [UInt8]("P6\n\(screen.width) \(screen.height)\n255\n".utf8)
        let f = screen.format
        let bpp = f.bytesPerPixel
        let red = scaleTable(f.redMax), green = scaleTable(f.greenMax), blue = scaleTable(f.blueMax)
        // 8-bit channels need no scaling: the common case (BGRX) skips the tables.
        let direct = f.redMax == 255 && f.greenMax == 255 && f.blueMax == 255
        let count = header.count + screen.width * screen.height * 3
        // Written in place (no appends): this runs after every update, on whole frames.
        return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            for (i, b) in header.enumerated() { out[i] = b }
            var o = header.count
            screen.bytes.withUnsafeBytes { pixels in
                for y in 0..<screen.height {
                    let row = pixels.baseAddress! + y * screen.stride
                    for x in 0..<screen.width {
                        let p = pixelValue(row + x * bpp, f)
                        let r = (p >> f.redShift) & UInt32(f.redMax), g = (p >> f.greenShift) & UInt32(f.greenMax)
                        let b = (p >> f.blueShift) & UInt32(f.blueMax)
                        if direct {
                            out[o] = UInt8(truncatingIfNeeded: r); out[o + 1] = UInt8(truncatingIfNeeded: g); out[o + 2] = UInt8(truncatingIfNeeded: b)
                        } else {
                            out[o] = red[Int(r)]; out[o + 1] = green[Int(g)]; out[o + 2] = blue[Int(b)]
                        }
                        o += 3
                    }
                }
            }
            initialized = count
        }
    }

    /// Writes `bytes` to `path` through `path.tmp` and a rename.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        try Data(bytes).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    /// A pixel's value (its bit fields as the format describes them) from its bytes in memory.
    @inline(__always)
    static func pixelValue(_ p: UnsafeRawPointer, _ f: PixelFormat) -> UInt32 {
        switch f.bitsPerPixel {
        case 32:
            let v = p.loadUnaligned(as: UInt32.self)
            return f.bigEndian ? UInt32(bigEndian: v) : UInt32(littleEndian: v)
        case 16:
            let v = p.loadUnaligned(as: UInt16.self)
            return UInt32(f.bigEndian ? UInt16(bigEndian: v) : UInt16(littleEndian: v))
        default:
            return UInt32(p.load(as: UInt8.self))
        }
    }

    /// Channel value (0...max) -> 0...255, rounded.
    static func scaleTable(_ max: UInt16) -> [UInt8] {
        (0...Int(max)).map { UInt8(($0 * 255 + Int(max) / 2) / Int(max)) }
    }
}
