// store-crash-writer: writes a stream of support sessions to a store and prints "ack N" after each write
// returns, so a test can SIGKILL it (or the database server) at any moment and then check, with
// `verify N`, that every acknowledged write is there and the database is intact.
//
//   store-crash-writer write  (--sqlite PATH | --postgres URL --schema NAME) [--count N]
//   store-crash-writer verify (--sqlite PATH | --postgres URL --schema NAME) ACKED
import Foundation
import RemoteSupportCore
import RemoteSupportPostgres
import RemoteSupportSQLite
import RemoteSupportStore

@main
struct CrashWriter {
    static func main() async {
        do {
            try await run(Array(CommandLine.arguments.dropFirst()))
        } catch {
            FileHandle.standardError.write(Data("store-crash-writer: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ arguments: [String]) async throws {
        guard let mode = arguments.first else { throw Usage() }
        var sqlite: String?, postgres: String?, schema = "public", count = 1_000_000
        var rest: [String] = []
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--sqlite": sqlite = iterator.next()
            case "--postgres": postgres = iterator.next()
            case "--schema": schema = iterator.next() ?? schema
            case "--count": count = Int(iterator.next() ?? "") ?? count
            default: rest.append(argument)
            }
        }
        let store: any SupportStore
        var shutdown: () async -> Void = {}
        if let sqlite {
            store = try SQLiteStore(path: sqlite)
        } else if let postgres {
            let pg = try await PostgresStore.connect(url: postgres, schema: schema)
            store = pg
            shutdown = { await pg.shutdown() }
        } else {
            throw Usage()
        }
        switch mode {
        case "write": try await write(store, count: count)
        case "verify":
            guard let acked = rest.first.flatMap(Int.init) else { throw Usage() }
            try await verify(store, acked: acked)
            if let sqlite {
                let check = try SQLiteStore(path: sqlite).integrityCheck()
                guard check == "ok" else { throw Failure("integrity_check: \(check)") }
                print("integrity ok")
            }
        default: throw Usage()
        }
        await shutdown()
    }

    /// The agent the sessions belong to, created on first run.
    static func agent(_ store: any SupportStore) async throws -> Agent {
        let email = try EmailAddress("writer@example.com")
        if let agent = try await store.agent(email: email) { return agent }
        var random = SystemRandomNumberGenerator()
        let agent = try Agent(email: email, name: "Writer", slug: AgentSlug("writer"), created: Date())
        try await store.createAgent(agent, credential: AgentCredential(
            passwordHash: try PasswordHash(hashing: "unused", parameters: .testing, using: &random), mustChangePassword: true))
        return agent
    }

    /// Session number `n` has a fixed id, so verification needs nothing but the number.
    static func sessionID(_ n: Int) -> SessionID {
        let hex = String(n, radix: 16)
        return SessionID(UUID(uuidString: "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - hex.count) + hex)!)
    }

    static func write(_ store: any SupportStore, count: Int) async throws {
        let agent = try await agent(store)
        // Continue after what a previous (killed) run stored.
        var n = try await store.countSessions(SessionQuery()) + 1
        let end = n + count
        while n < end {
            let session = SupportSession(id: sessionID(n), agentID: agent.id, joinMethod: .connectionID, joinReference: "\(n)",
                                         ticket: "T-\(n)", invitedName: nil,
                                         endUser: try EndUserDetails(name: "user \(n)", machineName: "PC-\(n)", operatingSystem: "Linux",
                                                                     address: "192.0.2.1"),
                                         created: Date())
            do {
                try await store.createSession(session)
            } catch let error as DomainError where error.code == .conflict {
                // Written by the killed run after its last ack: already durable, fine.
            }
            try await store.appendAudit(AuditEvent(time: Date(), action: .sessionJoined, actor: .system, subject: "\(n)"))
            FileHandle.standardOutput.write(Data("ack \(n)\n".utf8))  // unbuffered: the ack is out before the next write
            n += 1
        }
    }

    static func verify(_ store: any SupportStore, acked: Int) async throws {
        var missing: [Int] = []
        for n in 1...max(1, acked) where acked > 0 {
            guard let session = try await store.session(sessionID(n)) else { missing.append(n); continue }
            guard session.ticket == "T-\(n)", session.endUser.machineName == "PC-\(n)" else { throw Failure("session \(n) altered") }
        }
        guard missing.isEmpty else { throw Failure("\(missing.count) acknowledged writes lost, first \(missing.prefix(5))") }
        let total = try await store.countSessions(SessionQuery())
        print("verified \(acked) acknowledged of \(total) stored")
    }

    struct Usage: Error, CustomStringConvertible {
        var description: String { "usage: store-crash-writer write|verify (--sqlite PATH | --postgres URL --schema NAME) [--count N] [ACKED]" }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
