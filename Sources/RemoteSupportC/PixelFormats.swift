import CRemoteSupport
import RemoteSupportCore

extension PixelFormat {
    /// The core's format for a C `rs_pixel_format` (not validated: the codec validates where it is used).
    init(_ c: rs_pixel_format) {
        self.init(
            bitsPerPixel: c.bits_per_pixel, depth: c.depth, bigEndian: c.big_endian != 0, trueColour: c.true_colour != 0,
            redMax: c.red_max, greenMax: c.green_max, blueMax: c.blue_max,
            redShift: c.red_shift, greenShift: c.green_shift, blueShift: c.blue_shift)
    }

    /// Reads and validates a format the caller passed.
    static func from(_ pointer: UnsafePointer<rs_pixel_format>?, _ name: String) throws(CallError) -> PixelFormat {
        guard let pointer else { throw .null(name) }
        let format = PixelFormat(pointer.pointee)
        do {
            try format.validate()
        } catch {
            var failure = CallError(error)
            failure.message = "\(name): \(failure.message)"
            throw failure
        }
        return format
    }
}

extension rs_pixel_format {
    init(_ f: PixelFormat) {
        self.init(
            bits_per_pixel: f.bitsPerPixel, depth: f.depth, big_endian: f.bigEndian ? 1 : 0, true_colour: f.trueColour ? 1 : 0,
            red_max: f.redMax, green_max: f.greenMax, blue_max: f.blueMax,
            red_shift: f.redShift, green_shift: f.greenShift, blue_shift: f.blueShift, padding: (0, 0, 0))
    }
}

@c(rs_pixel_format_preset)
public func rs_pixel_format_preset(_ preset: Int32, _ out_format: UnsafeMutablePointer<rs_pixel_format>?) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let out_format else { throw .null("out_format") }
        let format: PixelFormat
        switch preset {
        case RS_FORMAT_BGRX8888: format = .bgrx8888
        case RS_FORMAT_RGBX8888: format = .rgbx8888
        case RS_FORMAT_RGB565: format = .rgb565
        case RS_FORMAT_BGR233: format = .bgr233
        default: throw .invalid("unknown pixel format preset \(preset): expected RS_FORMAT_BGRX8888 ... RS_FORMAT_BGR233 (1 ... 4)")
        }
        out_format.pointee = rs_pixel_format(format)
    }
}

// MARK: - Versioned structs

/// Reads an options struct whose first field is `uint32_t struct_size`.
///
/// `struct_size` must cover this version's struct (an older, smaller one would be a future version's
/// concern); bytes past it, from a newer header, must be zero, since this version cannot honour them.
/// Sizes over 256 are refused before anything past this version's struct is read.
func readVersioned<T>(_ pointer: UnsafePointer<T>, _ name: String, initName: String) throws(CallError) -> T {
    let raw = UnsafeRawPointer(pointer)
    let size = Int(raw.load(as: UInt32.self))
    let known = MemoryLayout<T>.size
    guard size >= known else {
        throw .invalid("\(name).struct_size is \(size), less than this version's \(known): set it with \(initName)")
    }
    guard size <= 256 else {
        throw .invalid("\(name).struct_size is \(size), more than any version uses: set it with \(initName)")
    }
    for offset in known..<size where raw.load(fromByteOffset: offset, as: UInt8.self) != 0 {
        throw .invalid("\(name) has non-zero bytes past the \(known) this version knows (struct_size \(size)): an option this version cannot honour")
    }
    return pointer.pointee
}

/// Checks the `struct_size` of a struct the library writes into.
func checkVersionedOut<T>(_ pointer: UnsafeMutablePointer<T>, _ name: String, initName: String) throws(CallError) -> UInt32 {
    let size = UnsafeRawPointer(pointer).load(as: UInt32.self)
    guard Int(size) >= MemoryLayout<T>.size else {
        throw .invalid("\(name).struct_size is \(size), less than this version's \(MemoryLayout<T>.size): set it with \(initName)")
    }
    return size
}
