// make-seeds DIR: writes seed inputs for the fuzz targets, made by the real encoder, so the fuzzer starts
// from valid streams (every subencoding, CopyRect, several updates of one zlib stream) and mutates them.
import Foundation


func scene(_ w: Int, _ h: Int, _ seed: Int, _ format: PixelFormat) -> Framebuffer {
    var fb = try! Framebuffer(width: w, height: h, format: format)
    var s = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1
    for y in 0..<h {
        for x in 0..<w {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            let kind = (x / 16 + y / 16 + seed) % 4
            let v: (UInt8, UInt8, UInt8) = switch kind {
            case 0: (200, 200, 200)
            case 1: (UInt8(x & 0xFF), UInt8(y & 0xFF), 7)
            case 2: (UInt8(truncatingIfNeeded: s), UInt8(truncatingIfNeeded: s >> 8), UInt8(truncatingIfNeeded: s >> 16))
            default: (UInt8((x / 2 % 5) * 50), 30, UInt8((y % 3) * 80))
            }
            fb.setPixel(x: x, y: y, format.pixel(red: v.0, green: v.1, blue: v.2))
        }
    }
    return fb
}

let dir = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "seeds"
try FileManager.default.createDirectory(atPath: dir + "/decoder", withIntermediateDirectories: true)
try FileManager.default.createDirectory(atPath: dir + "/ppm", withIntermediateDirectories: true)
var n = 0
for (fi, format) in FuzzInput.formats.enumerated() {
    for (w, h) in [(1, 1), (17, 9), (64, 64), (70, 66), (130, 40)] {
        let encoder = try UpdateEncoder(width: w, height: h, sourceFormat: .bgrx8888, clientFormat: format)
        encoder.setEncodings(fi % 2 == 0 ? [.zrle, .copyRect] : [.zrle, .copyRect, .raw])
        var messages: [[UInt8]] = []
        let a = scene(w, h, n, .bgrx8888)
        messages.append(try a.withView { try encoder.encode($0, incremental: false) }.message)
        // A scrolled copy of the same frame, then a small change: CopyRect and a trimmed rectangle.
        var b = a
        for y in 0..<h { for x in 0..<w { b.setPixel(x: x, y: y, a.pixel(x: x, y: min(h - 1, y + 5))) } }
        messages.append(try b.withView { try encoder.encode($0, incremental: true) }.message)
        b.setPixel(x: w / 2, y: h / 2, 0x123456)
        messages.append(try b.withView { try encoder.encode($0, incremental: true) }.message)
        let raw = try UpdateEncoder(width: w, height: h, sourceFormat: .bgrx8888, clientFormat: format)
        raw.setEncodings([.raw])
        let rawMessage = try a.withView { try raw.encode($0, incremental: false) }.message
        let seeds = [FuzzInput.encode(formatIndex: fi, width: w, height: h, messages: messages),
                     FuzzInput.encode(formatIndex: fi, width: w, height: h, messages: [rawMessage])]
        for s in seeds where s.count < 60000 {
            _ = FileManager.default.createFile(atPath: "\(dir)/decoder/seed-\(n)", contents: Data(s))
            n += 1
        }
        if fi == 0 {
            _ = FileManager.default.createFile(atPath: "\(dir)/ppm/seed-\(w)x\(h)", contents: Data(PPMImage.encode(a)))
        }
    }
}
print("wrote \(n) decoder seeds to \(dir)")

// Link seeds: real links signed with the fuzz target's key (LinkFuzz.swift), and text for the other parsers.
try FileManager.default.createDirectory(atPath: dir + "/link", withIntermediateDirectories: true)
for (index, seed) in LinkFuzz.seeds().enumerated() {
    _ = FileManager.default.createFile(atPath: "\(dir)/link/seed-\(index)", contents: Data(seed))
}

// Protocol seeds: what each side of real sessions received (Seeds/ProtocolSeeds.swift).
try ProtocolSeeds.write(to: dir)
