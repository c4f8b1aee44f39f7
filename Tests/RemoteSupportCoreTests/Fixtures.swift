@testable import RemoteSupportCore

/// A small deterministic random generator (xorshift64*), so fixtures are the same on every run.
struct TestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Synthetic desktop-like frames: flat backgrounds, "text" of a few colours, gradients and noise, so every
/// ZRLE subencoding gets used.
enum Scene {
    static func desktop(width: Int, height: Int, seed: UInt64, format: PixelFormat = .bgrx8888) -> Framebuffer {
        var fb = try! Framebuffer(width: width, height: height, format: format)
        var rng = TestRandom(seed: seed)
        for y in 0..<height {
            for x in 0..<width {
                let region = (x * 4 / max(width, 1)) + 4 * (y * 2 / max(height, 1))
                let (r, g, b): (UInt8, UInt8, UInt8)
                switch region % 4 {
                case 0: // flat with sparse "text" in two colours
                    let ink = y < height / 4 && rng.below(9) == 0
                    (r, g, b) = ink ? (20, 20, UInt8(30 + (x & 1) * 40)) : (240, 240, 235)
                case 1: // gradient
                    (r, g, b) = (UInt8(truncatingIfNeeded: x), UInt8(truncatingIfNeeded: y * 2), 128)
                case 2: // noise (photo-like)
                    (r, g, b) = (UInt8(truncatingIfNeeded: rng.next()), UInt8(truncatingIfNeeded: rng.next()), UInt8(truncatingIfNeeded: rng.next()))
                default: // 40-colour palette pattern with runs
                    let c = UInt8(((x / 3) + (y / 2) * 7) % 40)
                    (r, g, b) = (c &* 6, 255 &- c &* 5, c &* 3)
                }
                fb.setPixel(x: x, y: y, format.pixel(red: r, green: g, blue: b))
            }
        }
        return fb
    }

    /// `fb` with a rectangle filled with one colour.
    static func fill(_ fb: Framebuffer, _ r: Rect, red: UInt8, green: UInt8, blue: UInt8) -> Framebuffer {
        var out = fb
        let v = fb.format.pixel(red: red, green: green, blue: blue)
        for y in r.y..<r.maxY { for x in r.x..<r.maxX { out.setPixel(x: x, y: y, v) } }
        return out
    }

    /// `fb` with the pixels of `area` moved by (dx, dy), the exposed part filled from `background`.
    static func move(_ fb: Framebuffer, _ area: Rect, dx: Int, dy: Int, background: Framebuffer) -> Framebuffer {
        var out = background
        for y in 0..<fb.height {
            for x in 0..<fb.width {
                let inside = area.contains(Rect(x: x, y: y, width: 1, height: 1))
                if !inside { out.setPixel(x: x, y: y, fb.pixel(x: x, y: y)) }
            }
        }
        for y in area.y..<area.maxY {
            for x in area.x..<area.maxX {
                let tx = x + dx, ty = y + dy
                if tx >= 0, ty >= 0, tx < fb.width, ty < fb.height { out.setPixel(x: tx, y: ty, fb.pixel(x: x, y: y)) }
            }
        }
        return out
    }

    /// `fb` scrolled up by `lines` rows inside rows `top..<bottom`, new rows taken from `fresh`.
    static func scroll(_ fb: Framebuffer, top: Int, bottom: Int, lines: Int, fresh: Framebuffer) -> Framebuffer {
        var out = fb
        for y in top..<bottom {
            for x in 0..<fb.width {
                let from = y + lines
                out.setPixel(x: x, y: y, from < bottom ? fb.pixel(x: x, y: from) : fresh.pixel(x: x, y: y))
            }
        }
        return out
    }

    /// What a client of `format` should hold for `source` (each channel scaled as the encoder does).
    static func expected(_ source: Framebuffer, as format: PixelFormat) -> Framebuffer {
        var out = try! Framebuffer(width: source.width, height: source.height, format: format)
        for y in 0..<source.height {
            for x in 0..<source.width {
                let c = source.channels(x: x, y: y)
                let s = source.format
                func scale(_ v: UInt16, _ smax: UInt16, _ dmax: UInt16) -> UInt32 {
                    (UInt32(v) * UInt32(dmax) + UInt32(smax) / 2) / UInt32(smax)
                }
                let v = scale(c.red, s.redMax, format.redMax) << UInt32(format.redShift)
                    | scale(c.green, s.greenMax, format.greenMax) << UInt32(format.greenShift)
                    | scale(c.blue, s.blueMax, format.blueMax) << UInt32(format.blueShift)
                out.setPixel(x: x, y: y, v)
            }
        }
        return out
    }
}

/// Runs the body for every index, in reverse order, so tests catch any dependence on order.
let reverseParallel: ParallelFor = { n, body in for i in (0..<n).reversed() { body(i) } }

func encode(_ encoder: UpdateEncoder, _ fb: Framebuffer, incremental: Bool, region: Rect? = nil) throws -> EncodedUpdate {
    try fb.withView { try encoder.encode($0, region: region, incremental: incremental) }
}
