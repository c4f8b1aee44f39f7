import Foundation
@testable import RemoteSupportCore
import Testing

@Suite("Rate limiting")
struct LimiterTests {
    let start = Date(timeIntervalSince1970: 10_000)

    @Test func bucketRefillsAndBlocksWithExponentialBackoff() {
        var limiter = FailureLimiter<String>(policy: .init(burst: 3, refillInterval: 10, baseBlock: 60, maximumBlock: 240))
        var now = start
        for _ in 0..<2 { limiter.recordFailure("a", at: now) }
        #expect(limiter.retryAfter("a", at: now) == nil)
        limiter.recordFailure("a", at: now)  // bucket empty: blocked 60 s
        #expect(limiter.retryAfter("a", at: now) == 60)
        #expect(limiter.retryAfter("b", at: now) == nil)
        now = now.addingTimeInterval(60)
        // No refill while blocked: one token after another 10 s.
        #expect(limiter.retryAfter("a", at: now) == 10)
        now = now.addingTimeInterval(10)
        #expect(limiter.retryAfter("a", at: now) == nil)
        var blocks: [TimeInterval] = []
        for _ in 0..<5 {
            limiter.recordFailure("a", at: now)
            let block = limiter.retryAfter("a", at: now) ?? 0
            blocks.append(block)
            now = now.addingTimeInterval(block + 10)
        }
        #expect(blocks == [120, 240, 240, 240, 240])
        // Quiet long enough to refill: strikes forgiven.
        now = now.addingTimeInterval(30)
        #expect(limiter.retryAfter("a", at: now) == nil)
        for _ in 0..<3 { limiter.recordFailure("a", at: now) }
        #expect(limiter.retryAfter("a", at: now) == 60)
    }

    @Test func sustainedGuessingGetsAboutOneTryPerMaximumBlock() {
        var limiter = FailureLimiter<String>(policy: GuessLimiter.Policy.connectionIDs.global)
        var now = start
        var tries = 0
        // A guesser that tries the moment it is allowed, for one day.
        while now < start.addingTimeInterval(86400) {
            if let wait = limiter.retryAfter("*", at: now) {
                now = now.addingTimeInterval(wait)
                continue
            }
            limiter.recordFailure("*", at: now)
            tries += 1
        }
        // 100 at once, then the doubling blocks (1, 2, 4 ... 32 min, then 1 h each): README's figure.
        #expect((120...135).contains(tries), "\(tries) tries in a day")
    }

    @Test func memoryIsBounded() {
        var limiter = FailureLimiter<String>(policy: .init(burst: 2, refillInterval: 1, baseBlock: 1, maximumBlock: 1), capacity: 100)
        for index in 0..<10_000 { limiter.recordFailure("k\(index)", at: start.addingTimeInterval(Double(index) * 0.001)) }
        #expect(limiter.count <= 100)
    }

    @Test func guessLimiterCountsAddressNetworkAndEveryone() throws {
        var limiter = GuessLimiter(policy: .connectionIDs)
        for _ in 0..<5 { limiter.recordFailure(address: "198.51.100.7", at: start) }
        #expect(throws: DomainError(.rateLimited)) { try limiter.check(address: "198.51.100.7", at: start) }
        try limiter.check(address: "198.51.100.8", at: start)
        // The /24 runs dry after 20 failures, whichever addresses in it made them.
        for index in 0..<15 { limiter.recordFailure(address: "198.51.100.\(20 + index)", at: start) }
        #expect(throws: DomainError(.rateLimited)) { try limiter.check(address: "198.51.100.200", at: start) }
        try limiter.check(address: "198.51.101.1", at: start)
        // IPv6: the /64.
        for index in 0..<20 { limiter.recordFailure(address: "2001:db8:1:2::\(index + 1)", at: start) }
        #expect(throws: DomainError(.rateLimited)) { try limiter.check(address: "[2001:db8:1:2:ffff::9]", at: start) }
        try limiter.check(address: "2001:db8:1:3::1", at: start)
        // Everyone: 100 failures from all over.
        for index in 0..<60 { limiter.recordFailure(address: "203.0.\(index).1", at: start) }
        #expect(throws: DomainError(.rateLimited)) { try limiter.check(address: "192.0.2.1", at: start) }
    }

    @Test(arguments: [("192.0.2.7", "192.0.2.7", "192.0.2.0/24"), ("::ffff:192.0.2.7", "192.0.2.7", "192.0.2.0/24"),
                      ("2001:db8::1", "2001:db8:0:0:0:0:0:1", "2001:db8:0:0::/64"), ("[::1]", "0:0:0:0:0:0:0:1", "0:0:0:0::/64"),
                      ("fe80::1%eth0", "fe80:0:0:0:0:0:0:1", "fe80:0:0:0::/64")])
    func networkAddresses(_ text: String, _ address: String, _ network: String) throws {
        let parsed = try #require(NetworkAddress(text))
        #expect(parsed.description == address && parsed.network == network)
    }

    @Test(arguments: ["", "host", "1.2.3", "1.2.3.4.5", "256.1.1.1", "::g", String(repeating: "1", count: 500)])
    func notAddresses(_ text: String) {
        #expect(NetworkAddress(text) == nil)
    }
}
