#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The changed part of one 64x64 grid tile: a bounding box in framebuffer coordinates, or empty.
struct TileDamage: Equatable {
    var minX = Int32.max
    var minY = Int32.max
    var maxX = Int32.min   // exclusive
    var maxY = Int32.min   // exclusive

    var isEmpty: Bool { minX >= maxX }
    static let none = TileDamage()

    mutating func add(x0: Int, x1: Int, y: Int) {
        minX = min(minX, Int32(x0))
        maxX = max(maxX, Int32(x1))
        minY = min(minY, Int32(y))
        maxY = max(maxY, Int32(y + 1))
    }

    var rect: Rect { Rect(x: Int(minX), y: Int(minY), width: Int(maxX - minX), height: Int(maxY - minY)) }
}

/// The grid of 64x64 tiles over a framebuffer, and which of them changed against a reference.
struct TileGrid {
    let width: Int
    let height: Int
    var columns: Int { (width + zrleTileSize - 1) / zrleTileSize }
    var rows: Int { (height + zrleTileSize - 1) / zrleTileSize }
    var count: Int { columns * rows }

    /// Compares `frame` with `reference` (same format and size, rows `referenceStride` apart) inside
    /// `region`, tile by tile, down to each tile's changed bounding box.
    ///
    /// An unchanged frame costs one memcmp per row: rows are compared whole first, and only a row that
    /// differs is looked at tile by tile and then pixel by pixel at the tile's changed ends.
    func damage(_ frame: FrameView, reference: UnsafeRawPointer, referenceStride: Int, in region: Rect,
                tiles: (Int) -> Bool = { _ in true }, into damage: inout [TileDamage]) {
        let bpp = frame.format.bytesPerPixel
        let rowBytes = region.width * bpp
        let firstColumn = region.x / zrleTileSize
        let lastColumn = (region.maxX - 1) / zrleTileSize
        for y in region.y..<region.maxY {
            let new = frame.row(y) + region.x * bpp
            let old = reference + y * referenceStride + region.x * bpp
            if memcmp(new, old, rowBytes) == 0 { continue }
            let tileRow = y / zrleTileSize
            for column in firstColumn...lastColumn {
                let index = tileRow * columns + column
                guard tiles(index) else { continue }
                let x0 = max(column * zrleTileSize, region.x)
                let x1 = min(column * zrleTileSize + zrleTileSize, region.maxX)
                let a = frame.row(y) + x0 * bpp
                let b = reference + y * referenceStride + x0 * bpp
                let count = (x1 - x0) * bpp
                if memcmp(a, b, count) == 0 { continue }
                // Narrow to the first and last differing pixel, unless the box already covers them.
                var first = 0
                while samePixel(a + first * bpp, b + first * bpp, bpp) { first += 1 }
                var last = x1 - x0 - 1
                while samePixel(a + last * bpp, b + last * bpp, bpp) { last -= 1 }
                damage[index].add(x0: x0 + first, x1: x0 + last + 1, y: y)
            }
        }
    }
}

@inline(__always) func samePixel(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ bytesPerPixel: Int) -> Bool {
    switch bytesPerPixel {
    case 4: a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
    case 2: a.loadUnaligned(as: UInt16.self) == b.loadUnaligned(as: UInt16.self)
    default: a.load(as: UInt8.self) == b.load(as: UInt8.self)
    }
}

extension TileGrid {
    /// Rectangles that cover the damage: each run of neighbouring damaged tiles in a tile row becomes
    /// the bounding box of their changed pixels.
    func rectangles(from damage: [TileDamage]) -> [Rect] {
        var result: [Rect] = []
        for row in 0..<rows {
            var run = TileDamage.none
            for column in 0...columns {
                let d = column < columns ? damage[row * columns + column] : .none
                if d.isEmpty {
                    if !run.isEmpty { result.append(run.rect) }
                    run = .none
                } else {
                    run.minX = min(run.minX, d.minX)
                    run.maxX = max(run.maxX, d.maxX)
                    run.minY = min(run.minY, d.minY)
                    run.maxY = max(run.maxY, d.maxY)
                }
            }
        }
        return result
    }

    /// Calls `body` with the index of every tile that `rect` touches.
    func forEachTile(in rect: Rect, _ body: (Int) -> Void) {
        guard !rect.isEmpty else { return }
        for row in (rect.y / zrleTileSize)...((rect.maxY - 1) / zrleTileSize) {
            for column in (rect.x / zrleTileSize)...((rect.maxX - 1) / zrleTileSize) {
                body(row * columns + column)
            }
        }
    }
}
