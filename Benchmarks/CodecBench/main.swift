// codec-bench: how fast and how small the tile codec is on real frames, measured beside baselines run on
// the same bytes in the same process (zlib compress2 level 1, memcmp). Not a test: read the ratios.
//
//   swift run -c release codec-bench [--threads N] [--level L] [--repeat R] [DIR]
//
// DIR holds NAME.ppm[.gz] stills and NAME-000.ppm[.gz]... sequences (default ../shared/frames).

import CZlib
import Foundation
import RemoteSupportCore
import RemoteSupportDispatch

struct Options {
    var directory = "../shared/frames"
    var threads = 2
    var level = 6
    var repeats = 5
    var verbose = false
    var motion = true
    var sparseLevel = 4
    /// Only encode full frames of the first file this many times (for profilers).
    var profileEncode = 0
    /// Only decode a full frame of the first file this many times (for profilers).
    var profileDecode = 0
}

func parseOptions() -> Options {
    var o = Options()
    var args = CommandLine.arguments.dropFirst()
    while let a = args.popFirst() {
        switch a {
        case "--threads": o.threads = Int(args.popFirst() ?? "") ?? o.threads
        case "--level": o.level = Int(args.popFirst() ?? "") ?? o.level
        case "--verbose": o.verbose = true
        case "--no-motion": o.motion = false
        case "--sparse-level": o.sparseLevel = Int(args.popFirst() ?? "") ?? o.sparseLevel
        case "--profile-encode": o.profileEncode = Int(args.popFirst() ?? "") ?? 100
        case "--profile-decode": o.profileDecode = Int(args.popFirst() ?? "") ?? 100
        case "--repeat": o.repeats = Int(args.popFirst() ?? "") ?? o.repeats
        default: o.directory = a
        }
    }
    return o
}

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) * 1000 + Double(t.tv_nsec) / 1e6
}

/// Median milliseconds of `repeats` runs of `body`.
func measure(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<max(1, repeats) {
        let t0 = now()
        try body()
        times.append(now() - t0)
    }
    return times.sorted()[times.count / 2]
}

nonisolated(unsafe) let options = parseOptions()
let verbose = options.verbose
let parallel = dispatchParallelFor
let encoderOptions: EncoderOptions = {
    var o = EncoderOptions()
    o.workers = options.threads
    o.compressionLevel = options.level
    o.detectMotion = options.motion
    o.sparseCompressionLevel = options.sparseLevel
    return o
}()

func makeEncoder(_ fb: Framebuffer) throws -> UpdateEncoder {
    let e = try UpdateEncoder(width: fb.width, height: fb.height, sourceFormat: fb.format, clientFormat: .bgrx8888,
                              options: encoderOptions, parallel: options.threads > 1 ? parallel : nil)
    e.setEncodings([.zrle, .copyRect])
    return e
}

func load(_ path: String) throws -> Framebuffer {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return try PPMImage.decode([UInt8](data))
}

let files = try FileManager.default.contentsOfDirectory(atPath: options.directory)
    .filter { $0.hasSuffix(".ppm") || $0.hasSuffix(".ppm.gz") }.sorted()
var stills: [String] = []
var sequences: [String: [String]] = [:]
for f in files {
    let name = f.replacingOccurrences(of: ".gz", with: "").replacingOccurrences(of: ".ppm", with: "")
    if let dash = name.lastIndex(of: "-"), Int(name[name.index(after: dash)...]) != nil {
        sequences[String(name[..<dash]), default: []].append(f)
    } else {
        stills.append(f)
    }
}

if options.profileEncode > 0, let f = (stills + sequences.values.flatMap { $0 }).first {
    let fb = try load(options.directory + "/" + f)
    let e = try makeEncoder(fb)
    let t0 = now()
    try fb.withView { view in
        for _ in 0..<options.profileEncode { _ = try e.encode(view, incremental: false) }
    }
    print(String(format: "%@: %.2f ms per full-frame encode", f, (now() - t0) / Double(options.profileEncode)))
    exit(0)
}

if options.profileDecode > 0, let f = (stills + sequences.values.flatMap { $0 }).first {
    let fb = try load(options.directory + "/" + f)
    let message = try fb.withView { try makeEncoder(fb).encode($0, incremental: false) }.message
    var total = 0.0
    for _ in 0..<options.profileDecode {
        let d = try UpdateDecoder(width: fb.width, height: fb.height, format: .bgrx8888)
        let t0 = now()
        try d.apply(message)
        total += now() - t0
    }
    print(String(format: "%@: %.2f ms per full-frame decode", f, total / Double(options.profileDecode)))
    exit(0)
}

