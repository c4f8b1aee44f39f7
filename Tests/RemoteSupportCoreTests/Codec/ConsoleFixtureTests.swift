import Foundation
import Testing
@testable import RemoteSupportCore

/// Fixtures for the console's JavaScript viewer (`Tests/Console/unit/`), made by the Swift encoder so the
/// second implementation of the decoder is checked against the first.
///
/// With `RS_WRITE_CONSOLE_FIXTURES=1` the fixtures are encoded and written to `Tests/Console/fixtures/`;
/// without it the committed files are decoded with `UpdateDecoder` and compared to the pixels stored
/// beside them, so they cannot rot silently when the codec changes.
///
/// One fixture is a JSON object:
/// `{ name, width, height, pixelFormat: [16 bytes], copyRect, updates: [base64 FramebufferUpdate],
///    expected: [base64 raw-deflate RGBA after each update] }`.
/// The updates are consecutive messages of one encoder: one zlib stream, as in one screen generation.
/// RGBA is 8 bits a channel, alpha 255, each channel scaled as `(v * 255 + max / 2) / max`.
@Suite("Console viewer fixtures")
struct ConsoleFixtureTests {
    /// The end user's default pixel format: `32, 24, 0, 1, 255, 255, 255, 16, 8, 0` (BGRX).
    static let format = PixelFormat.bgrx8888

