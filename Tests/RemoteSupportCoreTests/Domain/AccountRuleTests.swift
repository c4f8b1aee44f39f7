import Foundation
@testable import RemoteSupportCore
import Testing

@Suite("Accounts: passwords, throttling, tokens")
struct AccountRuleTests {
    @Test func scryptAtTheDefaultParametersVerifiesAndStoresItsParameters() throws {
        var random = SystemRandomNumberGenerator()
        let hash = try PasswordHash(hashing: "correct horse battery staple", using: &random)
        #expect(hash.stored.hasPrefix("$scrypt$ln=17,r=8,p=1$"))
        #expect(hash.parameters.memoryBytes >= 128 << 20)
        let read = try PasswordHash(stored: hash.stored)
        #expect(read == hash)
        // One verification only: at -Onone, BoringSSL's scrypt at N=2^17 takes seconds (release: ~0.3 s).
        #expect(read.verify("correct horse battery staple"))
        #expect(!read.needsRehash(for: .default))
        #expect(!hash.description.contains(hash.stored.split(separator: "$").last!))
    }

    @Test func pbkdf2AndWeakerHashesAskForARehash() throws {
        var random = TestRandom(seed: 1)
        let pbkdf2 = try PasswordHash(hashing: "pässwörd", parameters: .pbkdf2SHA256(iterations: 600_000), using: &random)
        #expect(pbkdf2.stored.hasPrefix("$pbkdf2-sha256$i=600000$"))
        #expect(try PasswordHash(stored: pbkdf2.stored).verify("pässwörd"))
        #expect(!pbkdf2.verify("passwort"))
        #expect(pbkdf2.needsRehash(for: .default))
        let weak = try PasswordHash(hashing: "x", parameters: .testing, using: &random)
        #expect(weak.needsRehash(for: .default))
        // Two hashes of one password differ (salt).
        let again = try PasswordHash(hashing: "x", parameters: .testing, using: &random)
        #expect(weak.stored != again.stored && again.verify("x"))
    }

    @Test(arguments: ["", "plain", "$scrypt$ln=17,r=8,p=1$$", "$scrypt$ln=30,r=8,p=1$c2FsdHNhbHQ$" + String(repeating: "A", count: 43),
                      "$scrypt$ln=17,r=8$c2FsdHNhbHQ$" + String(repeating: "A", count: 43),
                      "$bcrypt$10$abc$def", "$pbkdf2-sha256$i=1$c2FsdHNhbHQ$" + String(repeating: "A", count: 43),
                      "$pbkdf2-sha256$i=600000$c2FsdHNhbHQ$AAAA", "$scrypt$ln=17,r=8,p=1$!!!$AAAA"])
    func unreadableStoredHashes(_ text: String) {
        #expect(throws: DomainError(.corruptRecord)) { try PasswordHash(stored: text) }
    }

    @Test func passwordPolicy() throws {
        var random = TestRandom(seed: 2)
        let current = try PasswordHash(hashing: "the default one", parameters: .testing, using: &random)
        let policy = PasswordPolicy()
        try policy.check(newPassword: "a brand new secret", current: current)
        try policy.check(newPassword: "ünïcödé-pw", current: nil)  // 10 characters
        for bad in ["short", "123456789", "the default one", String(repeating: "x", count: 257), "tab\there is fine?"] {
            #expect(throws: DomainError(.weakPassword), "\(bad)") { try policy.check(newPassword: bad, current: current) }
        }
    }

    @Test func defaultPasswordsAreLongAndReadable() {
        var random = TestRandom(seed: 3)
        var seen = Set<String>()
        for _ in 0..<200 {
            let password = DefaultPassword.generate(using: &random)
            #expect(password.count == 23 && password.split(separator: "-").count == 4)
            #expect(!password.contains { "01lIoO".contains($0) })
            seen.insert(password)
        }
        #expect(seen.count == 200)
    }

    @Test func loginThrottleIsExponentialCappedAndTemporary() throws {
        let policy = LoginThrottle.Policy(freeAttempts: 3, baseDelay: 1, maximumDelay: 60)
        var throttle = LoginThrottle()
        var now = Date(timeIntervalSince1970: 1000)
        var delays: [TimeInterval] = []
        for _ in 0..<12 {
            try throttle.check(at: now)
            throttle.recordFailure(at: now, policy: policy)
            let delay = throttle.lockedUntil.map { $0.timeIntervalSince(now) } ?? 0
            delays.append(delay)
            if delay > 0 {
                do {
                    try throttle.check(at: now.addingTimeInterval(delay - 0.5))
                    Issue.record("allowed while locked")
                } catch {
                    #expect(error.code == .rateLimited && error.retryAfter == 0.5)
                }
            }
            now = now.addingTimeInterval(delay)
        }
        #expect(delays == [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60])
        throttle.recordSuccess()
        #expect(throttle == LoginThrottle())
    }

    @Test func loginTokensAreRandomAndOnlyTheirDigestIsKept() throws {
        var random = SystemRandomNumberGenerator()
        let token = LoginToken(using: &random)
        #expect(token.text.count == 43)
        #expect(LoginToken(presented: token.text) == token)
        #expect(token.digest.hex.count == 64 && token.digest == TokenDigest(of: token.text))
        #expect(token.digest != LoginToken(using: &random).digest)
        #expect(!"\(token)".contains(token.text))
        for bad in ["", "short", String(repeating: "A", count: 44), String(repeating: "!", count: 43), token.text + "\n"] {
            #expect(LoginToken(presented: bad) == nil)
        }
    }

    @Test func loginSessionsExpireIdleAndAbsolute() {
        let policy = LoginSessionPolicy(idleTimeout: 100, absoluteLifetime: 1000)
        let start = Date(timeIntervalSince1970: 0)
        var session = LoginSession(digest: TokenDigest(of: "x"), agentID: AgentID(), created: start, policy: policy, address: "")
        #expect(session.isValid(at: start.addingTimeInterval(99), policy: policy))
        #expect(!session.isValid(at: start.addingTimeInterval(100), policy: policy))
        session.lastSeen = start.addingTimeInterval(950)
        #expect(session.isValid(at: start.addingTimeInterval(999), policy: policy))
        #expect(!session.isValid(at: start.addingTimeInterval(1000), policy: policy))
    }
}
