import Crypto
import Foundation
import RemoteSupportCore

/// One event for one hook: what is POSTed, under the same delivery id on every attempt.
struct WebhookDelivery: Sendable {
    let id: String
    let hook: StoredWebhook
    let change: SessionChange
    let time: Date

    init(hook: StoredWebhook, change: SessionChange, time: Date) {
        id = UUID().uuidString.lowercased()
        self.hook = hook
        self.change = change
        self.time = time
    }

    var event: String { change.kind }

    /// The JSON body: `{"id", "event", "time", "session": {...}}`, plus `agent` for session.connected.
    func body() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let session: WebhookSessionPayload
        var agent: WebhookAgentPayload?
        switch change {
        case .waiting(let s):
            session = .full(SessionBody(s))
        case .connected(let s, let a):
            session = .full(SessionBody(s))
            agent = WebhookAgentPayload(id: a.id.description, name: a.name)
        case .cancelled(let id, let reason), .ended(let id, let reason):
            session = .closed(id: id.description, reason: reason)
        }
        let payload = WebhookPayload(id: id, event: event, time: rfc3339(time), session: session, agent: agent)
        return Array(try encoder.encode(payload))
    }

    /// `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the timestamp is signed so a captured
    /// delivery cannot be replayed later under a fresh one.
    static func signature(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + code.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

private struct WebhookPayload: Encodable {
    let id: String
    let event: String
    let time: String
    let session: WebhookSessionPayload
    let agent: WebhookAgentPayload?
}

/// The session as the API shows it while it is in the lobby or connected; only its id and the reason
/// once it is gone.
private enum WebhookSessionPayload: Encodable {
    case full(SessionBody)
    case closed(id: String, reason: String)

    private enum Keys: String, CodingKey { case id, reason }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .full(let body):
            try body.encode(to: encoder)
        case .closed(let id, let reason):
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(id, forKey: .id)
            try container.encode(reason, forKey: .reason)
        }
    }
}

private struct WebhookAgentPayload: Encodable {
    let id: String
    let name: String
}
