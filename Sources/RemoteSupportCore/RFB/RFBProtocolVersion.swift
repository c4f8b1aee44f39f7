/// An RFB ProtocolVersion (RFC 6143 §7.1.1): twelve bytes `"RFB xxx.yyy\n"` with three decimal digits
/// for each of the major and minor numbers.
///
/// The server announces 3.8; a client answers with 3.3, 3.7 or 3.8 and the handshake follows that
/// version. Other numbers in use (UltraVNC's 3.4 and 3.6, Apple's 3.889) are refused rather than
/// treated as 3.3, so a client is never served a handshake it did not ask for.
public struct RFBProtocolVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let v3_3 = RFBProtocolVersion(major: 3, minor: 3)
    public static let v3_7 = RFBProtocolVersion(major: 3, minor: 7)
    public static let v3_8 = RFBProtocolVersion(major: 3, minor: 8)

    /// The versions a server of this package speaks.
    public static let supported: [RFBProtocolVersion] = [.v3_3, .v3_7, .v3_8]

    /// The size of the ProtocolVersion message.
    public static let messageSize = 12

    /// The twelve bytes of the ProtocolVersion message (numbers above 999 are not representable and
    /// are clamped).
    public var bytes: [UInt8] {
        func digits(_ n: Int) -> [UInt8] {
            let n = Swift.min(Swift.max(n, 0), 999)
            return [UInt8(0x30 + n / 100), UInt8(0x30 + n / 10 % 10), UInt8(0x30 + n % 10)]
        }
        return Array("RFB ".utf8) + digits(major) + [UInt8(ascii: ".")] + digits(minor) + [0x0A]
    }

    /// Parses a ProtocolVersion message; nil when the twelve bytes do not have its form.
    public init?(bytes b: some Collection<UInt8>) {
        let a = Array(b)
        guard a.count == Self.messageSize, a[0..<4] == Array("RFB ".utf8)[...], a[7] == UInt8(ascii: "."), a[11] == 0x0A else {
            return nil
        }
        func number(_ r: Range<Int>) -> Int? {
            var value = 0
            for c in a[r] {
                guard c >= 0x30 && c <= 0x39 else { return nil }
                value = value * 10 + Int(c - 0x30)
            }
            return value
        }
        guard let major = number(4..<7), let minor = number(8..<11) else { return nil }
        self.init(major: major, minor: minor)
    }

    /// Whether the handshake of this version sends a list of security types (3.7 and later) rather
    /// than one type chosen by the server (3.3).
    var negotiatesSecurityType: Bool { self >= .v3_7 }

    /// Whether a SecurityResult follows security type None (3.8 only; 3.3 and 3.7 go straight on).
    var sendsSecurityResultForNone: Bool { self >= .v3_8 }

    public static func < (a: RFBProtocolVersion, b: RFBProtocolVersion) -> Bool {
        (a.major, a.minor) < (b.major, b.minor)
    }

    public var description: String { "\(major).\(minor)" }
}
