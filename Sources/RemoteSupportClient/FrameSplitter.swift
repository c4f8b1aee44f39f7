import Foundation

/// The state machine's output is a byte stream; a WebSocket message must hold exactly one frame. Keeps
/// a frame cut between two outputs until the rest arrives.
public final class FrameSplitter: @unchecked Sendable {
    private var carry: [UInt8] = []
    private let lock = NSLock()

    public init() {}

    public func frames(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        lock.withLock {
            let all = carry + bytes
            var frames: [ArraySlice<UInt8>] = []
            var offset = 0
            while offset + 4 <= all.count {
                let n = Int(all[offset]) << 24 | Int(all[offset + 1]) << 16 | Int(all[offset + 2]) << 8 | Int(all[offset + 3])
                guard offset + 4 + n <= all.count else { break }
                frames.append(all[offset..<(offset + 4 + n)])
                offset += 4 + n
            }
            carry = Array(all[offset...])
            return frames
        }
    }
}

