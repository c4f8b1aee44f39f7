import CRemoteSupport
import RemoteSupportCore
import RemoteSupportDispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What an `rs_encoder *` points to: the core encoder plus what the C API adds around it.
///
/// The last message is kept in a buffer the handle owns (`message`), so the pointer
/// `rs_encoder_encode` hands out stays put until the next encode. Invariants:
/// `messageLength <= messageCapacity`; `isPending` implies `hasMessage`; while `isPending` nothing
/// is encoded, so a message the caller has not taken can never be skipped in the zlib stream.
final class EncoderHandle {
    let encoder: UpdateEncoder
    let error = ErrorSlot()
    private var message: UnsafeMutableRawPointer?
    private var messageCapacity = 0
    private(set) var messageLength = 0
    private(set) var hasMessage = false
    /// An `rs_encoder_encode_into` message did not fit the caller's buffer and waits for
    /// `rs_encoder_copy_message`.
    var isPending = false
    /// The statistics of the last update (nil before the first).
    private(set) var statistics: UpdateStatistics?
    private(set) var rectangleCount = 0

    init(_ encoder: UpdateEncoder) { self.encoder = encoder }

    deinit { message?.deallocate() }

    static func from(_ pointer: OpaquePointer?) -> EncoderHandle? {
        pointer.map { Unmanaged<EncoderHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }

    var messageBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: message, count: messageLength) }

    /// Encodes the caller's frame and keeps the message. Checks every argument before the encoder's
    /// state changes.
    func encode(_ pixels: UnsafePointer<UInt8>?, _ length: Int, _ stride: Int, _ incremental: Int32,
                _ region: UnsafePointer<rs_rect>?) throws(CallError) {
        guard !isPending else {
            throw CallError(RS_ERR_MESSAGE_PENDING, "the last message (\(messageLength) bytes) did not fit the buffer and was not taken yet: call rs_encoder_copy_message first")
        }
        guard let pixels else { throw .null("pixels") }
        let width = encoder.width, height = encoder.height
        let rowBytes = width * encoder.sourceFormat.bytesPerPixel
        guard stride >= rowBytes, stride <= Int(Int32.max) else {
            throw .invalid("stride \(UInt(bitPattern: stride)) is outside \(rowBytes) (a row of \(width) pixels) ... \(Int32.max)")
        }
        let (rows, overflow) = stride.multipliedReportingOverflow(by: height - 1)
        let needed = rows + rowBytes // cannot overflow: rows <= Int32.max * 16383
        guard !overflow, length >= needed else {
            throw .invalid("pixels_length \(UInt(bitPattern: length)) is less than the \(needed) bytes of a \(width)x\(height) frame with stride \(stride)")
        }
        let frame = try codec { () throws(CodecError) in
            try FrameView(base: UnsafeRawPointer(pixels), width: width, height: height, stride: stride, format: encoder.sourceFormat)
        }
        let area = region.map { r in
            Rect(x: Int(r.pointee.x), y: Int(r.pointee.y), width: Int(r.pointee.width), height: Int(r.pointee.height))
        }
        let update = try codec { () throws(CodecError) in try encoder.encode(frame, region: area, incremental: incremental != 0) }
        keep(update.message)
        statistics = update.statistics
        rectangleCount = update.rectangleCount
    }

    private func keep(_ bytes: [UInt8]) {
        if bytes.count > messageCapacity {
            message?.deallocate()
            messageCapacity = max(bytes.count, messageCapacity * 2)
            message = .allocate(byteCount: messageCapacity, alignment: 16)
        }
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress, let message { message.copyMemory(from: base, byteCount: source.count) }
        }
        messageLength = bytes.count
        hasMessage = true
    }

    /// Copies the kept message into the caller's buffer, which takes it if it was pending. On
    /// `RS_ERR_BUFFER_TOO_SMALL` writes the size needed to `outLength`; a message just encoded
    /// (`fresh`) then becomes pending, one already taken stays taken.
    func deliver(into buffer: UnsafeMutablePointer<UInt8>?, capacity: Int, fresh: Bool,
                 _ outLength: UnsafeMutablePointer<Int>) throws(CallError) {
        guard capacity >= messageLength else {
            if fresh { isPending = true }
            outLength.pointee = messageLength
            throw CallError(RS_ERR_BUFFER_TOO_SMALL, "the message is \(messageLength) bytes, the buffer holds \(UInt(bitPattern: capacity)): take it with rs_encoder_copy_message into a buffer that large")
        }
        if messageLength > 0, let buffer, let message {
            UnsafeMutableRawPointer(buffer).copyMemory(from: message, byteCount: messageLength)
        }
        isPending = false
        outLength.pointee = messageLength
    }
}

