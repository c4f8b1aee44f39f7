/// Deadlines and caps shared by every role's state machine. Times are in milliseconds of a monotonic
/// clock the host reads (any origin; the machines only compare and add).
public struct ConnectionOptions: Sendable {
    /// The peer's hello must arrive within this long of the connection's start.
    public var handshakeTimeout: UInt64 = 10_000
    /// After this long with nothing received, send a ping.
    public var keepaliveInterval: UInt64 = 15_000
    /// After this long with nothing received, close with `.timeout`.
    public var keepaliveTimeout: UInt64 = 45_000
    /// The longest frame accepted (announced in the hello).
    public var maximumFrameLength = Frame.minimumMaximumLength * 4
    /// Plaintext bytes per session record: big messages (screen updates) are split so that input and
    /// keepalives are not stuck behind them, and every relay holds little.
    public var recordPayloadSize = 32 * 1024
    /// The largest session message accepted once reassembled. Nil: 64 MiB for an agent (a whole screen
    /// update), 2 MiB for an end user (input, clipboard, chat).
    public var maximumSessionMessage: Int? = nil
    /// Reliable messages (input, clipboard, chat) kept for a resend until the peer acknowledges them;
    /// past either cap the session closes with `.overloaded`.
    public var maximumUnacknowledgedMessages = 4096
    public var maximumUnacknowledgedBytes = 8 << 20
    /// Screen updates an end user has in flight before waiting for the viewer's acknowledgement.
    public var updateWindow = 2
    /// The session features this side offers.
    public var features: SessionFeatures = .all
    /// Free text sent in the hello.
    public var software = "remotesupport-swift"

    public init() {}

    var effectiveRecordPayload: Int { max(1024, min(recordPayloadSize, Frame.minimumMaximumLength - 64)) }
}
