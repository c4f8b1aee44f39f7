// libFuzzer target: what the broker reads from HTTP requests by its own code, and its config file:
// query filters (QueryFilters: sessions and audit), JSON request bodies (APIRequests), webhook
// registrations (WebhookRules) and the config file (ConfigFile). Compiled into the core module with those
// broker files (see run.sh); the web framework's own parsing is schemathesis's to exercise.
import Foundation

/// The first byte picks what the rest is: 0 a query string (`a=b&c=d`, no percent-decoding: the
/// framework does that before us), 1 a JSON body for each request type, 2 a webhook URL then event names
/// (split at the first newline, names at commas), 3 a config file.
enum APIFuzz {
    static func run(_ bytes: [UInt8]) {
        guard let mode = bytes.first else { return }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        switch mode % 4 {
        case 0: query(text)
        case 1: bodies(Data(bytes.dropFirst()))
        case 2: webhook(text)
        default: config(text)
        }
    }

    static func query(_ text: String) {
        let pairs = text.split(separator: "&", omittingEmptySubsequences: false).map { part -> (String, String) in
            guard let eq = part.firstIndex(of: "=") else { return (String(part), "") }
            return (String(part[..<eq]), String(part[part.index(after: eq)...]))
        }
        let q = QueryFilters.parameters(pairs)
        if let sessions = try? QueryFilters.sessions(q) {
            precondition((1...SessionQuery.maximumLimit).contains(sessions.limit))
            // What the store will turn into milliseconds must fit.
            for d in [sessions.createdFrom, sessions.createdBefore, sessions.after?.created].compactMap({ $0 }) {
                precondition(abs(d.timeIntervalSince1970) < QueryFilters.maximumSeconds)
                _ = d.millisecondsSince1970
            }
        }
        if let audit = try? QueryFilters.audit(q) {
            precondition((1...500).contains(audit.limit))
            precondition((audit.before ?? 1) > 0)
            for d in [audit.since, audit.until].compactMap({ $0 }) { _ = d.millisecondsSince1970 }
        }
    }

    static func bodies(_ data: Data) {
        let decoder = JSONDecoder()
        if let login = try? decoder.decode(LoginRequest.self, from: data) { _ = try? EmailAddress(login.email) }
        if let profile = try? decoder.decode(ProfileRequest.self, from: data) {
            var agent = try! Agent(email: EmailAddress("a@example.com"), name: "A", slug: AgentSlug("a"), created: Date(timeIntervalSince1970: 0))
            try? agent.updateProfile(ProfileEdit(name: profile.name, email: profile.email, jobTitle: profile.jobTitle))
        }
        _ = try? decoder.decode(PasswordRequest.self, from: data)
        if let agent = try? decoder.decode(CreateAgentRequest.self, from: data) { _ = try? EmailAddress(agent.email) }
        _ = try? decoder.decode(InvitationRequest.self, from: data)
        _ = try? decoder.decode(ShortenRequest.self, from: data)
        if let email = try? decoder.decode(EmailRequest.self, from: data), let code = email.connectionID {
            if let id = try? ConnectionID(parsing: code) { precondition((try? ConnectionID(parsing: id.formatted)) == id) }
        }
        _ = try? decoder.decode(ConnectionIDRequest.self, from: data)
    }

    static func webhook(_ text: String) {
        let (url, events) = text.firstIndex(of: "\n").map { (String(text[..<$0]), String(text[text.index(after: $0)...])) } ?? (text, "")
        if let valid = try? WebhookRules.validURL(url) {
            precondition(valid.utf8.count <= WebhookRules.maximumURLLength)
            precondition(valid.hasPrefix("http://") || valid.hasPrefix("https://"))
            precondition(!valid.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || $0 == " " })
        }
        let names = events.isEmpty ? nil : events.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if let chosen = try? WebhookRules.validEvents(names) {
            precondition(!chosen.isEmpty && chosen.allSatisfy(WebhookRules.eventNames.contains))
        }
    }

    static func config(_ text: String) {
        guard let values = try? ConfigFile.parse(text) else { return }
        for (key, value) in values {
            precondition(!key.isEmpty && !key.contains("=") && !key.contains("\n"))
            precondition(!value.contains("\n"))
        }
    }
}

public func fuzzAPI(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    APIFuzz.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
