import RemoteSupportCore

/// Where shared frames come from (`X11Screen`, or `SyntheticScreen` without a display), and where the
/// agent's input goes.
protocol ScreenSource: AnyObject, Sendable {
    var width: Int { get }
    var height: Int { get }
    /// Calls `body` with the current frame and its version (higher when anything changed).
    func withFrame<R>(_ body: (FrameView, Int) throws -> R) rethrows -> R
    /// The agent's pointer: position, buttons held (bit 0 left...), wheel steps (positive: down / right).
    func pointer(x: Int, y: Int, buttons: UInt16, wheelX: Int, wheelY: Int)
    func key(keysym: UInt32, down: Bool)
}
