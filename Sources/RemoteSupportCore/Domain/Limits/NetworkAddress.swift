import Foundation

/// A client's IP address as the limiters see it: the address itself, and the network it belongs to (the
/// /24 for IPv4, the /64 for IPv6, what one subscriber usually gets), so one attacker cannot dodge a
/// per-address limit by hopping addresses. IPv4-mapped IPv6 addresses count as IPv4.
public struct NetworkAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 or 16 bytes.
    public let bytes: [UInt8]

    /// `192.0.2.7`, `2001:db8::1`, `[2001:db8::1]`, `::ffff:192.0.2.7`, with or without a `%zone`.
    /// nil for anything else (the limiters then key on the text, capped).
    public init?(_ text: some StringProtocol) {
        var string = String(text.prefix(64))
        if string.hasPrefix("["), string.hasSuffix("]") { string = String(string.dropFirst().dropLast()) }
        if let zone = string.firstIndex(of: "%") { string = String(string[..<zone]) }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, string, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, string, &v6) == 1 {
            let all = withUnsafeBytes(of: &v6) { Array($0) }
            bytes = all[0..<10].allSatisfy({ $0 == 0 }) && all[10] == 0xFF && all[11] == 0xFF ? Array(all[12...]) : all
        } else {
            return nil
        }
    }

    public var isIPv4: Bool { bytes.count == 4 }

    /// The /24 (IPv4) or /64 (IPv6) this address is in, as text: `192.0.2.0/24`, `2001:db8:0:0::/64`.
    public var network: String {
        if isIPv4 { return "\(bytes[0]).\(bytes[1]).\(bytes[2]).0/24" }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }

    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
    }
}
