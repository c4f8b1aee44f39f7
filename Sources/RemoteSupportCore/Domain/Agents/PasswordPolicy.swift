/// What a new password must be. Length is what matters (NIST SP 800-63B 3.1.1.2): at least
/// `minimumLength` characters, at most `maximumBytes` (so nobody can make us hash a megabyte), not the
/// current password again (which, for an agent still on their default password, is the default).
/// No composition rules: they make passwords worse, not better.
public struct PasswordPolicy: Sendable, Hashable {
    public var minimumLength: Int
    public var maximumBytes: Int

    public init(minimumLength: Int = 10, maximumBytes: Int = 256) {
        self.minimumLength = minimumLength
        self.maximumBytes = maximumBytes
    }

    /// `.weakPassword` with the reason, or nothing when `password` is acceptable. `current` is the hash of
    /// the password it replaces (checked last: it is the slow part).
    public func check(newPassword password: String, current: PasswordHash?) throws(DomainError) {
        guard password.utf8.count <= maximumBytes else {
            throw DomainError(.weakPassword, "the password is longer than \(maximumBytes) bytes")
        }
        guard password.count >= minimumLength else {
            throw DomainError(.weakPassword, "the password needs at least \(minimumLength) characters")
        }
        guard !password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw DomainError(.weakPassword, "the password contains a control character")
        }
        if let current, current.verify(password) {
            throw DomainError(.weakPassword, "the new password must differ from the current (or default) one")
        }
    }
}

/// One-time passwords given to new agents (and the first admin): 20 characters from an alphabet without
/// look-alikes (no 0/O, 1/l/I), in groups of five, about 100 bits. Typed once, then changed.
public enum DefaultPassword {
    static let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")

    public static func generate(using generator: inout some RandomNumberGenerator) -> String {
        var groups: [String] = []
        for _ in 0..<4 {
            groups.append(String((0..<5).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] }))
        }
        return groups.joined(separator: "-")
    }
}
