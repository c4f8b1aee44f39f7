import Foundation

/// What the end user lets an agent do: watch, or watch and control. An open set on the wire.
public struct AccessMode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let viewOnly = AccessMode(rawValue: 1)
    public static let control = AccessMode(rawValue: 2)
    public var allowsInput: Bool { self == .control }
    public var description: String {
        switch self {
        case .viewOnly: "view only"
        case .control: "control"
        default: "access mode \(rawValue)"
        }
    }
}

/// An X25519 public key as sent: 32 bytes.
public struct KeyShare: Hashable, Sendable, CustomStringConvertible {
    public static let size = 32
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) throws(ProtocolError) {
        guard bytes.count == Self.size else { throw .malformed("a key share is \(Self.size) bytes, not \(bytes.count)") }
        self.bytes = bytes
    }
    public var description: String { bytes.prefix(6).map { String(format: "%02x", $0) }.joined() + "..." }
}

/// The secret a client shows to come back to its session after its connection dropped: 256 random
/// bits, issued by the broker, never logged.
public struct ResumeToken: Hashable, Sendable {
    public static let size = 32
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) throws(ProtocolError) {
        guard bytes.count == Self.size else { throw .malformed("a resume token is \(Self.size) bytes, not \(bytes.count)") }
        self.bytes = bytes
    }
    /// A new random token.
    public static func random(using generator: inout some RandomNumberGenerator) -> ResumeToken {
        try! ResumeToken((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}

/// How the end user joins: the link they opened (personal or invitation) or the 6-digit code they typed.
public enum JoinCredential: Hashable, Sendable {
    case link(String)
    case connectionID(String)
}

/// What the end user's client says about them and their machine (checked by the broker's domain rules,
/// only capped here).
public struct EndUserInfo: Hashable, Sendable {
    public var name: String
    public var machineName: String
    public var operatingSystem: String
    public init(name: String, machineName: String, operatingSystem: String) {
        self.name = name
        self.machineName = machineName
        self.operatingSystem = operatingSystem
    }
}

/// Who an agent is, as the broker vouches for them.
public struct AgentInfo: Hashable, Sendable {
    public var name: String
    public var jobTitle: String
    public var organisation: String
    public init(name: String, jobTitle: String, organisation: String) {
        self.name = name
        self.jobTitle = jobTitle
        self.organisation = organisation
    }
}

/// A session in an agent's lobby.
public struct LobbyEntry: Hashable, Sendable {
    public var sessionID: SessionID
    public var endUser: EndUserInfo
    public var ticket: String
    /// `JoinMethod.rawValue`: "personal-link", "invitation", "connection-id".
    public var joinMethod: String
    /// When the end user joined, in milliseconds since 1970.
    public var joinedAt: Int64
    public init(sessionID: SessionID, endUser: EndUserInfo, ticket: String, joinMethod: String, joinedAt: Int64) {
        self.sessionID = sessionID
        self.endUser = endUser
        self.ticket = ticket
        self.joinMethod = joinMethod
        self.joinedAt = joinedAt
    }
}

/// The size caps on text fields, in UTF-8 bytes (the domain rules cap characters; 4 bytes each at most).
enum FieldLimit {
    static let name = 400
    static let machine = 1020
    static let credential = 2048
    static let token = 512
    static let method = 32
    static let ticket = 256
    static let closeMessage = 256
    static let software = 64
    static let identifier = 64
}

extension WireReader {
    mutating func sessionID(_ field: String = "session ID") throws(ProtocolError) -> SessionID {
        let b = try fixed(16, field)
        return SessionID(UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])))
    }
    mutating func keyShare(_ field: String) throws(ProtocolError) -> KeyShare { try KeyShare(try fixed(KeyShare.size, field)) }
    mutating func resumeToken() throws(ProtocolError) -> ResumeToken { try ResumeToken(try fixed(ResumeToken.size, "resume token")) }
}

extension WireWriter {
    mutating func sessionID(_ id: SessionID) {
        withUnsafeBytes(of: id.uuid.uuid) { append($0) }
    }
}
