import Foundation
import Hummingbird

/// A registered webhook, as the API shows it (never with its secret).
public struct Webhook: Sendable, Codable, Hashable {
    public let id: String
    public let url: String
    /// The event names it receives (all of `WebhookRules.eventNames` when registered without a filter).
    public let events: [String]
    public let created: Date
}

/// A webhook as kept in the store's settings: with the secret its deliveries are signed with.
struct StoredWebhook: Sendable, Codable, Hashable {
    let id: String
    let url: String
    let events: [String]
    let secret: String
    let created: Date

    var webhook: Webhook { Webhook(id: id, url: url, events: events, created: created) }

    func wants(_ event: String) -> Bool { events.contains(event) }
}

/// The "webhooks" setting: versioned so a later layout can be told apart.
struct StoredWebhooks: Codable {
    var version = 1
    var hooks: [StoredWebhook]

    static let settingName = "webhooks"

    static func decode(_ bytes: [UInt8]?) throws -> [StoredWebhook] {
        guard let bytes, !bytes.isEmpty else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return try decoder.decode(StoredWebhooks.self, from: Data(bytes)).hooks
    }

    static func encode(_ hooks: [StoredWebhook]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(StoredWebhooks(hooks: hooks)))
    }
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
    /// Shown once: the key of the deliveries' HMAC-SHA256 signature (its UTF-8 bytes).
    let secret: String
}

struct WebhookListBody: ResponseEncodable {
    let webhooks: [WebhookBody]
}
