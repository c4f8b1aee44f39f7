/// What an RFB server tells each client in ServerInit, and the caps it puts on clients.
public struct RFBServerConfiguration: Sendable, Hashable {
    /// The framebuffer size, 1...16384 each way.
    public var width: Int
    public var height: Int
    /// The server's natural pixel format, which clients use until they send SetPixelFormat.
    public var pixelFormat: PixelFormat
    /// The desktop name (sent as UTF-8, at most 4096 bytes).
    public var name: String
    public var limits: RFBLimits

    public static let maximumNameBytes = 4096

    public init(width: Int, height: Int, pixelFormat: PixelFormat = .bgrx8888, name: String = "RemoteSupport",
                limits: RFBLimits = RFBLimits()) {
        self.width = width
        self.height = height
        self.pixelFormat = pixelFormat
        self.name = name
        self.limits = limits
    }

    /// Checks the size, the pixel format and the name.
    public func validate() throws(CodecError) {
        guard (1...maximumFramebufferDimension).contains(width), (1...maximumFramebufferDimension).contains(height) else {
            throw CodecError(.invalidArgument, "framebuffer size \(width)x\(height) is outside 1...\(maximumFramebufferDimension)")
        }
        do {
            try pixelFormat.validate()
        } catch {
            throw CodecError(.invalidArgument, "server pixel format: \(error.reason)")
        }
        guard name.utf8.count <= Self.maximumNameBytes else {
            throw CodecError(.invalidArgument, "desktop name is \(name.utf8.count) bytes, more than \(Self.maximumNameBytes)")
        }
        guard limits.maximumEncodings >= 0, limits.maximumCutTextBytes >= 0 else {
            throw CodecError(.invalidArgument, "limits must not be negative")
        }
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }
}
