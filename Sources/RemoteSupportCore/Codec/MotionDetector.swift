#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds content that moved between the client's framebuffer (the reference) and a new frame, so it can
/// be sent as CopyRect instead of pixels: scrolls (a terminal, a page body beside a fixed sidebar) and
/// dragged windows.
///
/// 1. Candidate motion vectors. Vertical: per 64-pixel column band, a sampled fingerprint of every row
///    of the reference; each distinctive changed row of the new frame that matches a unique reference row
///    votes for its vertical offset. Two-dimensional: a few 16-pixel "needles" from changed tiles are
///    looked for in the reference within ±`searchRange` rows; their offsets vote.
/// 2. Verification, exact: a changed tile moved by (dx, dy) if it equals the reference at the offset.
/// 3. Matched tiles merge into rectangles, which then grow pixel by pixel while the content still
///    matches, so a moved window is covered up to its edges.
/// Everything found is exact; the heuristics only decide what is tried.
struct MotionDetector {
    let grid: TileGrid
    var searchRange = 160
    var maximumCandidates = 3
    var maximumBands = 8

    private struct Vector: Hashable {
        var dx: Int
        var dy: Int
    }

    func find(_ frame: FrameView, reference: UnsafeRawPointer, damage: [TileDamage]) -> [CopyRectangle] {
        let damaged = damage.indices.filter { !damage[$0].isEmpty }
        guard damaged.count >= 4 else { return [] }
        let ref = PixelRows(base: reference, stride: frame.width * frame.format.bytesPerPixel)
        let new = PixelRows(base: frame.base, stride: frame.stride)
        let bpp = frame.format.bytesPerPixel
        var claimed = [Bool](repeating: false, count: grid.count)
        var copies: [CopyRectangle] = []

        var tried = Set<Vector>()
        for pass in 0..<2 {
            let remaining = damaged.filter { !claimed[$0] }
            // The 2-D search is the costly one: skip it when the vertical pass explained most changes.
            guard remaining.count >= 4, pass == 0 || remaining.count * 4 >= damaged.count else { break }
            let candidates = pass == 0
                ? verticalCandidates(new, ref, bpp: bpp, damage: damage)
                : needleCandidates(new, ref, bpp: bpp, damage: damage, tiles: remaining)
            for v in candidates where !tried.contains(v) {
                tried.insert(v)
                var matched: [Int] = []
                for t in damaged where !claimed[t] && tileMoved(t, by: v, new, ref, bpp: bpp) {
                    matched.append(t)
                }
                guard !matched.isEmpty else { continue }
                for t in matched { claimed[t] = true }
                // Grown rectangles must not overlap any other destination: the client applies copies in
                // order, so an overlap would change a later copy's source.
                var rects = mergeTiles(matched)
                for i in rects.indices {
                    let others = copies.map(\.destination) + rects.indices.filter { $0 != i }.map { rects[$0] }
                    rects[i] = grow(rects[i], by: v, new, ref, bpp: bpp, avoiding: others)
                }
                // Order as memmove does: a copy must not write where a later one still reads.
                rects.sort { a, b in
                    if a.y != b.y { return v.dy < 0 ? a.y < b.y : a.y > b.y }
                    return v.dx < 0 ? a.x < b.x : a.x > b.x
                }
                for r in rects {
                    copies.append(CopyRectangle(destination: r, sourceX: r.x - v.dx, sourceY: r.y - v.dy))
                }
            }
        }
        return copies
    }

    // MARK: - Candidates

    /// Vertical offsets voted for by rows that moved within a column band. Up to `maximumBands` bands
    /// spread over the changed columns are enough to find a scroll; verification does the rest.
    private func verticalCandidates(_ new: PixelRows, _ ref: PixelRows, bpp: Int, damage: [TileDamage]) -> [Vector] {
        let height = grid.height
        var changedColumns: [Int] = []
        for column in 0..<grid.columns {
            var rows = 0
            for row in 0..<grid.rows where !damage[row * grid.columns + column].isEmpty { rows += 1 }
            if rows >= 2 { changedColumns.append(column) }
        }
        guard !changedColumns.isEmpty else { return [] }
        let step = max(1, changedColumns.count / maximumBands)
        var table = FingerprintTable(capacity: height * 2)
        // votes[dy + height] counts rows that moved by dy.
        var votes = [Int32](repeating: 0, count: 2 * height + 1)
        for column in stride(from: 0, to: changedColumns.count, by: step).map({ changedColumns[$0] }) {
            let x0 = column * zrleTileSize
            let bandWidth = min(zrleTileSize, grid.width - x0)
            table.clear()
            for y in 0..<height {
                if let f = fingerprint(ref, x: x0, y: y, width: bandWidth, bpp: bpp) { table.insert(f, row: y) }
            }
            for row in 0..<grid.rows {
                let d = damage[row * grid.columns + column]
                guard !d.isEmpty else { continue }
                for y in Int(d.minY)..<Int(d.maxY) {
                    guard let f = fingerprint(new, x: x0, y: y, width: bandWidth, bpp: bpp),
                          let source = table.uniqueRow(f), source != y else { continue }
                    votes[y - source + height] += 1
                }
            }
        }
        var best: [(votes: Int32, dy: Int)] = []
        for (i, v) in votes.enumerated() where v >= 8 { best.append((v, i - height)) }
        return best.sorted { $0.votes > $1.votes }.prefix(maximumCandidates).map { Vector(dx: 0, dy: $0.dy) }
    }

