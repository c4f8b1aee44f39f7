import Foundation
import RemoteSupportCore

/// Writes a frame as binary PPM (RGB), atomically (a reader never sees half a file).
func writePPM(_ frame: FrameView, to path: String) throws {
    var out = [UInt8]("P6\n\(frame.width) \(frame.height)\n255\n".utf8)
    out.reserveCapacity(out.count + frame.width * frame.height * 3)
    let f = frame.format
    for y in 0..<frame.height {
        let row = frame.base + y * frame.stride
        for x in 0..<frame.width {
            let p = row.loadUnaligned(fromByteOffset: x * 4, as: UInt32.self)
            let value = f.bigEndian ? p.bigEndian : p.littleEndian
            out.append(UInt8(truncatingIfNeeded: (value >> f.redShift) & UInt32(f.redMax)))
            out.append(UInt8(truncatingIfNeeded: (value >> f.greenShift) & UInt32(f.greenMax)))
            out.append(UInt8(truncatingIfNeeded: (value >> f.blueShift) & UInt32(f.blueMax)))
        }
    }
    let temporary = path + ".tmp"
    try Data(out).write(to: URL(fileURLWithPath: temporary))
    _ = rename(temporary, path)
}