/// Checks a caller's (buffer, capacity) pair: the buffer may be NULL only when the capacity is 0.
private func checkBuffer(_ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int) throws(CallError) {
    guard capacity >= 0 else { throw .invalid("capacity \(UInt(bitPattern: capacity)) is larger than the address space") }
    guard buffer != nil || capacity == 0 else { throw .null("buffer (with a capacity of \(capacity))") }
}

/// How `threads` in `rs_encoder_options` becomes the core's workers and `ParallelFor`.
func parallelism(threads: Int32) throws(CallError) -> (workers: Int, parallel: ParallelFor?) {
    guard (0...64).contains(threads) else { throw .invalid("threads \(threads) is outside 0 ... 64") }
    var workers = Int(threads)
    if workers == 0 {
        workers = max(1, min(64, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
    guard workers > 1 else { return (1, nil) }
    return (workers, dispatchParallelFor)
}

// MARK: - Options

@c(rs_encoder_options_init)
public func rs_encoder_options_init(_ out_options: UnsafeMutablePointer<rs_encoder_options>?) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let out_options else { throw .null("out_options") }
        out_options.pointee = rs_encoder_options(
            struct_size: UInt32(MemoryLayout<rs_encoder_options>.size), compression_level: 6, detect_motion: 1, threads: 1)
    }
}

@c(rs_update_stats_init)
public func rs_update_stats_init(_ out_stats: UnsafeMutablePointer<rs_update_stats>?) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let out_stats else { throw .null("out_stats") }
        var stats = rs_update_stats()
        stats.struct_size = UInt32(MemoryLayout<rs_update_stats>.size)
        out_stats.pointee = stats
    }
}

// MARK: - Life cycle

@c(rs_encoder_new)
public func rs_encoder_new(
    _ width: UInt32, _ height: UInt32, _ source_format: UnsafePointer<rs_pixel_format>?,
    _ client_format: UnsafePointer<rs_pixel_format>?, _ options: UnsafePointer<rs_encoder_options>?,
    _ out_encoder: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let out_encoder else { throw .null("out_encoder") }
        let source = try PixelFormat.from(source_format, "source_format")
        let client = try PixelFormat.from(client_format, "client_format")
        var c = rs_encoder_options(struct_size: 0, compression_level: 6, detect_motion: 1, threads: 1)
        if let options { c = try readVersioned(options, "options", initName: "RS_ENCODER_OPTIONS_INIT or rs_encoder_options_init") }
        guard (0...9).contains(c.compression_level) else {
            throw .invalid("compression_level \(c.compression_level) is outside 0 ... 9")
        }
        let (workers, parallel) = try parallelism(threads: c.threads)
        var core = EncoderOptions()
        core.compressionLevel = Int(c.compression_level)
        core.sparseCompressionLevel = min(Int(c.compression_level), core.sparseCompressionLevel)
        core.detectMotion = c.detect_motion != 0
        core.workers = workers
        let encoder = try codec { () throws(CodecError) in
            try UpdateEncoder(width: Int(width), height: Int(height), sourceFormat: source, clientFormat: client,
                              options: core, parallel: parallel)
        }
        out_encoder.pointee = OpaquePointer(Unmanaged.passRetained(EncoderHandle(encoder)).toOpaque())
    }
}

@c(rs_encoder_free)
public func rs_encoder_free(_ encoder: OpaquePointer?) {
    guard let encoder else { return }
    Unmanaged<EncoderHandle>.fromOpaque(UnsafeRawPointer(encoder)).release()
}

@c(rs_encoder_errmsg)
public func rs_encoder_errmsg(_ encoder: OpaquePointer?) -> UnsafePointer<CChar>? {
    EncoderHandle.from(encoder)?.error.cString ?? nullEncoderMessage.pointer
}

private let nullEncoderMessage = StaticCString("encoder is NULL")

// MARK: - Settings

@c(rs_encoder_set_client_format)
public func rs_encoder_set_client_format(_ encoder: OpaquePointer?, _ client_format: UnsafePointer<rs_pixel_format>?) -> Int32 {
    guard let h = EncoderHandle.from(encoder) else { return nullHandle("encoder") }
    return h.error.run { () throws(CallError) in
        let format = try PixelFormat.from(client_format, "client_format")
        try codec { () throws(CodecError) in try h.encoder.setClientFormat(format) }
    }
}

