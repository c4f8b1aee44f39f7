import Foundation
import RemoteSupportCore
import RemoteSupportPostgres
import RemoteSupportStore
import Testing

/// What only the PostgreSQL store has: URLs and connection failures, migrations shared by several nodes,
/// and races between connections (the contract suite covers the rest against both stores).
@Suite("PostgresStore")
struct PostgresStoreTests {
    // MARK: Connecting

    @Test(arguments: [
        ("mysql://postgres@127.0.0.1:5432/db", "scheme"),
        ("postgres://127.0.0.1:5432/db", "no user name"),
        ("postgres://postgres@:5432/db", "no host"),
        ("postgres://postgres@127.0.0.1:5432/db?sslmode=maybe", "sslmode must be one of"),
        ("postgres://postgres@127.0.0.1:5432/db?sslmod=require", "unknown parameter"),
        ("postgres://postgres:s3cret@127.0.0.1:5432/a/b", "just the database name"),
        ("not a url at all", "invalid PostgreSQL URL"),
    ])
    func badURLsSayWhatIsWrong(url: String, expected: String) async throws {
        let error = try await #require(throws: StoreError.self) {
            _ = try await PostgresStore.connect(url: url, schema: "unused")
        }
        #expect(error.code == .unavailable)
        #expect(error.reason.contains(expected), "\(error.reason)")
        #expect(!error.reason.contains("s3cret"), "the password leaked: \(error.reason)")
    }

    @Test func urlsParseAsLibpqReadsThem() throws {
        let full = try PostgresConfiguration(url: "postgresql://us%40er:p%3Ass@[::1]:6543/my%20db?sslmode=verify-full&sslrootcert=/ca.pem")
        #expect(full.username == "us@er" && full.password == "p:ss" && full.host == "::1" && full.port == 6543)
        #expect(full.database == "my db" && full.tlsMode == .verifyFull && full.rootCertificatePath == "/ca.pem")
        #expect(full.endpoint == "[::1]:6543")
        #expect(!full.description.contains("p:ss"))

        let plain = try PostgresConfiguration(url: "postgres://postgres@db.example")
        #expect(plain.port == 5432 && plain.database == nil && plain.password == nil && plain.tlsMode == .prefer)
    }

    @Test func anUnreachableServerFailsFastNamingHostAndCause() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let error = try await #require(throws: StoreError.self) {
            _ = try await PostgresStore.connect(url: "postgres://postgres:s3cret@127.0.0.1:1/remotesupport_test", schema: "unused")
        }
        // A guard against retrying or waiting out a connect timeout, not a speed figure: a loaded CI
        // machine took 9.8 s for what takes milliseconds here, so the bound is generous.
        #expect(clock.now - started < .seconds(60))
        #expect(error.code == .unavailable)
        #expect(error.reason.contains("127.0.0.1:1"), "\(error.reason)")
        #expect(error.reason.lowercased().contains("refused"), "\(error.reason)")
        #expect(!error.reason.contains("s3cret"))
    }

    @Test func aMissingDatabaseIsNamedByTheServer() async throws {
        var url = try Self.serverURL()
        url = String(url[..<url.lastIndex(of: "/")!]) + "/no_such_database_here"
        let error = try await #require(throws: StoreError.self) { _ = try await PostgresStore.connect(url: url, schema: "unused") }
        #expect(error.code == .unavailable)
        #expect(error.reason.contains("no_such_database_here") && error.reason.contains("3D000"), "\(error.reason)")
    }

    @Test func requiringTLSFromAServerWithoutItFailsClearly() async throws {
        // The test server does not offer TLS (ssl = off).
        let url = try Self.serverURL() + "?sslmode=require"
        let error = try await #require(throws: StoreError.self) { _ = try await PostgresStore.connect(url: url, schema: "unused") }
        #expect(error.code == .unavailable)
        #expect(error.reason.contains("does not offer TLS"), "\(error.reason)")
    }

    @Test(arguments: ["", "Upper", "1abc", "a-b", "pg_catalog", "x;drop", String(repeating: "a", count: 64)])
    func schemaNamesAreValidated(schema: String) async throws {
        // Checked before connecting: no server needed.
        let url = "postgres://postgres@127.0.0.1:1/remotesupport_test"
        let error = try await #require(throws: StoreError.self) { _ = try await PostgresStore.connect(url: url, schema: schema) }
        #expect(error.reason.contains("schema name"))
    }

    @Test func afterShutdownCallsFailAsUnavailable() async throws {
        let store = try await PostgresStore.connect(url: try Self.serverURL(), schema: Self.freshSchema())
        try await store.dropSchemaForTesting()
        await store.shutdown()
        let error = try await #require(throws: StoreError.self) { _ = try await store.setting("anything") }
        #expect(error.code == .unavailable && error.reason.contains("shut down"), "\(error.reason)")
    }

    // MARK: Migrations

    @Test func migrationsRunOnceAndKeepTheData() async throws {
        let url = try Self.serverURL()
        let schema = Self.freshSchema()
        try await Self.withStore(schema: schema) { first in
            #expect(first.appliedMigrations == [1])
            try await first.createAgent(try Fixtures.agent("Alice Smith"), credential: try Fixtures.credential())

            let second = try await PostgresStore.connect(url: url, schema: schema)
            #expect(second.appliedMigrations.isEmpty)
            #expect(try await second.agents().map(\.name) == ["Alice Smith"])
            await second.shutdown()
        }
    }

    @Test func nodesStartingTogetherShareOneMigration() async throws {
        let url = try Self.serverURL()
        let schema = Self.freshSchema()
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<4 {
                group.addTask { try await PostgresStore.connect(url: url, schema: schema, maximumConnections: 2) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        #expect(stores.map(\.appliedMigrations).sorted { $0.count > $1.count } == [[1], [], [], []])
        try await stores[0].dropSchemaForTesting()
        for store in stores { await store.shutdown() }
    }

    @Test func aNewerSchemaIsRefused() async throws {
        let url = try Self.serverURL()
        let schema = Self.freshSchema()
        try await Self.withStore(schema: schema) { store in
            try await store.executeForTesting(unsafeSQL: "INSERT INTO schema_migrations (version, applied) VALUES (999, 0)")
            let error = try await #require(throws: StoreError.self) { _ = try await PostgresStore.connect(url: url, schema: schema) }
            #expect(error.code == .schemaTooNew)
            #expect(error.reason.contains("999"), "\(error.reason)")
        }
    }

    // MARK: Races between connections (and nodes)

    @Test func oneCodeConsumedByTwentyTasksOnTwoNodesHasOneWinner() async throws {
        try await Self.withStore { store in
            let other = try await PostgresStore.connect(url: try Self.serverURL(), schema: store.schema, maximumConnections: 8)
            let agent = try Fixtures.agent("Alice Smith")
            try await store.createAgent(agent, credential: try Fixtures.credential())
            let code = try ConnectionID(value: 123_456)
            let grant = try ConnectionCodeGrant(code: code, agentID: agent.id, ticket: "T-1", endUserName: nil,
                                                created: Fixtures.start, policy: ConnectionIDPolicy())
            #expect(try await store.insertConnectionCode(grant, quarantine: 3600))

            let now = Fixtures.start.addingTimeInterval(60)
            let winners = try await withThrowingTaskGroup(of: SupportSession?.self) { group in
                for index in 0..<20 {
                    let node = index.isMultiple(of: 2) ? store : other
                    group.addTask {
                        try await node.consumeConnectionCode(code, at: now) { grant in
                            try Fixtures.session(agent: agent, name: "User \(index)", created: now, method: .connectionID,
                                                 ticket: grant.ticket)
                        }?.session
                    }
                }
                return try await group.reduce(into: [SupportSession]()) { winners, session in if let session { winners.append(session) } }
            }
            await other.shutdown()
            #expect(winners.count == 1)
            let session = try #require(winners.first)
            #expect(try await store.session(session.id) == session)
            #expect(try await store.sessions(SessionQuery()).items.count == 1)
            #expect(try await store.liveConnectionCodes(of: agent.id, at: now).isEmpty)
        }
    }

    @Test func oneCodeIssuedByTwentyTasksIsWrittenOnce() async throws {
        try await Self.withStore { store in
            let agent = try Fixtures.agent("Alice Smith")
            try await store.createAgent(agent, credential: try Fixtures.credential())
            let code = try ConnectionID(value: 42)
            let written = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let grant = try ConnectionCodeGrant(code: code, agentID: agent.id, ticket: "T-\(index)", endUserName: nil,
                                                            created: Fixtures.start, policy: ConnectionIDPolicy())
                        return try await store.insertConnectionCode(grant, quarantine: 24 * 3600)
                    }
                }
                return try await group.reduce(into: 0) { count, wrote in if wrote { count += 1 } }
            }
            #expect(written == 1)
            #expect(try await store.liveConnectionCodes(of: agent.id, at: Fixtures.start).count == 1)
        }
    }

    @Test func concurrentTransitionsOfOneSessionHaveOneWinner() async throws {
        try await Self.withStore { store in
            let alice = try Fixtures.agent("Alice Smith")
            try await store.createAgent(alice, credential: try Fixtures.credential())
            let session = try Fixtures.session(agent: alice)
            try await store.createSession(session)

            let connectedAt = Fixtures.start.addingTimeInterval(10)
            let outcomes = await withTaskGroup(of: Result<SupportSession, any Error>.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do {
                            return .success(try await store.updateSession(session.id) { try $0.apply(.connect(alice), at: connectedAt) })
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let successes = outcomes.compactMap { try? $0.get() }
            #expect(successes.count == 1)
            for case .failure(let error) in outcomes {
                #expect(error as? DomainError == DomainError(.invalidTransition), "\(error)")
            }
            #expect(try await store.session(session.id)?.state == .connected(agent: alice.id, since: connectedAt))
        }
    }

    @Test func concurrentIncrementsAreNotLost() async throws {
        try await Self.withStore { store in
            let alice = try Fixtures.agent("Alice Smith")
            try await store.createAgent(alice, credential: try Fixtures.credential())
            let policy = LoginThrottle.Policy(freeAttempts: 1000)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await store.updateCredential(of: alice.id) { $0.throttle.recordFailure(at: Fixtures.start, policy: policy) }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.credential(of: alice.id)?.throttle.consecutiveFailures == 20)
        }
    }

    @Test func nodesRacingForAFirstSettingAgreeOnOneValue() async throws {
        try await Self.withStore { store in
            let values = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for index in 0..<10 {
                    group.addTask { try await store.settingInsertingIfAbsent("link-key", value: [UInt8(index), 0, 255]) }
                }
                return try await group.reduce(into: Set<[UInt8]>()) { $0.insert($1) }
            }
            #expect(values.count == 1)
            #expect(try await store.setting("link-key") == values.first)
        }
    }

    // MARK: Errors and rows

    @Test func aClosureErrorRollsBackAndComesBackAsItIs() async throws {
        struct Refused: Error, Equatable {}
        try await Self.withStore { store in
            let alice = try Fixtures.agent("Alice Smith")
            try await store.createAgent(alice, credential: try Fixtures.credential())
            await #expect(throws: Refused()) {
                try await store.updateCredential(of: alice.id) { credential in
                    credential.mustChangePassword = false
                    throw Refused()
                }
            }
            #expect(try await store.credential(of: alice.id)?.mustChangePassword == true)
            // The connection went back to the pool outside any transaction.
            try await store.updateCredential(of: alice.id) { $0.mustChangePassword = false }
            #expect(try await store.credential(of: alice.id)?.mustChangePassword == false)
        }
    }

    @Test func damagedRowsAreCorruptNotHalfRead() async throws {
        try await Self.withStore { store in
            let alice = try Fixtures.agent("Alice Smith")
            try await store.createAgent(alice, credential: try Fixtures.credential())
            let session = try Fixtures.session(agent: alice)
            try await store.createSession(session)

            try await store.executeForTesting(unsafeSQL: "UPDATE agents SET email = 'not an address', password_hash = 'x'")
            await #expect(throws: StoreError(.corrupt, "")) { _ = try await store.agent(id: alice.id) }
            await #expect(throws: StoreError(.corrupt, "")) { _ = try await store.credential(of: alice.id) }
            try await store.executeForTesting(unsafeSQL: "UPDATE sessions SET status = 'connected'")  // without its agent
            await #expect(throws: StoreError(.corrupt, "")) { _ = try await store.session(session.id) }
            await #expect(throws: StoreError(.corrupt, "")) { _ = try await store.sessions(SessionQuery()) }
        }
    }

    @Test func textSearchIsALiteralCaseInsensitiveSubstring() async throws {
        try await Self.withStore { store in
            let alice = try Fixtures.agent("Alice Smith")
            try await store.createAgent(alice, credential: try Fixtures.credential())
            for (index, name) in ["Zoë Ünal", "100% sure_thing", "Plain Bob"].enumerated() {
                try await store.createSession(try Fixtures.session(agent: alice, name: name,
                                                                   created: Fixtures.start.addingTimeInterval(Double(index))))
            }
            func names(_ text: String) async throws -> [String] {
                try await store.sessions(SessionQuery(text: text)).items.map(\.endUser.name)
            }
            #expect(try await names("ZOË ü") == ["Zoë Ünal"])
            #expect(try await names("% SURE_") == ["100% sure_thing"])
            #expect(try await names("%") == ["100% sure_thing"])
            #expect(try await names("_") == ["100% sure_thing"])
            #expect(try await names("bob-pc") == ["Plain Bob", "100% sure_thing", "Zoë Ünal"])  // machine name
            #expect(try await store.countSessions(SessionQuery(text: "b")) == 3)
        }
    }

    // MARK: Helpers

    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["RS_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw StoreError(.unavailable, """
                RS_TEST_POSTGRES_URL is not set: run `export RS_TEST_POSTGRES_URL=$(bash scripts/postgres.sh)` first
                """)
        }
        return url
    }

    static func freshSchema() -> String {
        "pgt_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(24)
    }

    /// A store on a fresh schema, dropped afterwards whatever `body` does.
    static func withStore(schema: String = freshSchema(), _ body: (PostgresStore) async throws -> Void) async throws {
        let store = try await PostgresStore.connect(url: try serverURL(), schema: schema, maximumConnections: 8)
        do {
            try await body(store)
        } catch {
            try? await store.dropSchemaForTesting()
            await store.shutdown()
            throw error
        }
        try await store.dropSchemaForTesting()
        await store.shutdown()
    }
}
