/// A growable byte buffer for hot loops: callers `reserve` the most a step can write, then write through
/// unchecked stores. Owned by one encoder or one worker at a time; not thread-safe.
///
/// Invariant: `0 <= count <= capacity`, and `reserve(n)` guarantees `n` more bytes plus 4 bytes of slack,
/// so a 3-byte CPIXEL may be written as a 4-byte store.
final class ByteWriter {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int = 1 << 16) {
        self.capacity = max(capacity, 64)
        base = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    @inline(__always) func reserve(_ n: Int) {
        if count + n + 4 > capacity { grow(count + n + 4) }
    }

    private func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always) func append(_ byte: UInt8) {
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Writes `size` bytes of `value`, least significant first (the slack makes a 4-byte store safe).
    @inline(__always) func appendLittleEndian(_ value: UInt32, size: Int) {
        (base + count).storeBytes(of: value, as: UInt32.self)
        count += size
    }

    @inline(__always) func appendBigEndian32(_ value: UInt32) {
        reserve(4)
        (base + count).storeBytes(of: value.bigEndian, as: UInt32.self)
        count += 4
    }

    @inline(__always) func appendBigEndian16(_ value: UInt16) {
        reserve(2)
        (base + count).storeBytes(of: value.bigEndian, as: UInt16.self)
        count += 2
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        if let src = bytes.baseAddress { (base + count).copyMemory(from: src, byteCount: bytes.count) }
        count += bytes.count
    }

    func append(contentsOf bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
    func removeAll() { count = 0 }
}
