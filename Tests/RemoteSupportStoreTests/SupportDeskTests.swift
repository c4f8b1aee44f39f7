import Foundation
import RemoteSupportCore
import RemoteSupportStore
import Synchronization
import Testing

/// The product's rules end to end through `SupportDesk`, on both stores, with a clock moved by hand.
@Suite("SupportDesk")
struct SupportDeskTests {
    struct Desk {
        let desk: SupportDesk
        let clock: TestClock
        let mailer: CapturingMailer
        let adminToken: String
        let admin: Agent
    }

    static let publicURL = try! PublicURL("https://help.example.com/support")

    /// A desk on a fresh store, bootstrapped, with the admin's default password already changed.
    func withDesk(_ backend: Backend, configure: (inout SupportDesk.Configuration) -> Void = { _ in },
                  _ body: (Desk) async throws -> Void) async throws {
        try await backend.withStore { store in
            var configuration = SupportDesk.Configuration(publicURL: Self.publicURL, organisation: "Example Ltd",
                                                          passwordHashing: .testing)
            configure(&configuration)
            let clock = TestClock()
            let mailer = CapturingMailer()
            let desk = try SupportDesk(store: store, configuration: configuration, mailer: mailer, clock: clock.function)
            let (admin, password) = try #require(try await desk.bootstrap(adminEmail: "admin@example.com"))
            let first = try await desk.login(email: "admin@example.com", password: password, address: "127.0.0.1")
            let changed = try await desk.changePassword(first.token.text, current: password, new: "admin password 1",
                                                        address: "127.0.0.1")
            try await body(Desk(desk: desk, clock: clock, mailer: mailer, adminToken: changed.token.text, admin: admin))
        }
    }

    /// Adds an agent through the admin and logs them in with a changed password; returns their token.
    func addAgent(_ d: Desk, name: String, email: String) async throws -> (Agent, String) {
        let (agent, password) = try await d.desk.createAgent(d.adminToken, email: email, name: name, address: "127.0.0.1")
        let login = try await d.desk.login(email: email, password: password, address: "10.0.0.1")
        let changed = try await d.desk.changePassword(login.token.text, current: password, new: "\(name) secret!", address: "10.0.0.1")
        return (agent, changed.token.text)
    }

