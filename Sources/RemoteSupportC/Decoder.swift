import CRemoteSupport
import RemoteSupportCore

/// What an `rs_decoder *` points to: the core decoder plus what the C API adds around it.
/// The core decoder's pixels stay at one address for its life, so `rs_decoder_pixels` lends them as they are.
final class DecoderHandle {
    let decoder: UpdateDecoder
    let error = ErrorSlot()
    /// The rectangles of the last message applied successfully (empty after a failed one).
    private(set) var rectangles: [UpdateDecoder.Rectangle] = []

    init(_ decoder: UpdateDecoder) { self.decoder = decoder }

    static func from(_ pointer: OpaquePointer?) -> DecoderHandle? {
        pointer.map { Unmanaged<DecoderHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }

    var width: Int { decoder.width }
    var height: Int { decoder.height }
    var rowBytes: Int { decoder.stride }

    func apply(_ message: UnsafeRawBufferPointer) throws(CallError) {
        do {
            rectangles = try decoder.apply(message)
        } catch {
            rectangles = []
            throw CallError(error)
        }
    }
}

@c(rs_decoder_options_init)
public func rs_decoder_options_init(_ out_options: UnsafeMutablePointer<rs_decoder_options>?) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let out_options else { throw .null("out_options") }
        let limits = DecoderLimits()
        out_options.pointee = rs_decoder_options(
            struct_size: UInt32(MemoryLayout<rs_decoder_options>.size),
            max_rectangles: UInt32(clamping: limits.maximumRectangles),
            max_rectangle_bytes: UInt64(clamping: limits.maximumCompressedRectangleBytes))
    }
}

@c(rs_decoder_new)
public func rs_decoder_new(
    _ width: UInt32, _ height: UInt32, _ format: UnsafePointer<rs_pixel_format>?,
    _ options: UnsafePointer<rs_decoder_options>?, _ out_decoder: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let out_decoder else { throw .null("out_decoder") }
        let pixelFormat = try PixelFormat.from(format, "format")
        var limits = DecoderLimits()
        if let options {
            let c = try readVersioned(options, "options", initName: "RS_DECODER_OPTIONS_INIT or rs_decoder_options_init")
            guard c.max_rectangles <= FramebufferUpdate.maximumRectangles else {
                throw .invalid("max_rectangles \(c.max_rectangles) is more than RFB's 65535")
            }
            limits.maximumRectangles = Int(c.max_rectangles)
            limits.maximumCompressedRectangleBytes = Int(clamping: c.max_rectangle_bytes)
        }
        let decoder = try codec { () throws(CodecError) in
            try UpdateDecoder(width: Int(width), height: Int(height), format: pixelFormat, limits: limits)
        }
        out_decoder.pointee = OpaquePointer(Unmanaged.passRetained(DecoderHandle(decoder)).toOpaque())
    }
}

@c(rs_decoder_free)
public func rs_decoder_free(_ decoder: OpaquePointer?) {
    guard let decoder else { return }
    Unmanaged<DecoderHandle>.fromOpaque(UnsafeRawPointer(decoder)).release()
}

private let nullDecoderMessage = StaticCString("decoder is NULL")

@c(rs_decoder_errmsg)
public func rs_decoder_errmsg(_ decoder: OpaquePointer?) -> UnsafePointer<CChar>? {
    DecoderHandle.from(decoder)?.error.cString ?? nullDecoderMessage.pointer
}

@c(rs_decoder_apply)
public func rs_decoder_apply(
    _ decoder: OpaquePointer?, _ message: UnsafePointer<UInt8>?, _ length: Int, _ out_rectangles: UnsafeMutablePointer<Int>?
) -> Int32 {
    guard let h = DecoderHandle.from(decoder) else { return nullHandle("decoder") }
    return h.error.run { () throws(CallError) in
        guard let message else { throw .null("message") }
        guard length >= 0 else { throw .invalid("length \(UInt(bitPattern: length)) is larger than the address space") }
        try h.apply(UnsafeRawBufferPointer(start: message, count: length))
        out_rectangles?.pointee = h.rectangles.count
    }
}

@c(rs_decoder_rectangle)
public func rs_decoder_rectangle(
    _ decoder: OpaquePointer?, _ index: Int, _ out_rect: UnsafeMutablePointer<rs_rect>?, _ out_encoding: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guard let h = DecoderHandle.from(decoder) else { return nullHandle("decoder") }
    return h.error.run { () throws(CallError) in
        guard let out_rect else { throw .null("out_rect") }
        guard index >= 0, index < h.rectangles.count else {
            throw .invalid("rectangle \(UInt(bitPattern: index)) does not exist: the last message applied had \(h.rectangles.count)")
        }
        let r = h.rectangles[index]
        out_rect.pointee = rs_rect(x: UInt32(clamping: r.rect.x), y: UInt32(clamping: r.rect.y),
                                   width: UInt32(clamping: r.rect.width), height: UInt32(clamping: r.rect.height))
        out_encoding?.pointee = r.encoding.rawValue
    }
}

@c(rs_decoder_pixels)
public func rs_decoder_pixels(
    _ decoder: OpaquePointer?, _ out_pixels: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ out_stride: UnsafeMutablePointer<Int>?
) -> Int32 {
    guard let h = DecoderHandle.from(decoder) else { return nullHandle("decoder") }
    return h.error.run { () throws(CallError) in
        guard let out_pixels else { throw .null("out_pixels") }
        guard let out_stride else { throw .null("out_stride") }
        out_pixels.pointee = h.decoder.pixels.assumingMemoryBound(to: UInt8.self)
        out_stride.pointee = h.rowBytes
    }
}

@c(rs_decoder_copy_pixels)
public func rs_decoder_copy_pixels(_ decoder: OpaquePointer?, _ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int, _ stride: Int) -> Int32 {
    guard let h = DecoderHandle.from(decoder) else { return nullHandle("decoder") }
    return h.error.run { () throws(CallError) in
        guard let buffer else { throw .null("buffer") }
        let rowBytes = h.rowBytes, height = h.height
        guard stride >= rowBytes else {
            throw .invalid("stride \(UInt(bitPattern: stride)) is less than a row of \(h.width) pixels (\(rowBytes) bytes)")
        }
        let (rows, overflow) = stride.multipliedReportingOverflow(by: height - 1)
        let (needed, overflow2) = rows.addingReportingOverflow(rowBytes)
        guard !overflow, !overflow2, capacity >= 0, capacity >= needed else {
            throw CallError(RS_ERR_BUFFER_TOO_SMALL, "capacity \(UInt(bitPattern: capacity)) is less than the \(overflow || overflow2 ? "(overflowing)" : "\(needed)") bytes of \(height) rows with stride \(stride)")
        }
        let base = h.decoder.pixels
        for y in 0..<height {
            UnsafeMutableRawPointer(buffer + y * stride).copyMemory(from: base + y * rowBytes, byteCount: rowBytes)
        }
    }
}
