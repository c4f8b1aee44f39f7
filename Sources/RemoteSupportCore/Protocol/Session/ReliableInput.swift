/// A reliable session message before it has its sequence number (given when it is sealed, so pointer
/// motion still waiting to be sent can be merged).
enum ReliablePayload: Hashable, Sendable {
    case pointer(x: UInt16, y: UInt16, buttons: UInt16, wheelX: Int16, wheelY: Int16)
    case key(keysym: UInt32, down: Bool)
    case clipboard(String)
    case chat(String)
    case access(AccessMode)
    case pause(Bool)

    func message(seq: UInt32) -> SessionMessage {
        switch self {
        case .pointer(let x, let y, let b, let wx, let wy): .pointer(seq: seq, x: x, y: y, buttons: b, wheelX: wx, wheelY: wy)
        case .key(let k, let d): .key(seq: seq, keysym: k, down: d)
        case .clipboard(let t): .clipboard(seq: seq, text: t)
        case .chat(let t): .chat(seq: seq, text: t)
        case .access(let m): .access(seq: seq, mode: m)
        case .pause(let p): .pause(seq: seq, paused: p)
        }
    }

    /// Pure pointer motion (no wheel): a later motion with the same buttons may replace it.
    var isMotion: Bool {
        if case .pointer(_, _, _, 0, 0) = self { return true }
        return false
    }

    var buttons: UInt16? {
        if case .pointer(_, _, let b, _, _) = self { return b }
        return nil
    }
}