@c(rs_encoder_set_encodings)
public func rs_encoder_set_encodings(_ encoder: OpaquePointer?, _ encodings: UnsafePointer<Int32>?, _ count: Int) -> Int32 {
    guard let h = EncoderHandle.from(encoder) else { return nullHandle("encoder") }
    return h.error.run { () throws(CallError) in
        guard (0...FramebufferUpdate.maximumRectangles).contains(count) else {
            throw .invalid("count \(UInt(bitPattern: count)) is more than RFB's 65535 encodings")
        }
        guard encodings != nil || count == 0 else { throw .null("encodings (with a count of \(count))") }
        let list = UnsafeBufferPointer(start: encodings, count: count).map { Encoding(rawValue: $0) }
        h.encoder.setEncodings(list)
    }
}

@c(rs_encoder_invalidate)
public func rs_encoder_invalidate(_ encoder: OpaquePointer?) -> Int32 {
    guard let h = EncoderHandle.from(encoder) else { return nullHandle("encoder") }
    return h.error.run { () throws(CallError) in h.encoder.invalidate() }
}

// MARK: - Encoding

@c(rs_encoder_encode)
public func rs_encoder_encode(
    _ encoder: OpaquePointer?, _ pixels: UnsafePointer<UInt8>?, _ pixels_length: Int, _ stride: Int,
    _ incremental: Int32, _ region: UnsafePointer<rs_rect>?,
    _ out_message: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ out_length: UnsafeMutablePointer<Int>?
) -> Int32 {
    guard let h = EncoderHandle.from(encoder) else { return nullHandle("encoder") }
    return h.error.run { () throws(CallError) in
        guard let out_message else { throw .null("out_message") }
        guard let out_length else { throw .null("out_length") }
        try h.encode(pixels, pixels_length, stride, incremental, region)
        out_message.pointee = h.messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        out_length.pointee = h.messageLength
    }
}

@c(rs_encoder_encode_into)
public func rs_encoder_encode_into(
    _ encoder: OpaquePointer?, _ pixels: UnsafePointer<UInt8>?, _ pixels_length: Int, _ stride: Int,
    _ incremental: Int32, _ region: UnsafePointer<rs_rect>?,
    _ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int, _ out_length: UnsafeMutablePointer<Int>?
) -> Int32 {
    guard let h = EncoderHandle.from(encoder) else { return nullHandle("encoder") }
    return h.error.run { () throws(CallError) in
        guard let out_length else { throw .null("out_length") }
        try checkBuffer(buffer, capacity)
        try h.encode(pixels, pixels_length, stride, incremental, region)
        try h.deliver(into: buffer, capacity: capacity, fresh: true, out_length)
    }
}

@c(rs_encoder_copy_message)
public func rs_encoder_copy_message(
    _ encoder: OpaquePointer?, _ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int, _ out_length: UnsafeMutablePointer<Int>?
) -> Int32 {
    guard let h = EncoderHandle.from(encoder) else { return nullHandle("encoder") }
    return h.error.run { () throws(CallError) in
        guard let out_length else { throw .null("out_length") }
        try checkBuffer(buffer, capacity)
        guard h.hasMessage else { throw .invalid("no message has been encoded yet") }
        try h.deliver(into: buffer, capacity: capacity, fresh: false, out_length)
    }
}

@c(rs_encoder_stats)
public func rs_encoder_stats(_ encoder: OpaquePointer?, _ out_stats: UnsafeMutablePointer<rs_update_stats>?) -> Int32 {
    guard let h = EncoderHandle.from(encoder) else { return nullHandle("encoder") }
    return h.error.run { () throws(CallError) in
        guard let out_stats else { throw .null("out_stats") }
        let size = try checkVersionedOut(out_stats, "out_stats", initName: "RS_UPDATE_STATS_INIT or rs_update_stats_init")
        let s = h.statistics
        let subencodings = s?.subencodings ?? []
        func u32(_ v: Int) -> UInt32 { UInt32(clamping: v) }
        func u64(_ v: Int) -> UInt64 { UInt64(clamping: v) }
        func tiles(_ k: Int) -> UInt64 { k < subencodings.count ? u64(subencodings[k]) : 0 }
        out_stats.pointee = rs_update_stats(
            struct_size: size, rectangles: u32(h.rectangleCount), copy_rectangles: u32(s?.copyRectangles ?? 0),
            zrle_rectangles: u32(s?.zrleRectangles ?? 0), raw_rectangles: u32(s?.rawRectangles ?? 0),
            changed_tiles: u32(s?.changedTiles ?? 0), encoded_pixels: u64(s?.encodedPixels ?? 0),
            uncompressed_bytes: u64(s?.uncompressedBytes ?? 0),
            message_bytes: u64(h.hasMessage ? h.messageLength : 0),
            tiles_raw: tiles(0), tiles_solid: tiles(1), tiles_packed_palette: tiles(2), tiles_plain_rle: tiles(3),
            tiles_palette_rle: tiles(4))
    }
}
