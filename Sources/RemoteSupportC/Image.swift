import CRemoteSupport
import RemoteSupportCore

/// What an `rs_image *` points to: a decoded frame, immutable once made (so any number of threads may
/// read it at once). The pixels live in memory the handle owns, so `rs_image_pixels` can lend them out.
final class ImageHandle {
    let width: Int
    let height: Int
    let stride: Int
    let pixels: UnsafeMutableRawPointer

    init(_ framebuffer: Framebuffer) {
        width = framebuffer.width
        height = framebuffer.height
        stride = framebuffer.stride
        pixels = .allocate(byteCount: max(1, framebuffer.bytes.count), alignment: 64)
        framebuffer.bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { pixels.copyMemory(from: base, byteCount: source.count) }
        }
    }

    deinit { pixels.deallocate() }

    static func from(_ pointer: OpaquePointer?) -> ImageHandle? {
        pointer.map { Unmanaged<ImageHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }
}

@c(rs_image_decode_ppm)
public func rs_image_decode_ppm(
    _ data: UnsafePointer<UInt8>?, _ length: Int, _ format: UnsafePointer<rs_pixel_format>?,
    _ out_image: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    runWithoutHandle { () throws(CallError) in
        guard let data else { throw .null("data") }
        guard let out_image else { throw .null("out_image") }
        guard length >= 0 else { throw .invalid("length \(UInt(bitPattern: length)) is larger than the address space") }
        let pixelFormat = try PixelFormat.from(format, "format")
        let bytes = Array(UnsafeBufferPointer(start: data, count: length))
        let framebuffer = try codec { () throws(CodecError) in try PPMImage.decode(bytes, format: pixelFormat) }
        out_image.pointee = OpaquePointer(Unmanaged.passRetained(ImageHandle(framebuffer)).toOpaque())
    }
}

@c(rs_image_width)
public func rs_image_width(_ image: OpaquePointer?) -> UInt32 {
    ImageHandle.from(image).map { UInt32(clamping: $0.width) } ?? 0
}

@c(rs_image_height)
public func rs_image_height(_ image: OpaquePointer?) -> UInt32 {
    ImageHandle.from(image).map { UInt32(clamping: $0.height) } ?? 0
}

@c(rs_image_stride)
public func rs_image_stride(_ image: OpaquePointer?) -> Int {
    ImageHandle.from(image)?.stride ?? 0
}

@c(rs_image_pixels)
public func rs_image_pixels(_ image: OpaquePointer?) -> UnsafePointer<UInt8>? {
    ImageHandle.from(image).map { UnsafePointer($0.pixels.assumingMemoryBound(to: UInt8.self)) }
}

@c(rs_image_free)
public func rs_image_free(_ image: OpaquePointer?) {
    guard let image else { return }
    Unmanaged<ImageHandle>.fromOpaque(UnsafeRawPointer(image)).release()
}