    struct Fixture: Codable {
        var name: String
        var width: Int
        var height: Int
        var pixelFormat: [UInt8]
        var copyRect: Bool
        var updates: [String]
        var expected: [String]
    }

    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()   // Codec
            .deletingLastPathComponent()                              // RemoteSupportCoreTests
            .deletingLastPathComponent()                              // Tests
            .appendingPathComponent("Console/fixtures")
    }

    @Test("committed fixtures decode to their stored pixels (RS_WRITE_CONSOLE_FIXTURES=1 writes them)")
    func fixtures() throws {
        if ProcessInfo.processInfo.environment["RS_WRITE_CONSOLE_FIXTURES"] == "1" {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            for fixture in try Self.makeAll() {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(fixture).write(to: Self.directory.appendingPathComponent("\(fixture.name).json"))
            }
        }
        if let size = ProcessInfo.processInfo.environment["RS_WRITE_CONSOLE_PERF_FIXTURE"] {
            // Not committed (megabytes): a whole desktop-sized frame for timing the JavaScript decoder,
            // written to the temporary directory (Tests/Console/unit/perf.test.js reads it from there).
            let parts = size.split(separator: "x").compactMap { Int($0) }
            let (w, h) = parts.count == 2 ? (parts[0], parts[1]) : (1920, 1080)
            let fixture = try Self.make(name: "perf-\(w)x\(h)", frames: [Scene.desktop(width: w, height: h, seed: 77)],
                                        encodings: [.zrle])
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rs-console-perf")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try JSONEncoder().encode(fixture).write(to: dir.appendingPathComponent("\(fixture.name).json"))
        }
        let names = ["gradient-text", "solid", "moved-region", "raw", "scroll"]
        for name in names {
            let data = try Data(contentsOf: Self.directory.appendingPathComponent("\(name).json"))
            let fixture = try JSONDecoder().decode(Fixture.self, from: data)
            try Self.check(fixture)
        }
    }

    // MARK: - Making

    static func makeAll() throws -> [Fixture] {
        // A gradient, "text", noise and palette pattern, then a small change (ZRLE, incremental).
        let a = Scene.desktop(width: 97, height: 61, seed: 1)
        let b = Scene.fill(a, Rect(x: 30, y: 20, width: 9, height: 5), red: 200, green: 10, blue: 60)
        let text = try make(name: "gradient-text", frames: [a, b], encodings: [.zrle])

        let flat = try Framebuffer(width: 70, height: 45, format: format)
        let solid = try make(name: "solid", frames: [Scene.fill(flat, flat.bounds, red: 30, green: 144, blue: 255)],
                             encodings: [.zrle])

        // A window dragged over a background: CopyRect plus the exposed background as ZRLE.
        let background = Scene.fill(try Framebuffer(width: 160, height: 112, format: format),
                                    Rect(x: 0, y: 0, width: 160, height: 112), red: 40, green: 90, blue: 140)
        let window = Scene.desktop(width: 160, height: 112, seed: 32)
        var before = background
        for y in 16..<80 { for x in 20..<100 { before.setPixel(x: x, y: y, window.pixel(x: x, y: y)) } }
        let after = Scene.move(before, Rect(x: 20, y: 16, width: 80, height: 64), dx: 29, dy: 17, background: background)
        let moved = try make(name: "moved-region", frames: [before, after], encodings: [.zrle, .copyRect])

        // Raw rectangles (a client that does not take ZRLE): a full update, then an incremental one.
        let c = Scene.desktop(width: 33, height: 21, seed: 9)
        let d = Scene.fill(c, Rect(x: 3, y: 4, width: 5, height: 6), red: 1, green: 2, blue: 3)
        let raw = try make(name: "raw", frames: [c, d], encodings: [.raw])

        // A vertical scroll: CopyRect with overlapping source and destination.
        let e = textPage(width: 128, height: 192, seed: 21)
        let f = Scene.scroll(e, top: 0, bottom: 192, lines: 23, fresh: textPage(width: 128, height: 192, seed: 22))
        let scroll = try make(name: "scroll", frames: [e, f], encodings: [.zrle, .copyRect])
        return [text, solid, moved, raw, scroll]
    }

    static func make(name: String, frames: [Framebuffer], encodings: [Encoding]) throws -> Fixture {
        let width = frames[0].width, height = frames[0].height
        let encoder = try UpdateEncoder(width: width, height: height, sourceFormat: format, clientFormat: format)
        encoder.setEncodings(encodings)
        let decoder = try UpdateDecoder(width: width, height: height, format: format)
        var updates: [String] = [], expected: [String] = []
        for (i, frame) in frames.enumerated() {
            let update = try encode(encoder, frame, incremental: i > 0)
            try decoder.apply(update.message)
            #expect(decoder.framebuffer.bytes == frame.bytes, "\(name): update \(i) decodes to the frame")
            if i > 0 && encodings.contains(.copyRect) {
                #expect(update.statistics.copyRectangles > 0, "\(name): the incremental update uses CopyRect")
            }
            updates.append(Data(update.message).base64EncodedString())
            expected.append(Data(deflateRaw(rgba(decoder.framebuffer))).base64EncodedString())
        }
        return Fixture(name: name, width: width, height: height, pixelFormat: format.rfbBytes,
                       copyRect: encodings.contains(.copyRect), updates: updates, expected: expected)
    }

    /// Dark "text" on a light page, two colours, every row different: compresses well, scrolls findably.
    static func textPage(width: Int, height: Int, seed: UInt64) -> Framebuffer {
        var fb = try! Framebuffer(width: width, height: height, format: format)
        var rng = TestRandom(seed: seed)
        let ink = format.pixel(red: 25, green: 25, blue: 60), paper = format.pixel(red: 250, green: 248, blue: 240)
        for y in 0..<height { for x in 0..<width { fb.setPixel(x: x, y: y, rng.below(5) == 0 ? ink : paper) } }
        return fb
    }

    // MARK: - Checking

    static func check(_ fixture: Fixture) throws {
        let format = try PixelFormat(rfbBytes: fixture.pixelFormat)
        let decoder = try UpdateDecoder(width: fixture.width, height: fixture.height, format: format)
        #expect(fixture.updates.count == fixture.expected.count)
        for (i, (update, expected)) in zip(fixture.updates, fixture.expected).enumerated() {
            try decoder.apply(Array(try #require(Data(base64Encoded: update))))
            let want = try inflateRaw(Array(try #require(Data(base64Encoded: expected))))
            #expect(rgba(decoder.framebuffer) == want, "\(fixture.name): update \(i)")
        }
    }

    // MARK: - Helpers

    static func rgba(_ fb: Framebuffer) -> [UInt8] {
        let f = fb.format
        func scale(_ v: UInt16, _ max: UInt16) -> UInt8 { UInt8((UInt32(v) * 255 + UInt32(max) / 2) / UInt32(max)) }
        var out = [UInt8](repeating: 255, count: fb.width * fb.height * 4)
        for y in 0..<fb.height {
            for x in 0..<fb.width {
                let c = fb.channels(x: x, y: y), o = (y * fb.width + x) * 4
                out[o] = scale(c.red, f.redMax)
                out[o + 1] = scale(c.green, f.greenMax)
                out[o + 2] = scale(c.blue, f.blueMax)
            }
        }
        return out
    }

    /// Raw deflate, ended by a sync flush (Node reads it with `inflateRawSync(..., {finishFlush: Z_SYNC_FLUSH})`).
    static func deflateRaw(_ bytes: [UInt8]) -> [UInt8] {
        let deflater = Deflater(level: 9)
        let out = ByteWriter()
        bytes.withUnsafeBytes { deflater.compress($0, flush: true, into: out) }
        return Array(UnsafeRawBufferPointer(start: out.base, count: out.count))
    }

    static func inflateRaw(_ bytes: [UInt8]) throws -> [UInt8] {
        let inflater = Inflater(windowBits: -15, endIsAllowed: true)
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        try bytes.withUnsafeBytes { input in
            inflater.begin(input)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try inflater.read(into: $0) }
                if n == 0 { break }
                result += chunk[0..<n]
            }
        }
        return result
    }
}
