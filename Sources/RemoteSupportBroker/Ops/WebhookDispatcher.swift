import Foundation
import Hummingbird
import Logging
import RemoteSupportCore
import RemoteSupportStore
import Synchronization

// STUB (to be replaced): the interface the broker uses; keeps hooks in memory and delivers nothing.

/// A registered webhook.
public struct Webhook: Sendable, Codable, Hashable {
    public let id: String
    public let url: String
    public let events: [String]
    public let created: Date
}

struct WebhookRequest: Decodable {
    let url: String
    let events: [String]?
}

struct WebhookBody: ResponseEncodable {
    let id: String
    let url: String
    let events: [String]
    let created: String
    init(_ w: Webhook) {
        id = w.id
        url = w.url
        events = w.events
        created = rfc3339(w.created)
    }
}

struct CreatedWebhookBody: ResponseEncodable {
    let webhook: WebhookBody
    let secret: String
}

struct WebhookListBody: ResponseEncodable {
    let webhooks: [WebhookBody]
}

/// Posts session events to the URLs the operator registered, signed with HMAC-SHA256, retried with
/// backoff, never blocking the hub.
public final class WebhookDispatcher: Sendable {
    let desk: SupportDesk
    let logger: Logger
    private let hooks = Mutex<[Webhook]>([])

    init(desk: SupportDesk, logger: Logger) {
        self.desk = desk
        self.logger = logger
    }

    /// Loads the registered hooks from the store.
    func load() async throws {}

    /// Delivers until cancelled.
    func run() async {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }

    /// Queues a change for delivery (never blocks).
    func publish(_ change: SessionChange) {}

    func list() async throws -> [Webhook] { hooks.withLock { $0 } }

    func add(url: String, events: [String]?, by admin: Agent, address: String) async throws -> (Webhook, String) {
        let hook = Webhook(id: UUID().uuidString.lowercased(), url: url, events: events ?? [], created: Date())
        hooks.withLock { $0.append(hook) }
        return (hook, "")
    }

    func remove(id: String, by admin: Agent, address: String) async throws {
        hooks.withLock { $0.removeAll { $0.id == id } }
    }
}
