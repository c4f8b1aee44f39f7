/// The end-to-end part of a connected session, the same for both ends: seals outgoing session messages
/// into records (split into pieces of `recordPayloadSize`), opens and reassembles incoming ones, and
/// delivers reliable messages exactly once across resumes (PROTOCOL.md, "Reliable messages").
///
/// Outgoing messages wait in `pending` until `flush`: pointer motion queued while the previous motion is
/// still waiting replaces it, so a slow link gets the latest position, not a backlog.
struct SecureChannel {
    let sessionID: SessionID
    let keys: SessionKeys
    let role: PeerRole
    let ownKey: KeyShare
    let peerKey: KeyShare
    private let options: ConnectionOptions
    private let maximumMessage: Int

    private var sealer: RecordSealer
    private var opener: RecordOpener

    /// `mergeable`: pointer motion that changes no button and turns no wheel.
    private enum Pending { case message(SessionMessage), reliable(ReliablePayload, mergeable: Bool) }
    /// The buttons of the last pointer event queued, to tell motion from a press or release.
    private var lastButtons: UInt16 = 0
    private var pending: [Pending] = []

    /// Reliable messages sent and not yet acknowledged, oldest first, with their bytes.
    private var unacknowledged: [(seq: UInt32, bytes: [UInt8])] = []
    private var unacknowledgedBytes = 0
    private var nextSequence: UInt32 = 1
    /// The highest reliable sequence received (every one below it too).
    private(set) var receivedSequence: UInt32 = 0
    private var ackDue = false

    private var reassembly: [UInt8] = []
    private(set) var peerFeatures: SessionFeatures?

    init(sessionID: SessionID, keys: SessionKeys, role: PeerRole, options: ConnectionOptions) {
        self.sessionID = sessionID
        self.keys = keys
        self.role = role
        self.options = options
        ownKey = role == .endUser ? keys.endUserKey : keys.agentKey
        peerKey = role == .endUser ? keys.agentKey : keys.endUserKey
        sealer = RecordSealer(key: role == .endUser ? keys.endUserToAgent : keys.agentToEndUser)
        opener = RecordOpener(key: role == .endUser ? keys.agentToEndUser : keys.endUserToAgent)
        maximumMessage = options.maximumSessionMessage ?? (role == .agent ? 64 << 20 : 2 << 20)
        pending.append(.message(.start(version: SessionMessage.version, features: options.features,
                                       senderKey: ownKey, receiverKey: peerKey)))
    }

    var epoch: UInt32 { sealer.epoch }
    var staleRecords: Int { opener.staleRecords }
    var hasPending: Bool { !pending.isEmpty || ackDue }

    mutating func queue(_ message: SessionMessage) { pending.append(.message(message)) }

    mutating func queue(_ payload: ReliablePayload) {
        let mergeable = payload.isMotion && payload.buttons == lastButtons
        if let buttons = payload.buttons { lastButtons = buttons }
        if mergeable, case .reliable(_, true)? = pending.last {
            pending[pending.count - 1] = .reliable(payload, mergeable: true)
        } else {
            pending.append(.reliable(payload, mergeable: mergeable))
        }
    }

    /// Seals everything pending into record frames appended to `output`.
    mutating func flush(into link: inout HopLink) throws(ProtocolError) {
        if ackDue {
            pending.append(.message(.ack(seq: receivedSequence)))
            ackDue = false
        }
        let batch = pending
        pending = []
        for item in batch {
            switch item {
            case .message(let m):
                seal(m.bytes, into: &link)
            case .reliable(let payload, _):
                let seq = nextSequence
                guard seq != UInt32.max else { throw ProtocolError(.overloaded, "the reliable sequence numbers ran out") }
                nextSequence += 1
                let bytes = payload.message(seq: seq).bytes
                unacknowledged.append((seq, bytes))
                unacknowledgedBytes += bytes.count
                guard unacknowledged.count <= options.maximumUnacknowledgedMessages,
                      unacknowledgedBytes <= options.maximumUnacknowledgedBytes else {
                    throw ProtocolError(.overloaded, "\(unacknowledged.count) reliable messages (\(unacknowledgedBytes) bytes) wait for the peer's acknowledgement")
                }
                seal(bytes, into: &link)
            }
        }
    }

    private mutating func seal(_ message: [UInt8], into link: inout HopLink) {
        let size = options.effectiveRecordPayload
        var offset = 0
        repeat {
            let end = min(offset + size, message.count)
            var plain = [UInt8]()
            plain.reserveCapacity(end - offset + 1)
            plain.append(end < message.count ? 1 : 0)
            plain.append(contentsOf: message[offset..<end])
            link.send(.record(sealer.seal(plain)))
            offset = end
        } while offset < message.count
    }

    /// Opens one record; returns the session message it completes, if any (nil while a message is in
    /// pieces, for a stale record, a duplicate reliable message, an acknowledgement, or an unknown
    /// optional message).
    mutating func open(_ record: SessionRecord) throws(ProtocolError) -> SessionMessage? {
        guard let plain = try opener.open(record) else { return nil }
        guard let flags = plain.first else { throw .malformed("an empty record") }
        guard reassembly.count + plain.count - 1 <= maximumMessage else {
            throw ProtocolError(.tooLarge, "a session message over the limit of \(maximumMessage) bytes")
        }
        if reassembly.isEmpty && flags & 1 == 0 {
            reassembly = Array(plain[1...])
        } else {
            reassembly.append(contentsOf: plain[1...])
            if flags & 1 != 0 { return nil }
        }
        let bytes = reassembly
        reassembly = []
        guard let message = try SessionMessage(bytes: bytes) else { return nil }
        if case .start(_, let features, let sender, let receiver) = message {
            guard sender == peerKey, receiver == ownKey else {
                throw ProtocolError(.cryptoFailure, "the peer's start names other keys than the broker gave us")
            }
            // Sent again at the start of every epoch; only the first one is news.
            if peerFeatures != nil { return nil }
            peerFeatures = features
            return message
        }
        guard peerFeatures != nil else {
            throw .malformed("the peer's first session message is \(message.type), not start")
        }
        switch message {
        case .ack(let seq):
            guard seq < nextSequence else { throw .malformed("ack of \(seq), but only \(nextSequence - 1) were sent") }
            let done = unacknowledged.prefix { $0.seq <= seq }
            unacknowledgedBytes -= done.reduce(0) { $0 + $1.bytes.count }
            unacknowledged.removeFirst(done.count)
            return nil
        default:
            guard let seq = message.reliableSequence else { return message }
            ackDue = true
            if seq <= receivedSequence { return nil }
            guard seq == receivedSequence + 1 else {
                throw .malformed("reliable message \(seq) arrived after \(receivedSequence): one was lost")
            }
            receivedSequence = seq
            return message
        }
    }

    /// A resume: both directions move to `epoch`, a half-received message is dropped, and every
    /// unacknowledged reliable message is sent again ahead of anything pending.
    mutating func startEpoch(_ epoch: UInt32) {
        sealer.startEpoch(epoch)
        opener.startEpoch(epoch)
        reassembly = []
        let resend = unacknowledged.map { Pending.message(try! SessionMessage(bytes: $0.bytes)!) }
        let start = Pending.message(.start(version: SessionMessage.version, features: options.features,
                                           senderKey: ownKey, receiverKey: peerKey))
        pending = [start] + resend + pending.filter {
            if case .message(.ack) = $0 { return false }
            if case .message(.start) = $0 { return false }
            return true
        }
        if receivedSequence > 0 { ackDue = true }
    }
}
