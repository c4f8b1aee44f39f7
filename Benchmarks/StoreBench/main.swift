// store-bench: what the domain and storage cost, on this machine, in one run.
//   swift run -c release store-bench [--postgres URL] [--sessions 10000] [--codes 2000]
// - password hash per login: scrypt N=2^17 r=8 p=1 (the default) and PBKDF2-SHA256 600,000 rounds, beside
//   one SHA-256 of the same bytes; and a whole SupportDesk.login on SQLite at the default cost;
// - connection IDs: issue and join (lookup + atomic consume + session insert) per second, per store,
//   beside a plain audit-row insert on the same store (the floor of one durable write);
// - listing 10,000 sessions: first page, every page, count, lobby, a text filter, per store.
import Crypto
import Foundation
import RemoteSupportCore
import RemoteSupportPostgres
import RemoteSupportSQLite
import RemoteSupportStore

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
func ms(_ value: Double) -> String { String(format: "%.2f ms", value * 1000) }
func rate(_ count: Int, _ time: Double) -> String { String(format: "%.0f/s", Double(count) / time) }


func option(_ name: String, in arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let postgresURL = option("--postgres") ?? ProcessInfo.processInfo.environment["RS_TEST_POSTGRES_URL"]
let sessionCount = Int(option("--sessions") ?? "") ?? 10_000
let codeCount = Int(option("--codes") ?? "") ?? 2000

// MARK: Password hashing

print("== password hash per login (median of 5)")
var random = SystemRandomNumberGenerator()
let password = "correct horse battery staple"
let sha = median((0..<5).map { _ in seconds { for _ in 0..<10_000 { _ = SHA256.hash(data: Array(password.utf8)) } } }) / 10_000
print("sha256 (baseline):              \(String(format: "%.4f ms", sha * 1000))")
for (name, parameters) in [("scrypt N=2^17 r=8 p=1 (default)", PasswordHashParameters.default),
                           ("pbkdf2-sha256 600000", .pbkdf2SHA256(iterations: 600_000))] {
    let hash = try PasswordHash(hashing: password, parameters: parameters, using: &random)
    let time = median((0..<5).map { _ in seconds { _ = hash.verify(password) } })
    print("\(name.padding(toLength: 32, withPad: " ", startingAt: 0))\(ms(time))  (\(String(format: "%.0f", time / sha))x sha256, "
          + "\(parameters.memoryBytes >> 20) MiB, \(String(format: "%.1f", 1 / time)) logins/s per core)")
}

// MARK: Stores

struct Backend {
    let name: String
    let open: () async throws -> (any SupportStore, () async -> Void)
}

var backends = [Backend(name: "sqlite") {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let store = try SQLiteStore(path: folder.appendingPathComponent("bench.sqlite").path)
    return (store, { try? store.close(); try? FileManager.default.removeItem(at: folder) })
}]
if let postgresURL {
    backends.append(Backend(name: "postgres") {
        let store = try await PostgresStore.connect(url: postgresURL, schema: "bench_\(UInt32.random(in: 0...UInt32.max))")
        return (store, { try? await store.dropSchemaForTesting(); await store.shutdown() })
    })
} else {
    print("(no --postgres URL or RS_TEST_POSTGRES_URL: SQLite only)")
}

for backend in backends {
    let (store, close) = try await backend.open()
    let clock = ManualClock()
    let desk = try SupportDesk(store: store, configuration: .init(publicURL: try PublicURL("https://help.example.com"),
                                                                 passwordHashing: backend.name == "sqlite" ? .default : .testing),
                               clock: { clock.now })
    let (_, initial) = try await desk.bootstrap(adminEmail: "admin@example.com")!
    var loginTime = 0.0
    var grant = try await desk.login(email: "admin@example.com", password: initial, address: "127.0.0.1")
    if backend.name == "sqlite" {
        loginTime = try await seconds { grant = try await desk.login(email: "admin@example.com", password: initial, address: "127.0.0.2") }
        print("\n== whole SupportDesk.login at the default cost (sqlite): \(ms(loginTime))")
    }
    let token = try await desk.changePassword(grant.token.text, current: initial, new: "bench password 1", address: "").token.text

    print("\n== \(backend.name): connection IDs (\(codeCount) issued, then each joined once)")
    let floor = try await seconds {
        for index in 0..<codeCount {
            try await store.appendAudit(AuditEvent(time: clock.now, action: .bootstrap, actor: .system, subject: "\(index)"))
        }
    }
    var codes: [ConnectionCodeGrant] = []
    let issue = try await seconds {
        for _ in 0..<codeCount { codes.append(try await desk.issueConnectionID(token, address: "")) }
    }
    let endUser = try EndUserDetails(name: "Bench", machineName: "PC", operatingSystem: "Linux", address: "127.0.0.1")
    let join = try await seconds {
        for code in codes { _ = try await desk.joinWithConnectionID(code.code.formatted, endUser: endUser) }
    }
    print("audit insert (floor):  \(rate(codeCount, floor))")
    print("issue:                 \(rate(codeCount, issue))  (\(String(format: "%.1f", issue / floor))x the floor's time; "
          + "each reads the codes in quarantine, draws, upserts, audits)")
    print("join by code:          \(rate(codeCount, join))  (\(String(format: "%.1f", join / floor))x; consume + session + audit)")

    print("\n== \(backend.name): listing \(sessionCount) sessions")
    let agent = try await store.agent(email: try EmailAddress("admin@example.com"))!
    var generator = SystemRandomNumberGenerator()
    let insert = try await seconds {
        for index in 0..<sessionCount {
            var session = SupportSession(agentID: agent.id, joinMethod: .personalLink, joinReference: nil,
                                         ticket: index % 10 == 0 ? "INC-\(index)" : nil, invitedName: nil,
                                         endUser: try EndUserDetails(name: "User \(index)", machineName: "PC-\(index % 97)",
                                                                     operatingSystem: "Linux", address: "192.0.2.1"),
                                         created: clock.now.addingTimeInterval(Double(index)))
            if generator.next() % 4 != 0 {
                try session.apply(.connect(agent), at: session.created)
                try session.apply(.end(.agentEnded), at: session.created.addingTimeInterval(60))
            }
            try await store.createSession(session)
        }
    }
    print("insert:                \(rate(sessionCount, insert))")
    let total = codeCount + sessionCount
    let first = try await median5 { _ = try await store.sessions(SessionQuery(limit: 50)) }
    var pages = 0
    let all = try await seconds {
        var cursor: PageCursor?
        repeat {
            let page = try await store.sessions(SessionQuery(limit: 500, after: cursor))
            pages += 1
            cursor = page.next
        } while cursor != nil
    }
    let count = try await median5 { _ = try await store.countSessions(SessionQuery()) }
    let lobby = try await median5 { _ = try await store.sessions(.lobby(of: agent)) }
    let text = try await median5 { _ = try await store.sessions(SessionQuery(text: "inc-99", limit: 50)) }
    print("first page of 50:      \(ms(first))")
    print("all \(total) in \(pages) pages of 500: \(ms(all))  (\(ms(all / Double(pages))) a page)")
    print("count:                 \(ms(count))")
    print("lobby (waiting):       \(ms(lobby))")
    print("text filter 'inc-99':  \(ms(text))  (a scan: no index on substrings)")
    await close()
}

/// A clock the benchmark moves itself, so codes never expire mid-run.
final class ManualClock: Sendable {
    let start = Date()
    var now: Date { start }
}

/// The median of five timed runs.
func median5(_ body: () async throws -> Void) async rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<5 { times.append(try await seconds(body)) }
    return median(times)
}
