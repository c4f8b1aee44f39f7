/// The server side of one RFB connection as a pure state machine: no IO, no threads, no clock.
///
/// The host feeds the bytes it receives (`receive`, split anywhere), polls events (`nextEvent`) until
/// nil, queues what it wants to send (`queueFramebufferUpdate`, `queueBell`, `queueServerCutText`)
/// and sends what `takeOutput` returns. The handshake runs inside: the server announces RFB 3.8,
/// accepts 3.3, 3.7 and 3.8 clients, offers security type None only, and answers ClientInit with
/// ServerInit from its configuration, all without the host's help.
///
/// States, in order (one enum, so no other combination exists):
///
///     awaitingVersion -> awaitingSecurityType (3.7, 3.8) -> awaitingClientInit -> ready
///                     \------------------- (3.3) -------/
///     any state -> closed(error)
///
/// A client that breaks the protocol (an unsupported version or security type, an unknown message, a
/// count over the limits, a pixel format the server cannot serve) makes `nextEvent` throw once: the
/// connection is then closed for good, `error` holds the reason, `receive` ignores further bytes and
/// `nextEvent` returns nil. During the handshake the refusal the protocol defines (the reason for the
/// client) is queued: send `takeOutput()` before closing the socket.
///
/// Not thread-safe (a value type: one owner at a time).
public struct RFBServerConnection: Sendable {
    /// What the client did.
    public enum Event: Hashable, Sendable {
        /// The handshake is done (ServerInit is queued): the client may now request updates.
        /// `shared` is the ClientInit flag (false asks the server to disconnect other clients).
        case handshakeComplete(shared: Bool)
        /// A client message, already checked: a SetPixelFormat is one the codec can serve, and an
        /// update request's rectangle is clipped to the framebuffer (it may come out empty).
        case message(RFBClientMessage)
    }

    private enum State: Sendable {
        case awaitingVersion
        case awaitingSecurityType(RFBProtocolVersion)
        case awaitingClientInit(RFBProtocolVersion)
        case ready(RFBProtocolVersion)
        case closed(CodecError)
    }

    public let configuration: RFBServerConfiguration
    private var state: State = .awaitingVersion

    /// Received bytes not yet parsed: `input[inputStart...]`. Invariant: `0 <= inputStart <= input.count`.
    /// It holds at most one partial message once `nextEvent` has returned nil.
    private var input: [UInt8] = []
    private var inputStart = 0
    /// Bytes to send, in order, as the pieces they were queued as (an update is not copied).
    private var output: [[UInt8]] = []

    /// The pixel format the client asked for (the server's until it sends SetPixelFormat).
    public private(set) var clientPixelFormat: PixelFormat
    /// The encodings of the client's last SetEncodings (Raw only until then, as RFB says).
    public private(set) var encodings: [Encoding] = [.raw]
    /// The ClientInit shared flag (meaningful once the handshake is complete).
    public private(set) var isShared = false

    /// Starts a connection; the server's ProtocolVersion is queued at once.
    public init(configuration: RFBServerConfiguration) throws(CodecError) {
        try configuration.validate()
        self.configuration = configuration
        clientPixelFormat = configuration.pixelFormat
        output.append(RFBProtocolVersion.v3_8.bytes)
    }

    // MARK: - State

    /// The version the client chose, once it has sent a supported one (nil after an error).
    public var version: RFBProtocolVersion? {
        switch state {
        case .awaitingVersion, .closed: nil
        case .awaitingSecurityType(let v), .awaitingClientInit(let v), .ready(let v): v
        }
    }

    /// True once ServerInit is queued and until an error.
    public var isReady: Bool {
        if case .ready = state { return true }
        return false
    }

    public var isClosed: Bool { error != nil }

    /// Why the connection closed, if it did.
    public var error: CodecError? {
        if case .closed(let e) = state { return e }
        return nil
    }

    // MARK: - Input

    /// Adds received bytes (any amount, split anywhere). Ignored once the connection is closed.
    public mutating func receive(_ bytes: some Sequence<UInt8>) {
        guard !isClosed else { return }
        input.append(contentsOf: bytes)
    }