    /// A hash of 16 pixels sampled across a band row; nil for a row of one colour (it matches anywhere).
    private func fingerprint(_ f: PixelRows, x: Int, y: Int, width: Int, bpp: Int) -> UInt64? {
        let row = f.base + y * f.stride + x * bpp
        let step = max(1, width / 16)
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        let first = loadRaw(row, bpp)
        var uniform = true
        var i = 0
        while i < width {
            let v = loadRaw(row + i * bpp, bpp)
            uniform = uniform && v == first
            h = (h ^ UInt64(v)) &* 0x100_0000_01b3
            i += step
        }
        return uniform ? nil : h
    }

    /// Offsets at which short runs of changed pixels reappear in the reference nearby.
    private func needleCandidates(_ new: PixelRows, _ ref: PixelRows, bpp: Int, damage: [TileDamage], tiles: [Int]) -> [Vector] {
        let needleLength = 16
        guard grid.width >= needleLength else { return [] }
        var votes: [Vector: Int] = [:]
        // Up to 8 needles from tiles spread over the damage.
        let picks = stride(from: 0, to: tiles.count, by: max(1, tiles.count / 8)).prefix(8).map { tiles[$0] }
        for t in picks {
            let d = damage[t]
            guard let (nx, ny) = needle(in: d.rect, new, bpp: bpp, length: needleLength) else { continue }
            let needlePtr = new.base + ny * new.stride + nx * bpp
            let firstPixel = loadRaw(needlePtr, bpp)
            var found: [Vector] = []
            // Windows move by less than `searchRange` between frames: look that far each way.
            let lastX = min(grid.width - needleLength, nx + searchRange)
            search: for y in max(0, ny - searchRange)...min(grid.height - 1, ny + searchRange) {
                let row = ref.base + y * ref.stride
                var x = max(0, nx - searchRange)
                while x <= lastX {
                    if loadRaw(row + x * bpp, bpp) == firstPixel && memcmp(row + x * bpp, needlePtr, needleLength * bpp) == 0 {
                        found.append(Vector(dx: nx - x, dy: ny - y))
                        if found.count > 4 { break search }
                    }
                    x += 1
                }
            }
            // A needle found in many places says nothing; (0, 0) is no motion.
            guard found.count <= 4 else { continue }
            for v in found where v != Vector(dx: 0, dy: 0) { votes[v, default: 0] += 1 }
            if votes.values.contains(where: { $0 >= 3 }) { break }   // clear enough
        }
        return votes.filter { $0.value >= 2 }.sorted { $0.value > $1.value }.prefix(maximumCandidates).map(\.key)
    }

    /// A position inside `area` whose next `length` pixels hold at least three colours.
    private func needle(in area: Rect, _ f: PixelRows, bpp: Int, length: Int) -> (Int, Int)? {
        guard area.width >= length else { return nil }
        for y in stride(from: area.y, to: area.maxY, by: 3) {
            var x = area.x
            while x + length <= area.maxX {
                let p = f.base + y * f.stride + x * bpp
                var colours: [UInt32] = []
                for i in 0..<length {
                    let v = loadRaw(p + i * bpp, bpp)
                    if !colours.contains(v) { colours.append(v) }
                    if colours.count >= 3 { return (x, y) }
                }
                x += length
            }
        }
        return nil
    }

    // MARK: - Verification and rectangles

    private func tileRect(_ t: Int) -> Rect {
        Rect(x: (t % grid.columns) * zrleTileSize, y: (t / grid.columns) * zrleTileSize,
             width: zrleTileSize, height: zrleTileSize)
            .intersection(Rect(x: 0, y: 0, width: grid.width, height: grid.height))
    }

    private func inside(_ r: Rect) -> Bool {
        r.x >= 0 && r.y >= 0 && r.maxX <= grid.width && r.maxY <= grid.height
    }

    private func tileMoved(_ t: Int, by v: Vector, _ new: PixelRows, _ ref: PixelRows, bpp: Int) -> Bool {
        let r = tileRect(t)
        return inside(Rect(x: r.x - v.dx, y: r.y - v.dy, width: r.width, height: r.height))
            && regionsEqual(r, by: v, new, ref, bpp: bpp)
    }

