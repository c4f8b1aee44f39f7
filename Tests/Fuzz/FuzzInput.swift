// Shared by the fuzz targets: how a fuzzer's bytes are cut into a set-up and a series of messages.
// Compiled into the same module as the core sources (see run.sh), so it sees internal API.


/// The first 5 bytes pick a framebuffer: format (byte 0 % 4), width and height (1...256 each).
/// The rest is a series of messages, each a 2-byte big-endian length and that many bytes (the last one
/// takes what is left), so a single input can drive a decoder through several updates of one stream.
struct FuzzInput {
    static let formats: [PixelFormat] = [.bgrx8888, .rgb565, .bgr233,
        PixelFormat(bitsPerPixel: 32, depth: 24, bigEndian: true, redMax: 255, greenMax: 255, blueMax: 255,
                    redShift: 16, greenShift: 8, blueShift: 0)]

    var format: PixelFormat
    var width: Int
    var height: Int
    var messages: [[UInt8]]

    init?(_ data: UnsafeRawBufferPointer) {
        guard data.count >= 5 else { return nil }
        format = Self.formats[Int(data[0]) % Self.formats.count]
        width = (Int(data[1]) << 8 | Int(data[2])) % 256 + 1
        height = (Int(data[3]) << 8 | Int(data[4])) % 256 + 1
        messages = []
        var p = 5
        while p < data.count {
            if data.count - p < 2 { messages.append(Array(data[p...])); break }
            let n = Int(data[p]) << 8 | Int(data[p + 1])
            p += 2
            let end = min(data.count, p + n)
            messages.append(Array(data[p..<end]))
            p = end
        }
    }

    /// The bytes that make this input (used to write seeds).
    static func encode(formatIndex: Int, width: Int, height: Int, messages: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [UInt8(formatIndex), UInt8((width - 1) >> 8), UInt8((width - 1) & 0xFF),
                            UInt8((height - 1) >> 8), UInt8((height - 1) & 0xFF)]
        for m in messages {
            let n = min(m.count, 0xFFFF)
            out += [UInt8(n >> 8), UInt8(n & 0xFF)] + m.prefix(n)
        }
        return out
    }
}
