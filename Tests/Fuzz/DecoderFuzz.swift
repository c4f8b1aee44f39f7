// libFuzzer target: the update decoder (FramebufferUpdate with Raw, CopyRect, ZRLE) over one stream.
// Any input must end in success or a CodecError: never a crash, an out-of-bounds access or a huge allocation.


public func fuzzDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, let input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size)) else { return 0 }
    var limits = DecoderLimits()
    limits.maximumCompressedRectangleBytes = 1 << 20
    guard let decoder = try? UpdateDecoder(width: input.width, height: input.height, format: input.format, limits: limits) else { return 0 }
    for message in input.messages {
        do {
            try decoder.apply(message)
        } catch {
            return 0   // a clear error; the stream may be broken now, as in a real viewer
        }
    }
    return 0
}