    private func regionsEqual(_ r: Rect, by v: Vector, _ new: PixelRows, _ ref: PixelRows, bpp: Int) -> Bool {
        if r.width == 1 {
            // A column: one pixel a row, compared in place rather than by a memcmp call per row.
            var a = new.base + r.y * new.stride + r.x * bpp
            var b = ref.base + (r.y - v.dy) * ref.stride + (r.x - v.dx) * bpp
            for _ in 0..<r.height {
                if loadRaw(a, bpp) != loadRaw(b, bpp) { return false }
                a += new.stride
                b += ref.stride
            }
            return true
        }
        for y in r.y..<r.maxY {
            let a = new.base + y * new.stride + r.x * bpp
            let b = ref.base + (y - v.dy) * ref.stride + (r.x - v.dx) * bpp
            if memcmp(a, b, r.width * bpp) != 0 { return false }
        }
        return true
    }

    /// Runs of horizontally neighbouring tiles, merged downwards while the run below spans the same columns.
    private func mergeTiles(_ tiles: [Int]) -> [Rect] {
        var runs: [Rect] = []
        var i = 0
        while i < tiles.count {
            var j = i
            while j + 1 < tiles.count && tiles[j + 1] == tiles[j] + 1 && tiles[j + 1] % grid.columns != 0 { j += 1 }
            let a = tileRect(tiles[i]), b = tileRect(tiles[j])
            runs.append(Rect(x: a.x, y: a.y, width: b.maxX - a.x, height: a.height))
            i = j + 1
        }
        var merged: [Rect] = []
        for r in runs {
            if let k = merged.lastIndex(where: { $0.x == r.x && $0.width == r.width && $0.maxY == r.y }) {
                merged[k].height += r.height
            } else {
                merged.append(r)
            }
        }
        return merged
    }

    /// Grows `r` one row or column at a time (up to a tile's size each way) while the new frame there
    /// still equals the reference at the offset.
    private func grow(_ start: Rect, by v: Vector, _ new: PixelRows, _ ref: PixelRows, bpp: Int, avoiding others: [Rect]) -> Rect {
        var r = start
        for _ in 0..<zrleTileSize {
            var grew = false
            let candidates = [
                Rect(x: r.x - 1, y: r.y, width: 1, height: r.height),
                Rect(x: r.maxX, y: r.y, width: 1, height: r.height),
                Rect(x: r.x, y: r.y - 1, width: r.width, height: 1),
                Rect(x: r.x, y: r.maxY, width: r.width, height: 1),
            ]
            for (side, line) in candidates.enumerated() {
                let source = Rect(x: line.x - v.dx, y: line.y - v.dy, width: line.width, height: line.height)
                guard inside(line), inside(source), !others.contains(where: { !$0.intersection(line).isEmpty }),
                      regionsEqual(line, by: v, new, ref, bpp: bpp) else { continue }
                switch side {
                case 0: r.x -= 1; r.width += 1
                case 1: r.width += 1
                case 2: r.y -= 1; r.height += 1
                default: r.height += 1
                }
                grew = true
            }
            if !grew { break }
        }
        return r
    }
}

private struct PixelRows {
    let base: UnsafeRawPointer
    let stride: Int
}

@inline(__always) private func loadRaw(_ p: UnsafeRawPointer, _ bpp: Int) -> UInt32 {
    switch bpp {
    case 4: p.loadUnaligned(as: UInt32.self)
    case 2: UInt32(p.loadUnaligned(as: UInt16.self))
    default: UInt32(p.load(as: UInt8.self))
    }
}

/// Fingerprint -> row, remembering only fingerprints seen once (a repeated row cannot say where it came from).
private struct FingerprintTable {
    private var keys: [UInt64]
    private var rows: [Int32]   // -1 empty, -2 seen more than once
    private let mask: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity { size *= 2 }
        keys = [UInt64](repeating: 0, count: size)
        rows = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    mutating func clear() {
        for i in rows.indices { rows[i] = -1 }
    }

    mutating func insert(_ key: UInt64, row: Int) {
        var i = Int(truncatingIfNeeded: key >> 17) & mask
        while rows[i] != -1 {
            if keys[i] == key { rows[i] = -2; return }
            i = (i + 1) & mask
        }
        keys[i] = key
        rows[i] = Int32(row)
    }

    func uniqueRow(_ key: UInt64) -> Int? {
        var i = Int(truncatingIfNeeded: key >> 17) & mask
        while rows[i] != -1 {
            if keys[i] == key { return rows[i] >= 0 ? Int(rows[i]) : nil }
            i = (i + 1) & mask
        }
        return nil
    }
}
