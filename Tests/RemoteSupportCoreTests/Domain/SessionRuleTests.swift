import Foundation
@testable import RemoteSupportCore
import Testing

@Suite("Sessions, e-mail text, audit")
struct SessionRuleTests {
    let start = Date(timeIntervalSince1970: 1_000_000)

    func agent(_ name: String, role: AgentRole = .agent, enabled: Bool = true) throws -> Agent {
        try Agent(email: EmailAddress("\(name)@example.com"), name: name, role: role, enabled: enabled,
                  slug: AgentSlug(derivedFrom: name), created: start)
    }

    func session(for agent: Agent) throws -> SupportSession {
        SupportSession(agentID: agent.id, joinMethod: .personalLink, joinReference: nil, ticket: nil, invitedName: nil,
                       endUser: try EndUserDetails(name: "Bob", machineName: "PC", operatingSystem: "", address: "192.0.2.1"),
                       created: start)
    }

    @Test func everyTransitionFromEveryState() throws {
        let alice = try agent("alice")
        let transitions: [SessionTransition] = [.connect(alice), .end(.agentEnded), .cancel(.endUserLeft), .expire]
        // Which transition each state allows, and what it leads to.
        let allowed: [SessionStatus: [SessionStatus?]] = [
            .waiting: [.connected, nil, .cancelled, .expired],
            .connected: [nil, .ended, nil, nil],
            .ended: [nil, nil, nil, nil], .cancelled: [nil, nil, nil, nil], .expired: [nil, nil, nil, nil],
        ]
        let paths: [SessionStatus: [SessionTransition]] = [
            .waiting: [], .connected: [.connect(alice)], .ended: [.connect(alice), .end(.agentEnded)],
            .cancelled: [.cancel(.agentDeclined)], .expired: [.expire],
        ]
        for (status, path) in paths {
            for (index, transition) in transitions.enumerated() {
                var session = try session(for: alice)
                for step in path { try session.apply(step, at: start) }
                #expect(session.state.status == status)
                if let target = allowed[status]![index] {
                    try session.apply(transition, at: start.addingTimeInterval(5))
                    #expect(session.state.status == target)
                } else {
                    let before = session
                    #expect(throws: DomainError(.invalidTransition)) { try session.apply(transition, at: start) }
                    #expect(session == before)
                }
            }
        }
    }

    @Test func onlyTheAddressedAgentOrAnAdminConnects() throws {
        let alice = try agent("alice"), bob = try agent("bob"), admin = try agent("root", role: .admin)
        let disabledAdmin = try agent("old", role: .admin, enabled: false)
        var session = try session(for: alice)
        #expect(throws: DomainError(.forbidden)) { try session.apply(.connect(bob), at: start) }
        #expect(throws: DomainError(.forbidden)) { try session.apply(.connect(disabledAdmin), at: start) }
        try session.apply(.connect(admin), at: start)
        #expect(session.state == .connected(agent: admin.id, since: start))
        #expect(SessionQuery.lobby(of: alice).agentID == alice.id && SessionQuery.lobby(of: admin).agentID == nil)
    }

    @Test func pageCursorsRoundTrip() throws {
        let cursor = PageCursor(created: Date(timeIntervalSince1970: 1_790_000_000.1234), id: UUID())
        let parsed = try PageCursor(cursor.description)
        #expect(parsed.description == cursor.description)
        for bad in ["", "x.y", "1.not-a-uuid", String(repeating: "9", count: 80)] {
            #expect(throws: DomainError(.invalidField)) { try PageCursor(bad) }
        }
    }

    @Test func invitationEmailFlattensWhatPeopleTyped() throws {
        let email = InvitationEmail(.init(agentName: "Alice\r\nBcc: evil@example.com", agentTitle: "Support\u{0}", organisation: "ACME",
                                          link: "https://help.example.com/join/alice?x\r\n", endUserName: "Bob\nSubject: hi",
                                          ticket: "T-1\r\nX: y", connectionID: try ConnectionID(value: 42),
                                          connectionIDExpires: Date(timeIntervalSince1970: 1_795_000_000)))
        #expect(!email.subject.contains("\r") && !email.subject.contains("\n"))
        #expect(email.subject == "Remote support session with Alice  Bcc: evil@example.com (ACME) - ticket T-1  X: y")
        #expect(email.body.contains("Hello Bob Subject: hi,"))
        #expect(email.body.contains("000 042 (valid until 2026-11-18 11:06 UTC)"))
        #expect(!email.body.contains("\r") && !email.body.contains("\u{0}"))
        // Without a connection ID, nothing about one.
        let plain = InvitationEmail(.init(agentName: "Alice", link: "https://h/join/alice"))
        #expect(plain.subject == "Remote support session with Alice" && !plain.body.contains("connection ID"))
    }

    @Test(arguments: [(0.0, "1970-01-01 00:00 UTC"), (951_782_400, "2000-02-29 00:00 UTC"), (1_795_000_000, "2026-11-18 11:06 UTC"),
                      (4_107_542_399, "2100-02-28 23:59 UTC")])
    func utcTimestamps(_ seconds: Double, _ text: String) {
        #expect(InvitationEmail.timestamp(Date(timeIntervalSince1970: seconds)) == text)
    }

    @Test func auditEventsStayOneLineAndBounded() {
        let event = AuditEvent(time: start, action: .loginFailed, actor: .anonymous("x\ny"), subject: String(repeating: "s", count: 1000),
                               address: String(repeating: "a", count: 100), detail: "a\r\nb")
        #expect(event.detail == "a  b" && event.subject.count == 200 && event.address.count == 64 && event.actor.label == "x y")
    }
}

@Suite("Link prefix matching")
struct LinkPrefixTests {
    @Test func onlyASCIILettersFoldBeforeTheSlug() throws {
        let signer = try LinkSigner(publicURL: PublicURL("https://help.example.com/kb"), key: Array(repeating: 7, count: 32))
        #expect(try signer.parse("HTTPS://HELP.example.com/KB/JOIN/alice", at: Date()) == .personal(AgentSlug("alice")))
        // U+212A KELVIN SIGN lowercases to "k" in Unicode: it must not pass for the public URL's "k".
        #expect(throws: DomainError(.malformedLink)) { try signer.parse("https://help.example.com/\u{212A}b/join/alice", at: Date()) }
    }
}
