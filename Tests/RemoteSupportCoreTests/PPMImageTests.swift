import Testing
@testable import RemoteSupportCore

@Suite("PPM images")
struct PPMImageTests {
    let small: [UInt8] = Array("P6\n# a comment\n2 1\n255\n".utf8) + [255, 0, 0, 0, 0, 255]

    @Test("a P6 file decodes, and PPM output decodes back")
    func decode() throws {
        let fb = try PPMImage.decode(small)
        #expect(fb.width == 2 && fb.height == 1)
        #expect(fb.pixel(x: 0, y: 0) == 0xFF0000)
        #expect(fb.pixel(x: 1, y: 0) == 0x0000FF)
        let again = try PPMImage.decode(PPMImage.encode(fb))
        #expect(again.bytes == fb.bytes)
    }

    @Test("a gzipped P6 file decodes")
    func gzip() throws {
        // gzip -9n of `small`, made once with the gzip tool.
        let gz: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x0b, 0x30,
                           0xe3, 0x52, 0x56, 0x48, 0x54, 0x48, 0xce, 0xcf, 0xcd, 0x4d, 0xcd, 0x2b,
                           0xe1, 0x32, 0x52, 0x30, 0xe4, 0x32, 0x32, 0x35, 0xe5, 0xfa, 0xcf, 0x00,
                           0x04, 0xff, 0x01, 0xfd, 0x6f, 0x9c, 0xaa, 0x1d, 0x00, 0x00, 0x00]
        let fb = try PPMImage.decode(gz)
        #expect(fb.pixel(x: 0, y: 0) == 0xFF0000)
    }

    @Test("bad files are clear errors", arguments: [
        ("P3\n1 1\n255\n", CodecError.Code.invalidImage),
        ("P6\n", .truncated),
        ("P6\n0 1\n255\n", .invalidImage),
        ("P6\n20000 1\n255\n", .invalidImage),
        ("P6\n1 1\n65535\n", .invalidImage),
        ("P6\n1 1\n255\nab", .truncated),
        ("P6\nx 1\n255\n", .invalidImage),
        ("P6\n99999999999999999999 1\n255\n", .invalidImage),
    ])
    func bad(text: String, code: CodecError.Code) {
        #expect(throws: CodecError(code)) { try PPMImage.decode(Array(text.utf8)) }
    }

    @Test("a truncated or corrupt gzip is an error")
    func badGzip() {
        #expect(throws: CodecError.self) { try PPMImage.decode([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 2, 3, 0x0b]) }
        #expect(throws: CodecError.self) { try PPMImage.decode([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 2, 3, 0xff, 0xff, 0xff]) }
    }
}