print("codec-bench: \(options.directory), threads \(options.threads), zlib level \(options.level) (sparse updates \(options.sparseLevel)), median of \(options.repeats)")
print("")
print("full frames            bytes   encode ms  compress2(1) ms  ratio   decode ms  decode Mpx/s")
var totalPixels = 0.0, totalDecodeMs = 0.0
for f in stills + sequences.keys.sorted().map({ sequences[$0]![0] }) {
    let fb = try load(options.directory + "/" + f)
    var bytes = 0
    var message: [UInt8] = []
    let encodeMs = try fb.withView { view in
        try measure(options.repeats) {
            // A new encoder each time: a full frame on a fresh stream, as a new client would get.
            let e = try makeEncoder(fb)
            let u = try e.encode(view, incremental: false)
            bytes = u.message.count
            message = u.message
            if verbose { print("    uncompressed \(u.statistics.uncompressedBytes) dense \(u.statistics.denseBytes) level \(u.statistics.compressionLevel) subencodings \(u.statistics.subencodings)") }
        }
    }
    // The floor: zlib level 1 over the raw frame, same bytes in memory.
    var bound = compressBound(uLong(fb.bytes.count))
    var out = [UInt8](repeating: 0, count: Int(bound))
    let zlibMs = measure(options.repeats) {
        bound = compressBound(uLong(fb.bytes.count))
        _ = compress2(&out, &bound, fb.bytes, uLong(fb.bytes.count), 1)
    }
    // A fresh decoder each time (a full frame starts a stream), made outside the timing.
    var decodeTimes: [Double] = []
    for _ in 0..<options.repeats {
        let d = try UpdateDecoder(width: fb.width, height: fb.height, format: .bgrx8888)
        let t0 = now()
        try d.apply(message)
        decodeTimes.append(now() - t0)
    }
    let decodeMs = decodeTimes.sorted()[decodeTimes.count / 2]
    let mpx = Double(fb.width * fb.height) / 1e6
    totalPixels += mpx
    totalDecodeMs += decodeMs
    print(String(format: "%-22@ %8d  %8.2f  %13.2f  %8.2f  %8.2f  %10.0f", f as NSString, bytes, encodeMs, zlibMs,
                 encodeMs / zlibMs, decodeMs, mpx / (decodeMs / 1000)))
}
print(String(format: "decode overall: %.0f Mpx/s", totalPixels / (totalDecodeMs / 1000)))

print("")
print("sequences (incremental)  frames  bytes total  encode ms total  copyrects  encoded Mpx")
for name in sequences.keys.sorted() {
    let frames = try sequences[name]!.map { try load(options.directory + "/" + $0) }
    var bytes = 0, copies = 0, pixels = 0
    let e = try makeEncoder(frames[0])
    _ = try frames[0].withView { try e.encode($0, incremental: false) }
    var ms = 0.0
    for fb in frames.dropFirst() {
        try fb.withView { view in
            let t0 = now()
            let u = try e.encode(view, incremental: true)
            ms += now() - t0
            bytes += u.message.count
            if verbose {
                print("   ", u.message.count, "bytes", u.statistics.copyRectangles, "copies", u.statistics.zrleRectangles, "rects",
                      u.statistics.encodedPixels, "px", String(format: "%.2f ms", now() - t0))
                for c in u.copies { print("      copy \(c.source) -> \(c.destination)") }
                for r in u.rectangles { print("      rect \(r)") }
            }
            copies += u.statistics.copyRectangles
            pixels += u.statistics.encodedPixels
        }
    }
    print(String(format: "%-24@ %6d  %11d  %15.2f  %9d  %11.2f", name as NSString, frames.count - 1, bytes, ms, copies, Double(pixels) / 1e6))
}

print("")
print("unchanged frame: incremental encode vs memcmp of the frame")
if let f = stills.first {
    let fb = try load(options.directory + "/" + f)
    let copy = fb.bytes.map { $0 }   // a real second buffer (an Array copy would share storage)
    let e = try makeEncoder(fb)
    _ = try fb.withView { try e.encode($0, incremental: false) }
    let memcmpMs = measure(options.repeats * 4) {
        let r = fb.bytes.withUnsafeBytes { a in copy.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, a.count) } }
        precondition(r == 0)
    }
    let unchangedMs = try fb.withView { view in
        try measure(options.repeats * 4) { let u = try e.encode(view, incremental: true); precondition(u.isEmpty) }
    }
    print(String(format: "memcmp %.3f ms, unchanged update %.3f ms, ratio %.2f", memcmpMs, unchangedMs, unchangedMs / memcmpMs))
}
