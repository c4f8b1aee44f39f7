/// Caps on what an RFB client may send, checked as soon as a length or count is read and before
/// anything is allocated for it.
public struct RFBLimits: Sendable, Hashable {
    /// The most encodings one SetEncodings may list (the wire allows 65535). Real viewers send 10-40
    /// (TigerVNC lists every quality and compression level as a pseudo-encoding).
    public var maximumEncodings = 1024
    /// The most bytes of text one ClientCutText may carry (the wire allows 4 GiB).
    public var maximumCutTextBytes = 1 << 20

    public init() {}
}
