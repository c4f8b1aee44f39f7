import Foundation
import RemoteSupportCore

/// A made-up desktop for machines without a display (`--synthetic`): a gradient with a grid and a few
/// "windows" of text-like stripes, the same for the same size every time (so a test can compare what the
/// agent sees with what was sent). It shows the agent's input: a click leaves a cross where it landed, a
/// key press adds a block to a line of "typed" blocks. `animate` moves a square every frame, for
/// measuring frame rates.
final class SyntheticScreen: ScreenSource, @unchecked Sendable {
    let width: Int
    let height: Int
    private let animate: Bool
    private var pixels: Framebuffer
    private var frameNumber = 0
    private var typed = 0
    private var buttons: UInt16 = 0
    private let lock = NSLock()
    /// Goes up at every change (what has been shared is compared with it).
    private(set) var version = 1

    init(width: Int, height: Int, animate: Bool) throws {
        self.width = width
        self.height = height
        self.animate = animate
        pixels = try Framebuffer(width: width, height: height, format: .bgrx8888)
        drawDesktop()
    }

    func withFrame<R>(_ body: (FrameView, Int) throws -> R) rethrows -> R {
        try lock.withLock {
            if animate {
                frameNumber += 1
                drawMovingSquare()
                version += 1
            }
            return try pixels.withView { try body($0, version) }
        }
    }

    /// A press leaves a cross; the wheel changes nothing here.
    func pointer(x: Int, y: Int, buttons newButtons: UInt16, wheelX: Int, wheelY: Int) {
        lock.withLock {
            if buttons == 0 && newButtons != 0 {
                for d in -6...6 {
                    put(x + d, y, 0xE0, 0x20, 0x30)
                    put(x, y + d, 0xE0, 0x20, 0x30)
                }
                version += 1
            }
            buttons = newButtons
        }
    }

    func key(keysym: UInt32, down: Bool) {
        guard down else { return }
        lock.withLock {
            let x0 = 40 + (typed % 60) * 10, y0 = height - 40 - (typed / 60 % 4) * 16
            let r = UInt8(truncatingIfNeeded: keysym &* 67), g = UInt8(truncatingIfNeeded: keysym &* 131), b = UInt8(truncatingIfNeeded: keysym &* 29)
            fill(x: x0, y: y0, width: 8, height: 12, r | 0x40, g | 0x40, b | 0x40)
            typed += 1
            version += 1
        }
    }

    // MARK: Drawing (BGRX bytes)

    private func drawDesktop() {
        for y in 0..<height {
            for x in 0..<width {
                let grid = x % 64 == 0 || y % 64 == 0
                let r = UInt8(30 + 60 * y / max(1, height)), g = UInt8(60 + 80 * y / max(1, height)), b = UInt8(110 + 100 * x / max(1, width))
                if grid { put(x, y, r &+ 24, g &+ 24, b &+ 24) } else { put(x, y, r, g, b) }
            }
        }
        // Two windows with a title bar and lines of "text".
        for (wx, wy, ww, wh) in [(width / 12, height / 10, width / 2, height / 2), (width / 2, height / 3, width * 2 / 5, height / 2)] {
            fill(x: wx, y: wy, width: ww, height: wh, 0xF4, 0xF5, 0xF7)
            fill(x: wx, y: wy, width: ww, height: 22, 0x2B, 0x3A, 0x55)
            var line = 0
            for ly in stride(from: wy + 34, to: wy + wh - 12, by: 14) {
                var lx = wx + 12
                var word = 0
                while lx < wx + ww - 40 {
                    let length = 12 + (line * 7 + word * 13) % 40
                    fill(x: lx, y: ly, width: min(length, wx + ww - 12 - lx), height: 7, 0x40, 0x44, 0x4C)
                    lx += length + 6
                    word += 1
                }
                line += 1
            }
        }
    }

    private func drawMovingSquare() {
        let side = 48
        let span = max(1, width - side)
        let previous = (frameNumber - 1) * 8 % span, now = frameNumber * 8 % span
        fill(x: previous, y: height / 2 - side / 2, width: side, height: side, 0x30, 0x30, 0x30)
        fill(x: now, y: height / 2 - side / 2, width: side, height: side, 0xF0, 0xC0, 0x20)
    }

    private func fill(x: Int, y: Int, width w: Int, height h: Int, _ r: UInt8, _ g: UInt8, _ b: UInt8) {
        for yy in max(0, y)..<min(height, y + h) {
            for xx in max(0, x)..<min(width, x + w) { put(xx, yy, r, g, b) }
        }
    }

    @inline(__always) private func put(_ x: Int, _ y: Int, _ r: UInt8, _ g: UInt8, _ b: UInt8) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 4
        pixels.bytes[i] = b
        pixels.bytes[i + 1] = g
        pixels.bytes[i + 2] = r
        pixels.bytes[i + 3] = 0
    }
}
