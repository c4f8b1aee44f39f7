import Foundation
@testable import RemoteSupportCore
import Testing

@Suite("Connection IDs")
struct ConnectionIDTests {
    @Test(arguments: [("123 456", 123_456), ("123456", 123_456), ("123-456", 123_456), (" 000 001 ", 1), ("9.9.9.9.9.9", 999_999)])
    func parsing(_ text: String, _ value: Int) throws {
        #expect(try ConnectionID(parsing: text).value == value)
    }

    @Test(arguments: ["", "12345", "1234567", "12a456", "123_456", "１２３４５６", "123 456\n", "-1", String(repeating: "1", count: 100)])
    func rejected(_ text: String) {
        #expect(throws: DomainError(.invalidField)) { try ConnectionID(parsing: text) }
    }

    @Test func formatting() throws {
        #expect(try ConnectionID(value: 7).formatted == "000 007")
        #expect(try ConnectionID(value: 123_456).formatted == "123 456")
        #expect(try ConnectionID(value: 999_999).digits == "999999")
        #expect(throws: DomainError(.invalidField)) { try ConnectionID(value: 1_000_000) }
        #expect(throws: DomainError(.invalidField)) { try ConnectionID(value: -1) }
    }

    @Test func drawsAvoidTheExcludedCodes() throws {
        var random = TestRandom(seed: 5)
        // Mostly taken (in a space of 1000, the same algorithm): the k-th-free-code path.
        let free: Set<Int> = [3, 17, 250, 499, 500, 777, 901, 990, 998, 999]
        let excluded = Set(0..<1000).subtracting(free)
        var seen = Set<Int>()
        for _ in 0..<200 {
            let code = try ConnectionID.drawValue(from: 1000, excluding: excluded, using: &random)
            #expect(free.contains(code))
            seen.insert(code)
        }
        #expect(seen == free)
        #expect(throws: DomainError(.exhausted)) { try ConnectionID.drawValue(from: 1000, excluding: Set(0..<1000), using: &random) }
        #expect(try ConnectionID.drawValue(from: 1000, excluding: Set(0..<1000).subtracting([424]), using: &random) == 424)
        // Values outside the space do not count as taken codes.
        #expect(try ConnectionID.drawValue(from: 1000, excluding: Set(0..<1000).subtracting([5]).union([-1, 2000]), using: &random) == 5)
        // The real space, a few codes live: never one of them.
        let live: Set<Int> = [1, 2, 3, 123_456]
        for _ in 0..<100 { #expect(!live.contains(try ConnectionID.draw(excluding: live, using: &random).value)) }
    }

    @Test(arguments: [0.4, 0.99])
    func drawsAreUniformOverTheFreeCodes(takenShare: Double) throws {
        // A share of 1000 codes taken at random (0.4: rejection sampling; 0.99: the k-th-free-code walk).
        // Each free code should come up equally often: chi-square against the 0.1% critical value for its
        // degrees of freedom (Wilson-Hilferty), so a correct draw fails by chance once in a thousand seeds.
        var random = TestRandom(seed: 11)
        var excluded = Set<Int>()
        while Double(excluded.count) < takenShare * 1000 { excluded.insert(Int(random.next() % 1000)) }
        let freeCount = 1000 - excluded.count
        var counts: [Int: Int] = [:]
        let draws = freeCount * 20
        for _ in 0..<draws { counts[try ConnectionID.drawValue(from: 1000, excluding: excluded, using: &random), default: 0] += 1 }
        #expect(Set(counts.keys).isDisjoint(with: excluded) && counts.count == freeCount)
        let chiSquare = counts.values.reduce(0.0) { $0 + pow(Double($1) - 20, 2) / 20 }
        let k = Double(freeCount - 1)
        let critical = k * pow(1 - 2 / (9 * k) + 3.09 * (2 / (9 * k)).squareRoot(), 3)
        #expect(chiSquare < critical, "chi-square \(chiSquare) >= \(critical)")
    }
}
