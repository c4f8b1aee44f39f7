import Foundation
import RemoteSupportCore
import RemoteSupportPostgres
import RemoteSupportSQLite
import RemoteSupportStore
import Synchronization
import Testing

/// The two store implementations every contract test runs against. PostgreSQL comes from
/// `RS_TEST_POSTGRES_URL` (scripts/test.sh starts a server and sets it); each test gets a fresh schema.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? { ProcessInfo.processInfo.environment["RS_TEST_POSTGRES_URL"] }

    /// Runs `body` with a fresh, empty store, and cleans up after it.
    func withStore<T>(_ body: (any SupportStore) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rs-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let store = try SQLiteStore(path: folder.appendingPathComponent("test.sqlite").path)
            defer { try? store.close() }
            return try await body(store)
        case .postgres:
            guard let url = Self.postgresURL else {
                throw StoreError(.unavailable, "RS_TEST_POSTGRES_URL is not set: run `export RS_TEST_POSTGRES_URL=$(bash scripts/postgres.sh)` (scripts/test.sh does)")
            }
            let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
            let store = try await PostgresStore.connect(url: url, schema: String(schema))
            do {
                let result = try await body(store)
                try await store.dropSchemaForTesting()
                await store.shutdown()
                return result
            } catch {
                try? await store.dropSchemaForTesting()
                await store.shutdown()
                throw error
            }
        }
    }
}

/// A clock tests move by hand.
final class TestClock: Sendable {
    let current: Mutex<Date>
    init(_ start: Date = Date(timeIntervalSince1970: 1_790_000_000)) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    var function: @Sendable () -> Date { { [self] in self.now } }
}

/// A deterministic generator for building test data (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Fixtures {
    static let start = Date(timeIntervalSince1970: 1_790_000_000)

    static func agent(_ name: String, email: String? = nil, role: AgentRole = .agent, created: Date = start) throws -> Agent {
        try Agent(email: EmailAddress(email ?? "\(name.lowercased().replacingOccurrences(of: " ", with: "."))@example.com"),
                  name: name, jobTitle: "Support", role: role, slug: AgentSlug(derivedFrom: name), created: created)
    }

    static func credential(_ password: String = "correct horse battery") throws -> AgentCredential {
        var random = SeededGenerator(seed: 7)
        return AgentCredential(passwordHash: try PasswordHash(hashing: password, parameters: .testing, using: &random),
                               mustChangePassword: true)
    }

    static func endUser(_ name: String = "Bob", machine: String = "BOB-PC", address: String = "192.0.2.10") throws -> EndUserDetails {
        try EndUserDetails(name: name, machineName: machine, operatingSystem: "Linux 6.1", address: address)
    }

    static func session(agent: Agent, name: String = "Bob", created: Date = start, method: JoinMethod = .personalLink,
                        ticket: String? = nil) throws -> SupportSession {
        SupportSession(agentID: agent.id, joinMethod: method, joinReference: nil, ticket: ticket, invitedName: nil,
                       endUser: try endUser(name), created: created)
    }
}
