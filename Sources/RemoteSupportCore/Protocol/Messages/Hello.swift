/// Which side of the protocol a connection speaks for.
public struct PeerRole: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let endUser = PeerRole(rawValue: 1)
    public static let agent = PeerRole(rawValue: 2)
    public static let broker = PeerRole(rawValue: 3)
    public var description: String {
        switch self {
        case .endUser: "end user"
        case .agent: "agent"
        case .broker: "broker"
        default: "role \(rawValue)"
        }
    }
}

/// Hop-level features a peer supports, announced in the hello (bits of a u64).
public struct HopFeatures: OptionSet, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// The peer can resume a dropped connection with a token.
    public static let resume = HopFeatures(rawValue: 1 << 0)
    public static let all: HopFeatures = [.resume]
}

/// The first frame each way on every connection (PROTOCOL.md, "Hello").
public struct Hello: Hashable, Sendable {
    public static let magic: [UInt8] = Array("RSUP".utf8)
    /// The protocol versions this implementation speaks.
    public static let supportedVersions: ClosedRange<UInt16> = 1...1

    public var versions: ClosedRange<UInt16>
    public var role: PeerRole
    /// The longest frame this peer accepts (type + flags + payload), at least `Frame.minimumMaximumLength`.
    public var maximumFrameLength: UInt32
    public var features: HopFeatures
    /// Free text for logs: "remotesupport-swift/0.4".
    public var software: String

    public init(versions: ClosedRange<UInt16> = Hello.supportedVersions, role: PeerRole,
                maximumFrameLength: UInt32 = UInt32(Frame.minimumMaximumLength) * 4,
                features: HopFeatures = .all, software: String = "remotesupport-swift") {
        self.versions = versions
        self.role = role
        self.maximumFrameLength = maximumFrameLength
        self.features = features
        self.software = software
    }

    /// The version both speak: the highest in both ranges.
    public func negotiate(with peer: Hello) throws(ProtocolError) -> UInt16 {
        let high = min(versions.upperBound, peer.versions.upperBound)
        guard high >= max(versions.lowerBound, peer.versions.lowerBound) else {
            throw ProtocolError(.unsupportedVersion,
                                "we speak versions \(versions.lowerBound)-\(versions.upperBound), the peer \(peer.versions.lowerBound)-\(peer.versions.upperBound)")
        }
        return high
    }
}