    /// Adds received bytes from memory the caller owns (copied).
    public mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed else { return }
        input.append(contentsOf: bytes)
    }

    /// How many received bytes wait to be parsed (a partial message, or messages not yet polled).
    public var bufferedByteCount: Int { input.count - inputStart }

    /// The next event, or nil when the buffered bytes hold no complete message (nothing is consumed
    /// then: call again after `receive`). Handshake steps that need no host action (the version,
    /// the security type) are carried out inside and queue their answers.
    ///
    /// Throws when the client breaks the protocol; the connection is then closed (see the type's
    /// comment) and later calls return nil.
    public mutating func nextEvent() throws(CodecError) -> Event? {
        while true {
            let pending = input[inputStart...]
            switch state {
            case .closed:
                return nil

            case .awaitingVersion:
                guard pending.count >= RFBProtocolVersion.messageSize else { return nil }
                let bytes = pending.prefix(RFBProtocolVersion.messageSize)
                consume(RFBProtocolVersion.messageSize)
                guard let version = RFBProtocolVersion(bytes: bytes) else {
                    throw fail(CodecError(.unsupportedVersion, "the client's ProtocolVersion \(Self.printable(bytes)) is not of the form \"RFB xxx.yyy\\n\""),
                               newStyleRefusal: false)
                }
                guard RFBProtocolVersion.supported.contains(version) else {
                    throw fail(CodecError(.unsupportedVersion, "the client asked for RFB \(version); this server speaks 3.3, 3.7 and 3.8"),
                               newStyleRefusal: version >= .v3_7)
                }
                if version.negotiatesSecurityType {
                    output.append(RFBServerMessage.securityTypes([.none]))
                    state = .awaitingSecurityType(version)
                } else {
                    output.append(RFBServerMessage.securityType33(.none))
                    state = .awaitingClientInit(version)
                }

            case .awaitingSecurityType(let version):
                guard let chosen = pending.first else { return nil }
                consume(1)
                guard RFBSecurityType(rawValue: chosen) == .none else {
                    let error = CodecError(.unsupportedSecurityType, "the client chose \(RFBSecurityType(rawValue: chosen)); this server offered only None")
                    // 3.8 says why in a failed SecurityResult; 3.7 just closes.
                    if version.sendsSecurityResultForNone { output.append(RFBServerMessage.securityResultFailed(reason: error.reason)) }
                    throw fail(error)
                }
                if version.sendsSecurityResultForNone { output.append(RFBServerMessage.securityResultOK) }
                state = .awaitingClientInit(version)

            case .awaitingClientInit(let version):
                guard let shared = pending.first else { return nil }
                consume(1)
                isShared = shared != 0
                output.append(RFBServerMessage.serverInit(
                    width: configuration.width, height: configuration.height,
                    format: configuration.pixelFormat, name: configuration.name))
                state = .ready(version)
                return .handshakeComplete(shared: isShared)

            case .ready:
                let parsed: (message: RFBClientMessage, size: Int)?
                do {
                    parsed = try RFBClientMessage.parse(pending, limits: configuration.limits)
                } catch {
                    throw fail(error)
                }
                guard let (message, size) = parsed else { return nil }
                let checked = try check(message)
                consume(size)
                return .message(checked)
            }
        }
    }

    /// Applies the server's policy to a parsed message and records what the client asked for.
    private mutating func check(_ message: RFBClientMessage) throws(CodecError) -> RFBClientMessage {
        switch message {
        case .setPixelFormat(let format):
            do {
                try format.validate()
            } catch {
                throw fail(CodecError(.unsupportedPixelFormat, "SetPixelFormat \(format): \(error.reason)"))
            }
            clientPixelFormat = format
            return message
        case .setEncodings(let list):
            encodings = list
            return message
        case .updateRequest(let incremental, let rect):
            return .updateRequest(incremental: incremental, rect: rect.intersection(configuration.bounds))
        case .key, .pointer, .clientCutText:
            return message
        }
    }

    private mutating func consume(_ n: Int) {
        inputStart += n
        if inputStart == input.count {
            input.removeAll(keepingCapacity: input.capacity <= 1 << 16)
            inputStart = 0
        } else if inputStart >= 1 << 16 {
            input.removeFirst(inputStart)
            inputStart = 0
        }
    }

    /// Closes the connection with `error`, queueing a handshake refusal when asked, and returns the
    /// error to throw.
    private mutating func fail(_ error: CodecError, newStyleRefusal: Bool? = nil) -> CodecError {
        if let newStyle = newStyleRefusal {
            output.append(RFBServerMessage.refusal(reason: error.reason, newStyle: newStyle))
        }
        state = .closed(error)
        input = []
        inputStart = 0
        return error
    }

    private static func printable(_ bytes: some Collection<UInt8>) -> String {
        "\"" + bytes.map { b in
            switch b {
            case 0x0A: "\\n"
            case 0x20...0x7E where b != 0x22 && b != 0x5C: String(UnicodeScalar(b))
            default: "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
            }
        }.joined() + "\""
    }

    // MARK: - Output

    /// Queues a FramebufferUpdate message as `UpdateEncoder` made it (the whole message, header
    /// included). Only once the handshake is complete.
    public mutating func queueFramebufferUpdate(_ message: [UInt8]) throws(CodecError) {
        try requireReady("a FramebufferUpdate")
        guard message.count >= FramebufferUpdate.headerSize, message[0] == RFBServerMessageType.framebufferUpdate.rawValue else {
            throw CodecError(.invalidArgument, "not a FramebufferUpdate message (\(message.count) bytes, type \(message.first.map(String.init) ?? "none"))")
        }
        output.append(message)
    }

    /// Queues a Bell.
    public mutating func queueBell() throws(CodecError) {
        try requireReady("a Bell")
        output.append(RFBServerMessage.bell)
    }

    /// Queues a ServerCutText (the text is sent as ISO 8859-1; other characters become "?").
    public mutating func queueServerCutText(_ text: String) throws(CodecError) {
        try requireReady("a ServerCutText")
        let latin1 = Latin1.encode(text)
        guard latin1.count <= Int(UInt32.max) else {
            throw CodecError(.invalidArgument, "cut text of \(latin1.count) bytes does not fit a U32 length")
        }
        output.append(RFBServerMessage.serverCutText(latin1: latin1))
    }

    private func requireReady(_ what: String) throws(CodecError) {
        switch state {
        case .ready: return
        case .closed(let e): throw CodecError(.notReady, "cannot queue \(what): the connection is closed (\(e))")
        default: throw CodecError(.notReady, "cannot queue \(what) before the handshake is complete")
        }
    }

    /// Whether there are bytes to send.
    public var hasOutput: Bool { !output.isEmpty }

    /// How many bytes wait to be sent.
    public var outputByteCount: Int { output.reduce(0) { $0 + $1.count } }

    /// Takes every queued byte, in order (a single queued message comes back without a copy).
    public mutating func takeOutput() -> [UInt8] {
        defer { output = [] }
        if output.count == 1 { return output[0] }
        return output.flatMap { $0 }
    }
}
