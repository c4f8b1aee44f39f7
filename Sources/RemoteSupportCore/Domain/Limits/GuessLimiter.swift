import Foundation

/// Limits failed guesses of something secret but short (connection IDs, short-link codes, passwords) at
/// three levels: the source address, its network (/24 or /64) and everyone together, each a
/// `FailureLimiter`. A guess is allowed only when all three allow it; a failure counts against all three.
/// The global level is what bounds a distributed attacker; its cost is that, under attack, honest
/// mistypers wait too (links keep working).
public struct GuessLimiter: Sendable {
    public struct Policy: Sendable, Hashable {
        public var perAddress: FailureLimiter<String>.Policy
        public var perNetwork: FailureLimiter<String>.Policy
        public var global: FailureLimiter<String>.Policy

        public init(perAddress: FailureLimiter<String>.Policy, perNetwork: FailureLimiter<String>.Policy,
                    global: FailureLimiter<String>.Policy) {
            self.perAddress = perAddress
            self.perNetwork = perNetwork
            self.global = global
        }

        /// Connection IDs (README, "How guessable is a connection ID"): per address 5 failures then
        /// 1 a minute; per network 20 then 1 per 20 s; globally 100 then 1 per 10 s; blocks from 1 minute,
        /// doubling to 1 hour.
        public static let connectionIDs = Policy(
            perAddress: .init(burst: 5, refillInterval: 60, baseBlock: 60, maximumBlock: 3600),
            perNetwork: .init(burst: 20, refillInterval: 20, baseBlock: 60, maximumBlock: 3600),
            global: .init(burst: 100, refillInterval: 10, baseBlock: 60, maximumBlock: 3600))

        /// Short links: looser (a 16-character code cannot be guessed), only against scanning.
        public static let shortLinks = Policy(
            perAddress: .init(burst: 20, refillInterval: 10, baseBlock: 30, maximumBlock: 900),
            perNetwork: .init(burst: 60, refillInterval: 5, baseBlock: 30, maximumBlock: 900),
            global: .init(burst: 1000, refillInterval: 0.1, baseBlock: 10, maximumBlock: 300))

        /// Logins per source address (the per-account slowdown is `LoginThrottle`): 10 failures then
        /// 1 a minute, blocks from 1 minute doubling to 1 hour; network and global loose.
        public static let logins = Policy(
            perAddress: .init(burst: 10, refillInterval: 60, baseBlock: 60, maximumBlock: 3600),
            perNetwork: .init(burst: 50, refillInterval: 10, baseBlock: 60, maximumBlock: 3600),
            global: .init(burst: 1000, refillInterval: 0.5, baseBlock: 10, maximumBlock: 600))
    }

    var perAddress: FailureLimiter<String>
    var perNetwork: FailureLimiter<String>
    var global: FailureLimiter<String>

    public init(policy: Policy, capacity: Int = 100_000) {
        perAddress = FailureLimiter(policy: policy.perAddress, capacity: capacity)
        perNetwork = FailureLimiter(policy: policy.perNetwork, capacity: capacity)
        global = FailureLimiter(policy: policy.global, capacity: 1)
    }

    /// `.rateLimited` with the longest wait of the three levels, or nothing when `address` may guess.
    public func check(address: String, at now: Date) throws(DomainError) {
        let (addressKey, networkKey) = Self.keys(for: address)
        let waits = [perAddress.retryAfter(addressKey, at: now), perNetwork.retryAfter(networkKey, at: now),
                     global.retryAfter("*", at: now)].compactMap { $0 }
        if let wait = waits.max() {
            throw DomainError(.rateLimited, "too many failed attempts; try again later", retryAfter: wait)
        }
    }

    public mutating func recordFailure(address: String, at now: Date) {
        let (addressKey, networkKey) = Self.keys(for: address)
        perAddress.recordFailure(addressKey, at: now)
        perNetwork.recordFailure(networkKey, at: now)
        global.recordFailure("*", at: now)
    }

    static func keys(for address: String) -> (address: String, network: String) {
        guard let parsed = NetworkAddress(address) else {
            let key = String(address.prefix(64))
            return (key, key)
        }
        return (parsed.description, parsed.network)
    }
}