    @Test(arguments: Backend.allCases)
    func firstStartMakesOneAdminWhoMustChangeTheDefaultPassword(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let clock = TestClock()
            let desk = try SupportDesk(store: store, configuration: .init(publicURL: Self.publicURL, passwordHashing: .testing),
                                       clock: clock.function)
            let (admin, password) = try #require(try await desk.bootstrap())
            #expect(admin.role == .admin && password.count == 23)
            #expect(try await desk.bootstrap() == nil)  // told once

            let grant = try await desk.login(email: "ADMIN@localhost", password: password, address: "127.0.0.1")
            #expect(grant.mustChangePassword)
            await #expect(throws: DomainError(.passwordChangeRequired)) { try await desk.personalLink(grant.token.text) }
            await #expect(throws: DomainError(.passwordChangeRequired)) { try await desk.lobby(grant.token.text) }
            await #expect(throws: DomainError(.weakPassword)) {
                try await desk.changePassword(grant.token.text, current: password, new: password, address: "")
            }
            await #expect(throws: DomainError(.weakPassword)) {
                try await desk.changePassword(grant.token.text, current: password, new: "short", address: "")
            }
            await #expect(throws: DomainError(.invalidCredentials)) {
                try await desk.changePassword(grant.token.text, current: "not it", new: "a long new password", address: "")
            }
            let changed = try await desk.changePassword(grant.token.text, current: password, new: "a long new password", address: "")
            #expect(!changed.mustChangePassword)
            // Every earlier login is revoked; the new one works.
            await #expect(throws: DomainError(.sessionExpired)) { try await desk.lobby(grant.token.text) }
            #expect(try await desk.lobby(changed.token.text).isEmpty)
            await #expect(throws: DomainError(.invalidCredentials)) {
                try await desk.login(email: "admin@localhost", password: password, address: "127.0.0.1")
            }
            _ = try await desk.login(email: "admin@localhost", password: "a long new password", address: "127.0.0.1")
        }
    }

    @Test(arguments: Backend.allCases)
    func failedLoginsSlowTheAccountAndTheAddressDown(_ backend: Backend) async throws {
        try await withDesk(backend) { d in
            let (_, _) = try await addAgent(d, name: "Alice", email: "alice@example.com")
            // Unknown e-mail and wrong password: one answer.
            await #expect(throws: DomainError(.invalidCredentials)) {
                try await d.desk.login(email: "nobody@example.com", password: "x", address: "198.51.100.1")
            }
            for _ in 0..<3 {
                await #expect(throws: DomainError(.invalidCredentials)) {
                    try await d.desk.login(email: "alice@example.com", password: "wrong", address: "198.51.100.2")
                }
            }
            // The 4th failure locks for 1 s, the 5th for 2 s...
            await #expect(throws: DomainError(.invalidCredentials)) {
                try await d.desk.login(email: "alice@example.com", password: "wrong", address: "198.51.100.3")
            }
            do {
                _ = try await d.desk.login(email: "alice@example.com", password: "Alice secret!", address: "198.51.100.4")
                Issue.record("a locked account logged in")
            } catch let error as DomainError {
                #expect(error.code == .rateLimited && error.retryAfter == 1)
            }
            d.clock.advance(1)
            _ = try await d.desk.login(email: "alice@example.com", password: "Alice secret!", address: "198.51.100.4")
            // A good login clears the count.
            await #expect(throws: DomainError(.invalidCredentials)) {
                try await d.desk.login(email: "alice@example.com", password: "wrong", address: "198.51.100.5")
            }
            _ = try await d.desk.login(email: "alice@example.com", password: "Alice secret!", address: "198.51.100.5")

            // One address guessing at many accounts: stopped after 10 failures, whatever the account.
            for index in 0..<10 {
                await #expect(throws: DomainError(.invalidCredentials)) {
                    try await d.desk.login(email: "user\(index)@example.com", password: "guess", address: "203.0.113.9")
                }
            }
            await #expect(throws: DomainError(.rateLimited)) {
                try await d.desk.login(email: "alice@example.com", password: "Alice secret!", address: "203.0.113.9")
            }
            // Others are not affected.
            _ = try await d.desk.login(email: "alice@example.com", password: "Alice secret!", address: "203.0.113.10")
            let failures = try await d.desk.auditLog(d.adminToken, AuditQuery(action: .loginFailed))
            #expect(failures.count >= 15)
        }
    }

    @Test(arguments: Backend.allCases)
    func loginsExpireWhenIdleOrOldAndOnLogout(_ backend: Backend) async throws {
        try await withDesk(backend, configure: { $0.loginSessions = LoginSessionPolicy(idleTimeout: 600, absoluteLifetime: 1800) }) { d in
            let login = try await d.desk.login(email: "admin@example.com", password: "admin password 1", address: "")
            let token = login.token.text
            for _ in 0..<5 {
                d.clock.advance(299)
                _ = try await d.desk.authenticate(token)
            }
            d.clock.advance(299)  // 1794 s old, used every 299 s: still fine
            _ = try await d.desk.authenticate(token)
            d.clock.advance(10)  // past the absolute lifetime
            await #expect(throws: DomainError(.sessionExpired)) { try await d.desk.authenticate(token) }

            let second = try await d.desk.login(email: "admin@example.com", password: "admin password 1", address: "")
            d.clock.advance(601)
            await #expect(throws: DomainError(.sessionExpired)) { try await d.desk.authenticate(second.token.text) }

            let third = try await d.desk.login(email: "admin@example.com", password: "admin password 1", address: "")
            try await d.desk.logout(third.token.text)
            await #expect(throws: DomainError(.sessionExpired)) { try await d.desk.authenticate(third.token.text) }
            await #expect(throws: DomainError(.sessionExpired)) { try await d.desk.authenticate("not a token") }
        }
    }

    @Test(arguments: Backend.allCases)
    func adminsManageAgents(_ backend: Backend) async throws {
        try await withDesk(backend) { d in
            let (alice, aliceToken) = try await addAgent(d, name: "Alice Smith", email: "alice@example.com")
            #expect(alice.slug.value == "alice-smith")
            let (twin, _) = try await d.desk.createAgent(d.adminToken, email: "alice2@example.com", name: "Alice Smith", address: "")
            #expect(twin.slug.value == "alice-smith-2")
            await #expect(throws: DomainError(.conflict)) {
                try await d.desk.createAgent(d.adminToken, email: "ALICE@example.com", name: "Copy", address: "")
            }
            await #expect(throws: DomainError(.invalidField)) {
                try await d.desk.createAgent(d.adminToken, email: "not an address", name: "X", address: "")
            }
            await #expect(throws: DomainError(.forbidden)) {
                try await d.desk.createAgent(aliceToken, email: "eve@example.com", name: "Eve", address: "")
            }
            await #expect(throws: DomainError(.forbidden)) { try await d.desk.auditLog(aliceToken, AuditQuery()) }
            await #expect(throws: DomainError(.forbidden)) {
                try await d.desk.setAgentEnabled(d.adminToken, agentID: d.admin.id, enabled: false, address: "")
            }
            #expect(try await d.desk.listAgents(d.adminToken).count == 3)

            // Profile edits are validated; the slug stays.
            let edited = try await d.desk.updateProfile(aliceToken, ProfileEdit(name: "Alice Jones", jobTitle: "Team lead"), address: "")
            #expect(edited.name == "Alice Jones" && edited.slug.value == "alice-smith")
            await #expect(throws: DomainError(.invalidField)) {
                try await d.desk.updateProfile(aliceToken, ProfileEdit(name: "Alice\r\nBcc: x@y.z"), address: "")
            }
            await #expect(throws: DomainError(.invalidField)) {
                try await d.desk.updateProfile(aliceToken, ProfileEdit(email: "alice@"), address: "")
            }

            // Disabling revokes logins and refuses new ones.
            _ = try await d.desk.setAgentEnabled(d.adminToken, agentID: alice.id, enabled: false, address: "")
            await #expect(throws: DomainError(.sessionExpired)) { try await d.desk.lobby(aliceToken) }
            await #expect(throws: DomainError(.forbidden)) {
                try await d.desk.login(email: "alice@example.com", password: "Alice Smith secret!", address: "")
            }
            _ = try await d.desk.setAgentEnabled(d.adminToken, agentID: alice.id, enabled: true, address: "")
            let reset = try await d.desk.resetPassword(d.adminToken, agentID: alice.id, address: "")
            let again = try await d.desk.login(email: "alice@example.com", password: reset, address: "")
            #expect(again.mustChangePassword)

            let log = try await d.desk.auditLog(d.adminToken, AuditQuery(limit: 500)).map(\.action)
            for action in [AuditAction.bootstrap, .agentCreated, .agentDisabled, .agentEnabled, .passwordReset, .passwordChanged,
                           .profileUpdated, .loginSucceeded] {
                #expect(log.contains(action), "\(action) missing")
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func invitationLinksCarryTicketAndNameAndCanBeRevoked(_ backend: Backend) async throws {
        try await withDesk(backend) { d in
            let (alice, aliceToken) = try await addAgent(d, name: "Alice", email: "alice@example.com")
            let (_, bobToken) = try await addAgent(d, name: "Bob", email: "bob@example.com")
            let personal = try await d.desk.personalLink(aliceToken)
            #expect(personal == "https://help.example.com/support/join/alice")
            #expect(try await d.desk.resolveJoinLink(personal).agent.id == alice.id)

            let (link, record) = try await d.desk.createInvitation(aliceToken, ticket: "INC-0042", endUserName: "Zoë O'Brien", address: "")
            let target = try await d.desk.resolveJoinLink(link)
            #expect(target.agent.id == alice.id && target.invitation?.ticket == "INC-0042" && target.invitation?.endUserName == "Zoë O'Brien")
            #expect(record.invitation.expires == d.clock.now.addingTimeInterval(24 * 3600))

            let altered = link.replacingOccurrences(of: "INC-0042", with: "INC-0043")
            await #expect(throws: DomainError(.badSignature)) { try await d.desk.resolveJoinLink(altered) }
            await #expect(throws: DomainError(.malformedLink)) { try await d.desk.resolveJoinLink("https://evil.example/join/alice") }

            // Someone else cannot revoke it; the owner can.
            await #expect(throws: DomainError(.forbidden)) { try await d.desk.revokeInvitation(bobToken, id: record.invitation.id, address: "") }
            try await d.desk.revokeInvitation(aliceToken, id: record.invitation.id, address: "")
            await #expect(throws: DomainError(.notFound)) { try await d.desk.resolveJoinLink(link) }

            let (short, _) = try await d.desk.createInvitation(aliceToken, ticket: nil, endUserName: "Bob", lifetime: 120, address: "")
            d.clock.advance(121)
            await #expect(throws: DomainError(.expired)) { try await d.desk.resolveJoinLink(short) }

            // A disabled agent's links lead nowhere.
            _ = try await d.desk.setAgentEnabled(d.adminToken, agentID: alice.id, enabled: false, address: "")
            await #expect(throws: DomainError(.notFound)) { try await d.desk.resolveJoinLink(personal) }
        }
    }

    @Test(arguments: Backend.allCases)
    func shortLinksResolveUntilTheyExpireAndProbingIsLimited(_ backend: Backend) async throws {
        try await withDesk(backend) { d in
            let (_, aliceToken) = try await addAgent(d, name: "Alice", email: "alice@example.com")
            let (_, bobToken) = try await addAgent(d, name: "Bob", email: "bob@example.com")
            let (link, _) = try await d.desk.createInvitation(aliceToken, ticket: "T-1", endUserName: nil, lifetime: 3600, address: "")
            let short = try await d.desk.shorten(aliceToken, link: link, address: "")
            #expect(short.url(publicURL: Self.publicURL).hasPrefix("https://help.example.com/support/s/"))
            #expect(short.code.value.count == 16)
            #expect(try await d.desk.resolveShortLink(short.code.value, address: "192.0.2.1") == link)
            await #expect(throws: DomainError(.forbidden)) { try await d.desk.shorten(bobToken, link: link, address: "") }

            // Unknown, malformed and expired: the same answer.
            await #expect(throws: DomainError(.notFound)) { try await d.desk.resolveShortLink("AAAAAAAAAAAAAAAA", address: "192.0.2.1") }
            await #expect(throws: DomainError(.notFound)) { try await d.desk.resolveShortLink("../../etc", address: "192.0.2.1") }
            d.clock.advance(3600)
            await #expect(throws: DomainError(.notFound)) { try await d.desk.resolveShortLink(short.code.value, address: "192.0.2.1") }

            // The expired lookup was the first failure since the clock moved: 19 more empty the bucket of 20.
            for _ in 0..<19 {
                await #expect(throws: DomainError(.notFound)) { try await d.desk.resolveShortLink("BBBBBBBBBBBBBBBB", address: "192.0.2.1") }
            }
            await #expect(throws: DomainError(.rateLimited)) { try await d.desk.resolveShortLink(short.code.value, address: "192.0.2.1") }
        }
    }

    @Test(arguments: Backend.allCases)
    func connectionIDsLocateTheAgentOnceAndGuessesAreLimited(_ backend: Backend) async throws {
        try await withDesk(backend) { d in
            let (alice, aliceToken) = try await addAgent(d, name: "Alice", email: "alice@example.com")
            let (_, bobToken) = try await addAgent(d, name: "Bob", email: "bob@example.com")
            let grant = try await d.desk.issueConnectionID(aliceToken, ticket: "T-77", endUserName: "Carol", address: "")
            #expect(grant.expires == d.clock.now.addingTimeInterval(600))
            #expect(try await d.desk.liveConnectionIDs(aliceToken).map(\.code) == [grant.code])

            let session = try await d.desk.joinWithConnectionID(grant.code.formatted, endUser: try Fixtures.endUser("carol", address: "192.0.2.50"))
            #expect(session.agentID == alice.id && session.joinMethod == .connectionID)
            #expect(session.ticket == "T-77" && session.invitedName == "Carol" && session.displayName == "Carol")
            #expect(try await d.desk.lobby(aliceToken).map(\.id) == [session.id])
            #expect(try await d.desk.lobby(bobToken).isEmpty)
            #expect(try await d.desk.lobby(d.adminToken).map(\.id) == [session.id])

            // Used once.
            await #expect(throws: DomainError(.notFound)) {
                try await d.desk.joinWithConnectionID(grant.code.digits, endUser: try Fixtures.endUser(address: "192.0.2.51"))
            }
            // Expired.
            let late = try await d.desk.issueConnectionID(aliceToken, address: "")
            d.clock.advance(600)
            await #expect(throws: DomainError(.notFound)) {
                try await d.desk.joinWithConnectionID(late.code.formatted, endUser: try Fixtures.endUser(address: "192.0.2.52"))
            }

            // Guessing from one address: 5 failures, then blocked even with a right code; a neighbour in the
            // same /24 still has the network's budget.
            let live = try await d.desk.issueConnectionID(aliceToken, address: "")
            let wrong = try ConnectionID(value: (live.code.value + 1) % ConnectionID.space)
            for _ in 0..<5 {
                await #expect(throws: DomainError(.notFound)) {
                    try await d.desk.joinWithConnectionID(wrong.formatted, endUser: try Fixtures.endUser(address: "198.51.100.7"))
                }
            }
            await #expect(throws: DomainError(.rateLimited)) {
                try await d.desk.joinWithConnectionID(live.code.formatted, endUser: try Fixtures.endUser(address: "198.51.100.7"))
            }
            await #expect(throws: DomainError(.notFound)) {
                try await d.desk.joinWithConnectionID("12a 456", endUser: try Fixtures.endUser(address: "198.51.100.8"))
            }
            _ = try await d.desk.joinWithConnectionID(live.code.formatted, endUser: try Fixtures.endUser(address: "198.51.100.9"))
            let failures = try await d.desk.auditLog(d.adminToken, AuditQuery(action: .connectionIDFailed))
            #expect(failures.count == 8)
        }
    }

    @Test(arguments: Backend.allCases)
    func sessionsMoveThroughTheirStatesAndExpire(_ backend: Backend) async throws {
        try await withDesk(backend, configure: { $0.waitingTimeout = 300 }) { d in
            let (alice, aliceToken) = try await addAgent(d, name: "Alice", email: "alice@example.com")
            let (_, bobToken) = try await addAgent(d, name: "Bob", email: "bob@example.com")
            let link = try await d.desk.personalLink(aliceToken)
            let first = try await d.desk.joinWithLink(link, endUser: try Fixtures.endUser("Dave"))
            #expect(first.joinMethod == .personalLink && first.state == .waiting)

            await #expect(throws: DomainError(.forbidden)) { try await d.desk.connect(bobToken, session: first.id, address: "") }
            let connected = try await d.desk.connect(aliceToken, session: first.id, address: "")
            #expect(connected.state.status == .connected)
            await #expect(throws: DomainError(.invalidTransition)) { try await d.desk.connect(d.adminToken, session: first.id, address: "") }
            let ended = try await d.desk.end(session: first.id, reason: .endUserEnded, actor: .endUser("DAVE-PC"))
            #expect(ended.state.status == .ended)
            await #expect(throws: DomainError(.invalidTransition)) {
                try await d.desk.end(session: first.id, reason: .agentEnded, actor: .agent(alice))
            }

            let waiting = try await d.desk.joinWithLink(link, endUser: try Fixtures.endUser("Erin"))
            d.clock.advance(200)
            let fresh = try await d.desk.joinWithLink(link, endUser: try Fixtures.endUser("Frank"))
            d.clock.advance(101)
            let expired = try await d.desk.expireWaitingSessions()
            #expect(expired.map(\.id) == [waiting.id])
            #expect(try await d.desk.lobby(aliceToken).map(\.id) == [fresh.id])

            let (page, total) = try await d.desk.allSessions(bobToken, SessionQuery(limit: 2))
            #expect(total == 3 && page.items.count == 2 && page.next != nil)
            let history = try await d.desk.allSessions(bobToken, SessionQuery(statuses: [.ended, .expired]))
            #expect(Set(history.page.items.map(\.id)) == [first.id, waiting.id])

            // A broker restart closes what the previous run left open.
            _ = try await d.desk.connect(aliceToken, session: fresh.id, address: "")
            let other = try await d.desk.joinWithLink(link, endUser: try Fixtures.endUser("Grace"))
            d.clock.advance(1)
            #expect(try await d.desk.closeInterruptedSessions() == 2)
            #expect(try await d.desk.store.session(fresh.id)?.state.status == .ended)
            #expect(try await d.desk.store.session(other.id)?.state.status == .cancelled)
        }
    }

    @Test(arguments: Backend.allCases)
    func invitationEmailIsComposedSafelyAndDelivered(_ backend: Backend) async throws {
        try await withDesk(backend) { d in
            let (_, aliceToken) = try await addAgent(d, name: "Alice", email: "alice@example.com")
            let (link, _) = try await d.desk.createInvitation(aliceToken, ticket: "INC-1", endUserName: "Zoë", address: "")
            let code = try await d.desk.issueConnectionID(aliceToken, address: "")
            let email = try await d.desk.emailInvitation(aliceToken, to: "zoe@example.org", link: link, connectionID: code, address: "")
            #expect(email.subject == "Remote support session with Alice (Example Ltd) - ticket INC-1")
            #expect(email.body.contains("Hello Zoë,") && email.body.contains(link) && email.body.contains(code.code.formatted))
            let sent = d.mailer.sent.withLock { $0 }
            #expect(sent.count == 1 && sent.first?.to == "zoe@example.org" && sent.first?.email == email)
            await #expect(throws: DomainError(.invalidField)) {
                try await d.desk.emailInvitation(aliceToken, to: "zoe@example.org\r\nBcc: x@y.z", link: link, address: "")
            }
        }
    }

    @Test func hashGateBoundsConcurrentHashes() async throws {
        let gate = HashGate(slots: 2, maximumWaiting: 3)
        let peak = Peak()
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    do {
                        try await gate.run {
                            peak.value.withLock { $0.now += 1; $0.max = max($0.max, $0.now) }
                            usleep(100_000)
                            peak.value.withLock { $0.now -= 1 }
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(peak.value.withLock { $0.max } <= 2)
        #expect(results.filter { $0 }.count >= 2 && results.filter { !$0 }.count >= 1)
        #expect(gate.load == (0, 0))
    }
}

final class CapturingMailer: Mailer {
    struct Sent: Sendable { let to: String; let name: String?; let email: InvitationEmail }
    let sent = Mutex<[Sent]>([])
    func deliver(to recipient: EmailAddress, recipientName: String?, email: InvitationEmail) async throws {
        sent.withLock { $0.append(Sent(to: recipient.value, name: recipientName, email: email)) }
    }
}

final class Peak: Sendable {
    let value = Mutex((now: 0, max: 0))
}
