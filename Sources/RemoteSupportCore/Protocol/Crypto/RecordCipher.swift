import Crypto

/// Seals one direction's session records (AES-256-GCM, nonce = epoch || counter, no associated data:
/// the key is the session's and the direction's, the nonce binds epoch and counter). AES-GCM rather
/// than ChaCha20-Poly1305 because it is what a browser's WebCrypto offers (the console's viewer) and
/// what CPUs accelerate.
///
/// Invariant: a (key, epoch, counter) triple is used once. Counters restart at 0 only with a higher
/// epoch, and epochs only go up.
struct RecordSealer {
    private let key: SymmetricKey
    private(set) var epoch: UInt32 = 0
    private(set) var counter: UInt64 = 0

    init(key: SymmetricKey) { self.key = key }

    mutating func seal(_ plaintext: [UInt8]) -> SessionRecord {
        defer { counter += 1 }
        // Cannot fail: the key is 32 bytes and the nonce 12.
        let box = try! AES.GCM.seal(plaintext, using: key, nonce: recordNonce(epoch, counter))
        var sealed = [UInt8]()
        sealed.reserveCapacity(plaintext.count + SessionRecord.tagSize)
        sealed.append(contentsOf: box.ciphertext)
        sealed.append(contentsOf: box.tag)
        return SessionRecord(epoch: epoch, counter: counter, sealed: sealed)
    }

    mutating func startEpoch(_ e: UInt32) {
        precondition(e > epoch, "epochs only go up")
        epoch = e
        counter = 0
    }
}

/// Opens the peer's records: the expected epoch, the next counter exactly, an intact tag. A record of
/// an earlier epoch (sent before a resume the sender had not heard of yet) is dropped unread; anything
/// else out of order is an attack or a broken relay and closes the session.
struct RecordOpener {
    private let key: SymmetricKey
    private(set) var epoch: UInt32 = 0
    private(set) var counter: UInt64 = 0
    /// Records of earlier epochs dropped.
    private(set) var staleRecords = 0

    init(key: SymmetricKey) { self.key = key }

    /// The plaintext, or nil for a stale record.
    mutating func open(_ record: SessionRecord) throws(ProtocolError) -> [UInt8]? {
        if record.epoch < epoch { staleRecords += 1; return nil }
        guard record.epoch == epoch else {
            throw ProtocolError(.cryptoFailure, "a record of epoch \(record.epoch) arrived in epoch \(epoch)")
        }
        guard record.counter == counter else {
            throw ProtocolError(.cryptoFailure, "record \(record.counter) arrived where \(counter) was due (replayed, reordered or lost)")
        }
        let tagStart = record.sealed.count - SessionRecord.tagSize
        guard tagStart >= 0,
              let box = try? AES.GCM.SealedBox(nonce: recordNonce(epoch, counter), ciphertext: record.sealed[..<tagStart],
                                                   tag: record.sealed[tagStart...]),
              let plain = try? AES.GCM.open(box, using: key) else {
            throw ProtocolError(.cryptoFailure, "record \(record.counter) of epoch \(record.epoch) failed authentication")
        }
        counter += 1
        return Array(plain)
    }

    mutating func startEpoch(_ e: UInt32) {
        precondition(e > epoch, "epochs only go up")
        epoch = e
        counter = 0
    }
}

private func recordNonce(_ epoch: UInt32, _ counter: UInt64) -> AES.GCM.Nonce {
    var w = WireWriter(capacity: 12)
    w.u32(epoch)
    w.u64(counter)
    return try! AES.GCM.Nonce(data: w.bytes)
}
