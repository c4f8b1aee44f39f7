/// Session features each side announces in its `start` message (bits of a u64); a feature is used
/// only when both announced it.
public struct SessionFeatures: OptionSet, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let clipboard = SessionFeatures(rawValue: 1 << 0)
    public static let chat = SessionFeatures(rawValue: 1 << 1)
    public static let cursorShape = SessionFeatures(rawValue: 1 << 2)
    /// The viewer decodes CopyRect rectangles.
    public static let copyRect = SessionFeatures(rawValue: 1 << 3)
    public static let all: SessionFeatures = [.clipboard, .chat, .cursorShape, .copyRect]
}
