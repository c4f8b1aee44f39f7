import Foundation
import RemoteSupportCore
import RemoteSupportStore
import Testing

/// The `SupportStore` contract, run against SQLite and PostgreSQL alike.
@Suite("SupportStore contract")
struct StoreContractTests {
    @Test(arguments: Backend.allCases)
    func agentsAreUniqueByEmailAndSlug(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let alice = try Fixtures.agent("Alice Smith")
            try await store.createAgent(alice, credential: try Fixtures.credential())
            #expect(try await store.agent(id: alice.id) == alice)
            #expect(try await store.agent(email: EmailAddress("ALICE.smith@Example.com")) == alice)
            #expect(try await store.agent(slug: AgentSlug("alice-smith")) == alice)
            #expect(try await store.agent(slug: AgentSlug("nobody")) == nil)

            let sameEmail = try Fixtures.agent("Other", email: "Alice.Smith@example.COM")
            await #expect(throws: DomainError(.conflict)) { try await store.createAgent(sameEmail, credential: try Fixtures.credential()) }
            let sameSlug = try Agent(email: EmailAddress("x@example.com"), name: "Alice Smith", slug: AgentSlug("alice-smith"),
                                     created: Fixtures.start)
            await #expect(throws: DomainError(.conflict)) { try await store.createAgent(sameSlug, credential: try Fixtures.credential()) }

            let bob = try Fixtures.agent("Bob Jones")
            try await store.createAgent(bob, credential: try Fixtures.credential())
            #expect(try await store.agents().map(\.name) == ["Alice Smith", "Bob Jones"])

            let updated = try await store.updateAgent(bob.id) { agent in
                try agent.updateProfile(ProfileEdit(name: "Robert Jones", email: "robert@example.com", jobTitle: "Lead"))
                agent.lastLogin = Fixtures.start.addingTimeInterval(5)
            }
            #expect(updated.name == "Robert Jones" && updated.jobTitle == "Lead" && updated.slug.value == "bob-jones")
            #expect(try await store.agent(email: EmailAddress("robert@example.com")) == updated)
            await #expect(throws: DomainError(.conflict)) {
                try await store.updateAgent(bob.id) { try $0.updateProfile(ProfileEdit(email: "alice.smith@example.com")) }
            }
            // A closure that throws leaves the row as it was.
            await #expect(throws: DomainError(.invalidField)) {
                try await store.updateAgent(bob.id) { agent in
                    agent.enabled = false
                    try agent.updateProfile(ProfileEdit(name: "bad\u{0}name"))
                }
            }
            #expect(try await store.agent(id: bob.id)?.enabled == true)
            await #expect(throws: DomainError(.notFound)) { try await store.updateAgent(AgentID()) { _ in } }
        }
    }

    @Test(arguments: Backend.allCases)
    func credentialsRoundTrip(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let alice = try Fixtures.agent("Alice")
            let credential = try Fixtures.credential("first password")
            try await store.createAgent(alice, credential: credential)
            #expect(try await store.credential(of: alice.id) == credential)
            let locked = Fixtures.start.addingTimeInterval(30)
            let changed = try await store.updateCredential(of: alice.id) { credential in
                credential.mustChangePassword = false
                credential.throttle = LoginThrottle(consecutiveFailures: 4, lockedUntil: locked)
            }
            let read = try #require(try await store.credential(of: alice.id))
            #expect(read == changed && read.throttle.lockedUntil == locked && !read.mustChangePassword)
            #expect(read.passwordHash.verify("first password"))
            #expect(try await store.credential(of: AgentID()) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func loginSessions(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let alice = try Fixtures.agent("Alice")
            try await store.createAgent(alice, credential: try Fixtures.credential())
            var random = SeededGenerator(seed: 1)
            let policy = LoginSessionPolicy()
            let tokens = (0..<3).map { _ in LoginToken(using: &random) }
            for (index, token) in tokens.enumerated() {
                try await store.createLoginSession(LoginSession(digest: token.digest, agentID: alice.id,
                                                                created: Fixtures.start.addingTimeInterval(Double(index)),
                                                                policy: policy, address: "192.0.2.1"))
            }
            let first = try #require(try await store.loginSession(tokens[0].digest))
            #expect(first.agentID == alice.id && first.address == "192.0.2.1" && first.lastSeen == Fixtures.start)
            #expect(first.expires == Fixtures.start.addingTimeInterval(policy.absoluteLifetime))
            try await store.touchLoginSession(tokens[0].digest, at: Fixtures.start.addingTimeInterval(120))
            #expect(try await store.loginSession(tokens[0].digest)?.lastSeen == Fixtures.start.addingTimeInterval(120))

            #expect(try await store.deleteLoginSessions(of: alice.id, except: tokens[1].digest) == 2)
            #expect(try await store.loginSession(tokens[0].digest) == nil)
            #expect(try await store.loginSession(tokens[1].digest) != nil)
            try await store.deleteLoginSession(tokens[1].digest)
            #expect(try await store.loginSession(tokens[1].digest) == nil)

            try await store.createLoginSession(LoginSession(digest: tokens[2].digest, agentID: alice.id, created: Fixtures.start,
                                                            policy: LoginSessionPolicy(absoluteLifetime: 10), address: ""))
            #expect(try await store.deleteExpiredLoginSessions(before: Fixtures.start.addingTimeInterval(9)) == 0)
            #expect(try await store.deleteExpiredLoginSessions(before: Fixtures.start.addingTimeInterval(10)) == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func invitationsAndShortLinks(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let alice = try Fixtures.agent("Alice")
            try await store.createAgent(alice, credential: try Fixtures.credential())
            var random = SeededGenerator(seed: 2)
            let invitation = try Invitation(id: InvitationID(using: &random), agentSlug: alice.slug, ticket: "T-1#2/3",
                                            endUserName: "Zoë Ünal", expires: Fixtures.start.addingTimeInterval(3600))
            let record = InvitationRecord(invitation: invitation, agentID: alice.id, created: Fixtures.start)
            try await store.createInvitation(record)
            #expect(try await store.invitation(invitation.id) == record)
            #expect(try await store.revokeInvitation(invitation.id, at: Fixtures.start.addingTimeInterval(5)))
            #expect(try await store.revokeInvitation(invitation.id, at: Fixtures.start.addingTimeInterval(9)))
            #expect(try await store.invitation(invitation.id)?.revoked == Fixtures.start.addingTimeInterval(5))
            #expect(try await store.revokeInvitation(InvitationID(using: &random), at: Fixtures.start) == false)

            let short = ShortLink(code: ShortCode(using: &random), target: "https://help.example.com/join/alice",
                                  agentID: alice.id, created: Fixtures.start, expires: Fixtures.start.addingTimeInterval(60))
            try await store.createShortLink(short)
            #expect(try await store.shortLink(short.code) == short)
            #expect(try await store.shortLink(ShortCode(using: &random)) == nil)
            await #expect(throws: DomainError(.conflict)) { try await store.createShortLink(short) }
        }
    }

    @Test(arguments: Backend.allCases)
    func connectionCodesAreSingleUseAndQuarantined(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let alice = try Fixtures.agent("Alice")
            try await store.createAgent(alice, credential: try Fixtures.credential())
            let policy = ConnectionIDPolicy(lifetime: 600, quarantine: 86400)
            let code = try ConnectionID(value: 123_456)
            let grant = try ConnectionCodeGrant(code: code, agentID: alice.id, ticket: "T-9", endUserName: "Bob",
                                                created: Fixtures.start, policy: policy)
            #expect(try await store.insertConnectionCode(grant, quarantine: policy.quarantine))
            #expect(try await store.unavailableConnectionCodes(at: Fixtures.start, quarantine: policy.quarantine) == [123_456])
            #expect(try await store.liveConnectionCodes(of: alice.id, at: Fixtures.start) == [grant])

            // Not issued again while live or in quarantine.
            let again = try ConnectionCodeGrant(code: code, agentID: alice.id, ticket: nil, endUserName: nil,
                                                created: Fixtures.start.addingTimeInterval(3600), policy: policy)
            #expect(try await store.insertConnectionCode(again, quarantine: policy.quarantine) == false)

            // A session factory that throws rolls the consumption back.
            await #expect(throws: DomainError(.invalidField)) {
                _ = try await store.consumeConnectionCode(code, at: Fixtures.start.addingTimeInterval(1)) { _ in
                    throw DomainError(.invalidField, "bad details")
                }
            }
            let used = Fixtures.start.addingTimeInterval(2)
            let result = try #require(try await store.consumeConnectionCode(code, at: used) { grant in
                SupportSession(agentID: grant.agentID, joinMethod: .connectionID, joinReference: grant.code.formatted,
                               ticket: grant.ticket, invitedName: grant.endUserName, endUser: try Fixtures.endUser(), created: used)
            })
            #expect(result.grant.ticket == "T-9" && result.grant.endUserName == "Bob" && result.grant.agentID == alice.id)
            #expect(try await store.session(result.session.id) == result.session)
            #expect(try await store.consumeConnectionCode(code, at: used) { _ in Issue.record("used twice"); throw DomainError(.conflict) } == nil)
            #expect(try await store.liveConnectionCodes(of: alice.id, at: used).isEmpty)
            // Still quarantined after use...
            #expect(try await store.unavailableConnectionCodes(at: used, quarantine: policy.quarantine).contains(123_456))
            // ...and free again a day after it was issued.
            let later = Fixtures.start.addingTimeInterval(86400)
            #expect(try await store.unavailableConnectionCodes(at: later, quarantine: policy.quarantine).isEmpty)
            let reissue = try ConnectionCodeGrant(code: code, agentID: alice.id, ticket: nil, endUserName: nil, created: later, policy: policy)
            #expect(try await store.insertConnectionCode(reissue, quarantine: policy.quarantine))
            #expect(try await store.liveConnectionCodes(of: alice.id, at: later) == [reissue])

            // An expired code cannot be used.
            let expiredCode = try ConnectionID(value: 7)
            let short = try ConnectionCodeGrant(code: expiredCode, agentID: alice.id, ticket: nil, endUserName: nil,
                                                created: Fixtures.start, policy: policy)
            #expect(try await store.insertConnectionCode(short, quarantine: policy.quarantine))
            #expect(try await store.consumeConnectionCode(expiredCode, at: Fixtures.start.addingTimeInterval(600)) { _ in
                throw DomainError(.conflict)
            } == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentJoinsWithOneCodeHaveOneWinner(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let alice = try Fixtures.agent("Alice")
            try await store.createAgent(alice, credential: try Fixtures.credential())
            let code = try ConnectionID(value: 424_242)
            try await #require(store.insertConnectionCode(
                ConnectionCodeGrant(code: code, agentID: alice.id, ticket: nil, endUserName: nil, created: Fixtures.start,
                                    policy: ConnectionIDPolicy()), quarantine: 86400))
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await store.consumeConnectionCode(code, at: Fixtures.start.addingTimeInterval(1)) { grant in
                            SupportSession(agentID: grant.agentID, joinMethod: .connectionID, joinReference: nil, ticket: nil,
                                           invitedName: nil, endUser: try Fixtures.endUser("user \(index)"), created: Fixtures.start)
                        } != nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            #expect(try await store.countSessions(SessionQuery()) == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func sessionTransitionsGoThroughTheStateMachine(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let alice = try Fixtures.agent("Alice")
            let bob = try Fixtures.agent("Bob")
            for agent in [alice, bob] { try await store.createAgent(agent, credential: try Fixtures.credential()) }
            let session = try Fixtures.session(agent: alice, ticket: "T-1")
            try await store.createSession(session)
            #expect(try await store.session(session.id) == session)

            await #expect(throws: DomainError(.forbidden)) {
                try await store.updateSession(session.id) { try $0.apply(.connect(bob), at: Fixtures.start) }
            }
            let connectedAt = Fixtures.start.addingTimeInterval(10)
            let connected = try await store.updateSession(session.id) { try $0.apply(.connect(alice), at: connectedAt) }
            #expect(connected.state == .connected(agent: alice.id, since: connectedAt))
            #expect(try await store.session(session.id) == connected)
            await #expect(throws: DomainError(.invalidTransition)) {
                try await store.updateSession(session.id) { try $0.apply(.connect(alice), at: connectedAt) }
            }
            let endedAt = Fixtures.start.addingTimeInterval(70)
            let ended = try await store.updateSession(session.id) { try $0.apply(.end(.agentEnded), at: endedAt) }
            #expect(ended.state == .ended(agent: alice.id, connected: connectedAt, reason: .agentEnded, at: endedAt))
            #expect(try await store.session(session.id) == ended)
            await #expect(throws: DomainError(.invalidTransition)) {
                try await store.updateSession(session.id) { try $0.apply(.cancel(.endUserLeft), at: endedAt) }
            }
            await #expect(throws: DomainError(.notFound)) { try await store.updateSession(SessionID()) { _ in } }
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentUpdatesToOneSessionAreSerialised(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let agents = try (0..<8).map { try Fixtures.agent("Agent \($0)", role: .admin) }
            for agent in agents { try await store.createAgent(agent, credential: try Fixtures.credential()) }
            let session = try Fixtures.session(agent: agents[0])
            try await store.createSession(session)
            // Eight admins click Connect at once: exactly one gets the session.
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for agent in agents {
                    group.addTask {
                        (try? await store.updateSession(session.id) { try $0.apply(.connect(agent), at: Fixtures.start) }) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func listingMatchesTheReferenceFilterAndPagesCleanly(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let agents = try ["Alice", "Bob", "Carol"].map { try Fixtures.agent($0) }
            for agent in agents { try await store.createAgent(agent, credential: try Fixtures.credential()) }
            var random = SeededGenerator(seed: 3)
            var all: [SupportSession] = []
            let names = ["Dave Miller", "Erin", "frank", "Grace O'Hara", "Heidi %_", "Ivan"]
            let methods: [JoinMethod] = [.personalLink, .invitation, .connectionID]
            for index in 0..<240 {
                let agent = agents[Int(random.next(upperBound: UInt64(3)))]
                // Several sessions share a millisecond: the id breaks ties in the order.
                let created = Fixtures.start.addingTimeInterval(Double(index / 3) * 0.5)
                var session = SupportSession(agentID: agent.id, joinMethod: methods[Int(random.next(upperBound: UInt64(3)))],
                                             joinReference: nil, ticket: index % 4 == 0 ? "T-\(index)" : nil, invitedName: nil,
                                             endUser: try Fixtures.endUser(names[index % names.count], machine: "PC-\(index % 7)"),
                                             created: created)
                switch random.next(upperBound: UInt64(4)) {
                case 0: try session.apply(.connect(agent), at: created.addingTimeInterval(1))
                case 1: try session.apply(.cancel(.endUserLeft), at: created.addingTimeInterval(1))
                case 2:
                    try session.apply(.connect(agent), at: created.addingTimeInterval(1))
                    try session.apply(.end(.endUserEnded), at: created.addingTimeInterval(2))
                default: break
                }
                try await store.createSession(session)
                all.append(session)
            }
            let queries: [SessionQuery] = [
                SessionQuery(limit: 7),
                SessionQuery(statuses: [.waiting], agentID: agents[1].id, limit: 5),
                SessionQuery(statuses: [.ended, .cancelled], limit: 50),
                SessionQuery(joinMethod: .invitation, text: "pc-3", limit: 9),
                SessionQuery(text: "T-1", limit: 100),
                SessionQuery(text: "%_", limit: 100),
                SessionQuery(text: "GRACE", createdFrom: Fixtures.start.addingTimeInterval(10),
                             createdBefore: Fixtures.start.addingTimeInterval(30), limit: 3),
                SessionQuery(statuses: [], limit: 10),
            ]
            for query in queries {
                let expected = all.filter { query.matches($0) }.sorted { a, b in
                    a.created != b.created ? a.created > b.created : a.id.description > b.id.description
                }
                var listed: [SupportSession] = []
                var page = try await store.sessions(query)
                listed += page.items
                while let next = page.next {
                    #expect(page.items.count == query.limit)
                    var following = query
                    following.after = next
                    page = try await store.sessions(following)
                    listed += page.items
                }
                #expect(listed.map(\.id) == expected.map(\.id), "query \(query)")
                #expect(listed == expected)
                #expect(try await store.countSessions(query) == expected.count)
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func auditLogAppendsAndFilters(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let alice = try Fixtures.agent("Alice")
            try await store.createAgent(alice, credential: try Fixtures.credential())
            var sequences: [Int64] = []
            for index in 0..<30 {
                let event = AuditEvent(time: Fixtures.start.addingTimeInterval(Double(index)),
                                       action: index % 3 == 0 ? .loginFailed : .sessionJoined,
                                       actor: index % 2 == 0 ? .agent(alice) : .endUser("PC"), subject: "s\(index)",
                                       address: "2001:db8::\(index)", detail: "line\nbreak \(index)")
                let stored = try await store.appendAudit(event)
                sequences.append(try #require(stored.sequence))
                #expect(stored.detail == "line break \(index)")
            }
            #expect(sequences == sequences.sorted() && Set(sequences).count == 30)
            let failed = try await store.auditEvents(AuditQuery(action: .loginFailed))
            #expect(failed.map(\.subject) == stride(from: 27, through: 0, by: -3).map { "s\($0)" })
            let byAlice = try await store.auditEvents(AuditQuery(agentID: alice.id, limit: 5))
            #expect(byAlice.count == 5 && byAlice.allSatisfy { $0.actor.agentID == alice.id && $0.actor.label == alice.email.value })
            let older = try await store.auditEvents(AuditQuery(agentID: alice.id, before: byAlice.last?.sequence, limit: 100))
            #expect(older.count == 10 && Set(older.map(\.sequence)).isDisjoint(with: byAlice.map(\.sequence)))
            let window = try await store.auditEvents(AuditQuery(since: Fixtures.start.addingTimeInterval(10),
                                                                until: Fixtures.start.addingTimeInterval(20)))
            #expect(window.count == 10 && window.first?.subject == "s19" && window.first?.address == "2001:db8::19")
        }
    }

    @Test(arguments: Backend.allCases)
    func settingsKeepTheFirstValue(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let empty = try await store.setting("key")
            #expect(empty == nil)
            let first = try await store.settingInsertingIfAbsent("key", value: [1, 2, 3])
            let second = try await store.settingInsertingIfAbsent("key", value: [9])
            let read = try await store.setting("key")
            #expect(first == [1, 2, 3] && second == [1, 2, 3] && read == [1, 2, 3])
        }
    }
}
