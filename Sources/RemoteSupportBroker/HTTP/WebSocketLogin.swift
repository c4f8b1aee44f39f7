import Hummingbird
import NIOHTTP1
import RemoteSupportCore

/// The console's viewer speaks the protocol over `/ws` as an agent, but its script cannot read the
/// HttpOnly login cookie to put the token in `authenticate`. So the cookie the browser sent with the
/// WebSocket upgrade counts instead, when the page that opened the socket is the broker's own: a
/// WebSocket is not bound by the same-origin policy, so without the Origin check another site's page
/// could use a visitor's login (cross-site WebSocket hijacking; SameSite=Strict is the second guard).
enum WebSocketLogin {
    /// The login token to use for an empty `authenticate`, or nil, from the upgrade request's headers.
    static func browserToken(_ headers: HTTPHeaders, publicURL: PublicURL) -> String? {
        // A browser sends exactly one Origin, which its pages cannot change.
        let origins = headers["origin"]
        guard let token = Cookies(from: headers["cookie"])[APIRoutes.cookieName]?.value, !token.isEmpty, origins.count == 1,
              let origin = origins.first?.lowercased() else { return nil }
        return isOwn(origin: origin, publicURL: publicURL.value, host: headers.first(name: "host")) ? token : nil
    }

    /// Whether `origin` (scheme://host[:port]) is the public URL's, or the host the request was sent to.
    static func isOwn(origin: String, publicURL: String, host: String?) -> Bool {
        if origin == Self.origin(of: publicURL) { return true }
        guard let host = host?.lowercased(), !host.isEmpty else { return false }
        return origin == "http://" + host || origin == "https://" + host
    }

    /// scheme://authority of a URL, lower-cased, without path.
    static func origin(of url: String) -> String {
        let lower = url.lowercased()
        guard let schemeEnd = lower.range(of: "://") else { return lower }
        let rest = lower[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(lower[..<schemeEnd.upperBound]) + authority
    }
}
