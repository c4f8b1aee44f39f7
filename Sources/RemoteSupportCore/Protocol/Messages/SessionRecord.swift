/// An encrypted piece of the session, as the broker relays it without reading (PROTOCOL.md, "Records").
///
///     +---------------+------------------+-----------------------------------+
///     | epoch: u32 BE | counter: u64 BE  | ciphertext | tag (16 bytes)        |
///     +---------------+------------------+-----------------------------------+
///
/// AES-256-GCM with the sender's direction key; the nonce is epoch || counter. Within an epoch a
/// sender's counters run 0, 1, 2... with no gap; an epoch starts when the broker announces one after a
/// resume.
public struct SessionRecord: Hashable, Sendable {
    public static let headerSize = 12
    public static let tagSize = 16
    public var epoch: UInt32
    public var counter: UInt64
    /// Ciphertext followed by the tag.
    public var sealed: [UInt8]
    public init(epoch: UInt32, counter: UInt64, sealed: [UInt8]) {
        self.epoch = epoch
        self.counter = counter
        self.sealed = sealed
    }
}
