import Foundation

/// Limits failures (wrong passwords, wrong codes, unknown short links) per key, with exponential backoff.
///
/// Each key has a bucket of `burst` tokens that refills one token per `refillInterval`; a failure takes a
/// token. When the bucket runs dry the key is blocked for `baseBlock * 2^(strikes - 1)` (capped at
/// `maximumBlock`), and the bucket does not refill while blocked. Strikes are forgiven only when the
/// bucket is full again. So a sustained guesser gets about one try per `maximumBlock`, while a person who
/// mistypes now and then never notices. Memory is bounded: at most `capacity` keys, the quietest evicted.
///
/// Pure: time is passed in. Not thread-safe: the host serialises access (an actor or a lock).
public struct FailureLimiter<Key: Hashable & Sendable>: Sendable {
    public struct Policy: Sendable, Hashable {
        public var burst: Int
        public var refillInterval: TimeInterval
        public var baseBlock: TimeInterval
        public var maximumBlock: TimeInterval

        public init(burst: Int, refillInterval: TimeInterval, baseBlock: TimeInterval, maximumBlock: TimeInterval) {
            self.burst = max(1, burst)
            self.refillInterval = refillInterval
            self.baseBlock = baseBlock
            self.maximumBlock = max(baseBlock, maximumBlock)
        }
    }

    struct Bucket: Sendable {
        var tokens: Double
        var refilled: Date
        var blockedUntil: Date?
        var strikes: Int
    }

    public let policy: Policy
    public let capacity: Int
    var buckets: [Key: Bucket] = [:]

    public init(policy: Policy, capacity: Int = 100_000) {
        self.policy = policy
        self.capacity = max(1, capacity)
    }

    /// Seconds until `key` may try again, or nil when it may now.
    public func retryAfter(_ key: Key, at now: Date) -> TimeInterval? {
        guard var bucket = buckets[key] else { return nil }
        if let until = bucket.blockedUntil, until > now { return until.timeIntervalSince(now) }
        refill(&bucket, at: now)
        if bucket.tokens >= 1 { return nil }
        return (1 - bucket.tokens) * policy.refillInterval
    }

    /// Records a failure of `key`.
    public mutating func recordFailure(_ key: Key, at now: Date) {
        var bucket = buckets[key] ?? Bucket(tokens: Double(policy.burst), refilled: now, blockedUntil: nil, strikes: 0)
        refill(&bucket, at: now)
        bucket.tokens = max(0, bucket.tokens - 1)
        if bucket.tokens < 1 {
            bucket.strikes += 1
            let block = min(policy.maximumBlock, policy.baseBlock * pow(2, Double(min(bucket.strikes - 1, 40))))
            bucket.blockedUntil = now.addingTimeInterval(block)
            bucket.refilled = bucket.blockedUntil!
        }
        if buckets[key] == nil && buckets.count >= capacity { evict(at: now) }
        buckets[key] = bucket
    }

    /// Forgets `key` (e.g. a good login from that address).
    public mutating func reset(_ key: Key) { buckets[key] = nil }

    /// Number of keys tracked.
    public var count: Int { buckets.count }

    func refill(_ bucket: inout Bucket, at now: Date) {
        if let until = bucket.blockedUntil {
            guard now >= until else { return }
            bucket.blockedUntil = nil
            bucket.refilled = max(bucket.refilled, until)
        }
        let elapsed = max(0, now.timeIntervalSince(bucket.refilled))
        bucket.tokens = min(Double(policy.burst), bucket.tokens + elapsed / policy.refillInterval)
        bucket.refilled = max(bucket.refilled, now)
        if bucket.tokens >= Double(policy.burst) { bucket.strikes = 0 }
    }

    /// Drops keys whose bucket has refilled; if none has, the one blocked or refilled longest ago.
    mutating func evict(at now: Date) {
        let full = buckets.filter { _, bucket in
            var copy = bucket
            refill(&copy, at: now)
            return copy.tokens >= Double(policy.burst) && copy.blockedUntil == nil
        }
        if !full.isEmpty {
            for key in full.keys { buckets[key] = nil }
            return
        }
        if let oldest = buckets.min(by: { $0.value.refilled < $1.value.refilled })?.key { buckets[oldest] = nil }
    }
}
