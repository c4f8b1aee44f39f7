import Crypto
import Foundation

/// The bearer secret a logged-in agent (console or viewer) presents: 32 random bytes, base64url (43
/// characters). Only its SHA-256 digest is stored, so a copy of the database logs nobody in.
public struct LoginToken: Hashable, Sendable, CustomStringConvertible {
    public let text: String

    public init(using generator: inout some RandomNumberGenerator) {
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in bytes.indices { bytes[index] = generator.next() }
        text = Base64.encode(bytes, urlSafe: true)
    }

    /// A token as presented by a client: 43 base64url characters, else nil.
    public init?(presented text: String) {
        guard text.utf8.count == 43, let bytes = Base64.decode(text, urlSafe: true), bytes.count == 32 else { return nil }
        self.text = text
    }

    public var digest: TokenDigest { TokenDigest(of: text) }

    /// Never prints the token.
    public var description: String { "LoginToken(…)" }
}

/// SHA-256 of a secret token, hex: what the store keeps and looks up.
public struct TokenDigest: Hashable, Sendable, Codable, CustomStringConvertible {
    public let hex: String
    public init(of secret: String) {
        hex = SHA256.hash(data: Array(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }
    public init(hex: String) { self.hex = hex }
    public var description: String { String(hex.prefix(12)) }
}

/// A logged-in agent: valid until idle for `idleTimeout` or older than `absoluteLifetime`, whichever is
/// first; revoked (deleted) on logout and on password change.
public struct LoginSession: Hashable, Sendable {
    public let digest: TokenDigest
    public let agentID: AgentID
    public let created: Date
    public var lastSeen: Date
    public let expires: Date
    /// Where the login came from (for the audit log and the agent's own session list).
    public let address: String

    public init(digest: TokenDigest, agentID: AgentID, created: Date, policy: LoginSessionPolicy, address: String) {
        self.digest = digest
        self.agentID = agentID
        self.created = created
        self.lastSeen = created
        self.expires = created.addingTimeInterval(policy.absoluteLifetime)
        self.address = address
    }

    public init(digest: TokenDigest, agentID: AgentID, created: Date, lastSeen: Date, expires: Date, address: String) {
        self.digest = digest
        self.agentID = agentID
        self.created = created
        self.lastSeen = lastSeen
        self.expires = expires
        self.address = address
    }

    public func isValid(at now: Date, policy: LoginSessionPolicy) -> Bool {
        now < expires && now.timeIntervalSince(lastSeen) < policy.idleTimeout
    }

    /// Whether a use at `now` should be written back (at most once a minute, to spare the store).
    public func needsTouch(at now: Date) -> Bool { now.timeIntervalSince(lastSeen) >= 60 }
}

public struct LoginSessionPolicy: Sendable, Hashable {
    public var idleTimeout: TimeInterval
    public var absoluteLifetime: TimeInterval

    /// 30 minutes idle (OWASP for low-risk apps is 15-30), 12 hours absolute (a working day).
    public init(idleTimeout: TimeInterval = 30 * 60, absoluteLifetime: TimeInterval = 12 * 3600) {
        self.idleTimeout = idleTimeout
        self.absoluteLifetime = absoluteLifetime
    }
}
