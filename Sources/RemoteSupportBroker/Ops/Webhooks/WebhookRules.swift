import Foundation
import RemoteSupportCore

/// What a registration may say: the URL, the event filter, how many hooks, and how secrets are made.
enum WebhookRules {
    /// Every event a hook can receive, in the order a filter is shown.
    static let eventNames = ["session.waiting", "session.connected", "session.cancelled", "session.ended"]
    static let maximumHooks = 50
    static let maximumURLLength = 2048

    /// The URL as given with its scheme in lower case, when it is an http(s) URL with a host and without
    /// credentials.
    static func validURL(_ text: String) throws(DomainError) -> String {
        guard !text.isEmpty else { throw DomainError(.invalidField, "url is required") }
        guard text.utf8.count <= maximumURLLength else {
            throw DomainError(.invalidField, "url must be at most \(maximumURLLength) characters")
        }
        // URLComponents accepts some of these; a delivery URL with them is a mistake or a trick.
        guard !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) else {
            throw DomainError(.invalidField, "url must not contain spaces or control characters")
        }
        guard let parts = URLComponents(string: text), let scheme = parts.scheme?.lowercased(),
              scheme == "http" || scheme == "https" else {
            throw DomainError(.invalidField, "url must be an http or https URL")
        }
        guard let host = parts.host, !host.isEmpty else { throw DomainError(.invalidField, "url must have a host") }
        // Credentials in the URL would be shown by list() to every admin and sent in clear to proxies.
        guard parts.user == nil, parts.password == nil else {
            throw DomainError(.invalidField, "url must not contain a user name or password")
        }
        // "HTTPS://" is valid (schemes ignore case) but stored and shown as "https://" (a fuzzing finding).
        return scheme + text.dropFirst(scheme.count)
    }

    /// The filter to keep: all events for nil or empty, else the named ones (deduplicated, in canonical order).
    static func validEvents(_ names: [String]?) throws(DomainError) -> [String] {
        guard let names, !names.isEmpty else { return eventNames }
        for name in names where !eventNames.contains(name) {
            throw DomainError(.invalidField, "unknown event \"\(name.prefix(64))\"; known: \(eventNames.joined(separator: ", "))")
        }
        return eventNames.filter(names.contains)
    }

    /// 32 random bytes as 64 hex digits.
    static func newSecret() -> String {
        var random = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let byte = UInt8.random(in: .min ... .max, using: &random)
            return String(byte, radix: 16).leftPadded(to: 2)
        }.joined()
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
