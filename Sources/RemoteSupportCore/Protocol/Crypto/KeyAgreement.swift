import Crypto
import Foundation

/// One side's ephemeral X25519 key for one connect attempt. Made fresh for every attempt and dropped
/// when the session ends; the private half never leaves the state machine.
public struct EphemeralKey: @unchecked Sendable {
    let privateKey: Curve25519.KeyAgreement.PrivateKey
    public let share: KeyShare

    /// A new random key (the system's CSPRNG).
    public init() {
        self.init(privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    /// A key from 32 given bytes: for test vectors and hosts with their own entropy source.
    public init(rawRepresentation bytes: [UInt8]) throws(ProtocolError) {
        guard bytes.count == 32, let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes) else {
            throw .malformed("an X25519 private key is 32 bytes")
        }
        self.init(privateKey: key)
    }

    private init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.privateKey = privateKey
        share = try! KeyShare(Array(privateKey.publicKey.rawRepresentation))
    }
}

/// The keys of one connected session, derived by both sides from their X25519 agreement
/// (PROTOCOL.md, "Key schedule"):
///
///     shared = X25519(own private, peer public)               (all-zero: refused)
///     okm    = HKDF-SHA256(ikm: shared, salt: session ID (16 bytes),
///                          info: "remotesupport v1 session" || end-user key || agent key, 96 bytes)
///     end user -> agent key = okm[0..<32], agent -> end user key = okm[32..<64],
///     short authentication string = (okm[64..<68] as u32 BE) mod 1,000,000, shown "123 456".
public struct SessionKeys: Sendable {
    public let endUserToAgent: SymmetricKey
    public let agentToEndUser: SymmetricKey
    /// Six digits both people can read to each other to check that nobody sits in between.
    public let shortAuthenticationString: String
    public let endUserKey: KeyShare
    public let agentKey: KeyShare

    public static let info = Array("remotesupport v1 session".utf8)

    public init(own: EphemeralKey, ownRole: PeerRole, peer: KeyShare, sessionID: SessionID) throws(ProtocolError) {
        guard let peerKey = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: peer.bytes),
              let shared = try? own.privateKey.sharedSecretFromKeyAgreement(with: peerKey) else {
            throw ProtocolError(.cryptoFailure, "the peer's key share is not a usable X25519 key")
        }
        let secret = shared.withUnsafeBytes { Array($0) }
        guard secret.contains(where: { $0 != 0 }) else {
            throw ProtocolError(.cryptoFailure, "the key agreement gave an all-zero secret (a low-order peer key)")
        }
        endUserKey = ownRole == .endUser ? own.share : peer
        agentKey = ownRole == .endUser ? peer : own.share
        var salt = WireWriter()
        salt.sessionID(sessionID)
        let okm = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secret), salt: salt.bytes,
                                         info: Self.info + endUserKey.bytes + agentKey.bytes, outputByteCount: 96)
        let bytes = okm.withUnsafeBytes { Array($0) }
        endUserToAgent = SymmetricKey(data: bytes[0..<32])
        agentToEndUser = SymmetricKey(data: bytes[32..<64])
        let sas = (UInt32(bytes[64]) << 24 | UInt32(bytes[65]) << 16 | UInt32(bytes[66]) << 8 | UInt32(bytes[67])) % 1_000_000
        let digits = String(format: "%06u", sas)
        shortAuthenticationString = "\(digits.prefix(3)) \(digits.suffix(3))"
    }
}
