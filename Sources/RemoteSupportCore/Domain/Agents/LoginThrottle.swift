import Foundation

/// Slows an account down after failed logins, exponentially and temporarily: the first `freeAttempts`
/// failures cost nothing, then each further failure locks the account for `baseDelay * 2^(n - 1)`, capped at
/// `maximumDelay`. Nobody can lock an agent out for good (the delay is capped and ends by itself), yet an
/// online guesser gets only about `86400 / maximumDelay` tries a day. A good login clears it.
///
/// Stored with the account so every broker node sees the same count.
public struct LoginThrottle: Hashable, Sendable, Codable {
    public var consecutiveFailures: Int
    public var lockedUntil: Date?

    public init(consecutiveFailures: Int = 0, lockedUntil: Date? = nil) {
        self.consecutiveFailures = consecutiveFailures
        self.lockedUntil = lockedUntil
    }

    public struct Policy: Sendable, Hashable {
        public var freeAttempts: Int
        public var baseDelay: TimeInterval
        public var maximumDelay: TimeInterval

        public init(freeAttempts: Int = 3, baseDelay: TimeInterval = 1, maximumDelay: TimeInterval = 15 * 60) {
            self.freeAttempts = freeAttempts
            self.baseDelay = baseDelay
            self.maximumDelay = maximumDelay
        }
    }

    /// `.rateLimited` (with the seconds left) while the account is locked; checked before the password, so a
    /// locked account costs no hashing.
    public func check(at now: Date) throws(DomainError) {
        if let lockedUntil, lockedUntil > now {
            throw DomainError(.rateLimited, "too many failed logins for this account",
                              retryAfter: lockedUntil.timeIntervalSince(now))
        }
    }

    public mutating func recordFailure(at now: Date, policy: Policy) {
        consecutiveFailures += 1
        let over = consecutiveFailures - policy.freeAttempts
        guard over > 0 else { return }
        let delay = min(policy.maximumDelay, policy.baseDelay * pow(2, Double(min(over - 1, 40))))
        lockedUntil = now.addingTimeInterval(delay)
    }

    public mutating func recordSuccess() {
        consecutiveFailures = 0
        lockedUntil = nil
    }
}
