/// An error of the core (the codec, image parsing, the RFB protocol): an extensible code, a human-readable
/// reason, and where it was thrown. Equality compares the code only, so tests can
/// `#expect(throws: CodecError(.truncated))`. Codes 1-31 are the codec's and images', 32 on the protocols'.
public struct CodecError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// The input ended before the structure it announced.
        public static let truncated = Code(rawValue: 1)
        /// A rectangle or tile reaches outside the framebuffer.
        public static let rectangleOutOfBounds = Code(rawValue: 2)
        /// A ZRLE subencoding byte that RFC 6143 leaves unused (17-127, 129).
        public static let invalidSubencoding = Code(rawValue: 3)
        /// A palette index at or past the palette's size.
        public static let paletteIndexOutOfRange = Code(rawValue: 4)
        /// A run that goes past the end of its tile.
        public static let runPastTileEnd = Code(rawValue: 5)
        /// zlib reported corrupt or inconsistent data.
        public static let corruptCompressedData = Code(rawValue: 6)
        /// Compressed data inflates to more than the rectangle can hold (a zlib bomb) or leaves data over.
        public static let compressedSizeMismatch = Code(rawValue: 7)
        /// A length, count or size over a configured cap.
        public static let limitExceeded = Code(rawValue: 8)
        /// An encoding type this decoder does not implement.
        public static let unsupportedEncoding = Code(rawValue: 9)
        /// A pixel format the codec cannot use.
        public static let unsupportedPixelFormat = Code(rawValue: 10)
        /// A message type or field value that is not allowed.
        public static let malformed = Code(rawValue: 11)
        /// An image file (PPM, gzip) that cannot be read.
        public static let invalidImage = Code(rawValue: 12)
        /// Invalid arguments from the caller (sizes, strides, regions).
        public static let invalidArgument = Code(rawValue: 13)
        /// The client's RFB ProtocolVersion is not 3.3, 3.7 or 3.8.
        public static let unsupportedVersion = Code(rawValue: 32)
        /// The client chose a security type the server did not offer (only None is offered).
        public static let unsupportedSecurityType = Code(rawValue: 33)
        /// A client message type this server does not implement.
        public static let unknownMessageType = Code(rawValue: 34)
        /// The connection was closed by an earlier error, or a message was queued before the handshake.
        public static let notReady = Code(rawValue: 35)

        public var description: String {
            switch self {
            case .truncated: "truncated"
            case .rectangleOutOfBounds: "rectangle out of bounds"
            case .invalidSubencoding: "invalid subencoding"
            case .paletteIndexOutOfRange: "palette index out of range"
            case .runPastTileEnd: "run past tile end"
            case .corruptCompressedData: "corrupt compressed data"
            case .compressedSizeMismatch: "compressed size mismatch"
            case .limitExceeded: "limit exceeded"
            case .unsupportedEncoding: "unsupported encoding"
            case .unsupportedPixelFormat: "unsupported pixel format"
            case .malformed: "malformed"
            case .invalidImage: "invalid image"
            case .invalidArgument: "invalid argument"
            case .unsupportedVersion: "unsupported protocol version"
            case .unsupportedSecurityType: "unsupported security type"
            case .unknownMessageType: "unknown message type"
            case .notReady: "not ready"
            default: "error \(rawValue)"
            }
        }
    }

    public var code: Code
    public var reason: String
    public var file: String
    public var line: Int

    public init(_ code: Code, _ reason: String = "", file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

    public var description: String { reason.isEmpty ? "\(code)" : "\(code): \(reason)" }

    public static func == (a: CodecError, b: CodecError) -> Bool { a.code == b.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

extension CodecError {
    /// Runs `body`, which throws only `CodecError`, through APIs (such as `withUnsafeBytes`) that erase the
    /// error type, and gives the type back.
    static func typed<R>(_ body: () throws -> R) throws(CodecError) -> R {
        do {
            return try body()
        } catch let error as CodecError {
            throw error
        } catch {
            throw CodecError(.invalidArgument, "unexpected error: \(error)")
        }
    }
}
