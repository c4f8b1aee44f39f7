import Foundation
import HTTPTypes
import Hummingbird
import RemoteSupportCore
import RemoteSupportStore

/// What browsers and operators fetch outside the API: the end user's landing pages (`/join/...`), short
/// links (`/s/<code>`), `/health`, `/metrics`, `/openapi.yaml`; `/` leads to the console (its files are
/// served under `/console/` by a file middleware).
struct PageRoutes: Sendable {
    let desk: SupportDesk
    let hub: SessionHub
    let metrics: BrokerMetrics
    let version: String

    func register(on router: Router<BrokerRequestContext>) {
        router.get("/") { _, _ in Response(status: .found, headers: [.location: "/console/"]) }
        router.get("join/:slug", use: landing)
        router.get("s/:code", use: shortLink)
        router.get("health", use: health)
        router.get("metrics", use: exposition)
        router.get("openapi.yaml", use: openAPI)
        router.get("static/page.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: Self.pageCSS)))
        }
    }

    static let pageCSS = """
        body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1d2430; background: #f5f7fa; }
        main { max-width: 40rem; margin: 2rem auto; padding: 1.5rem 2rem; background: #fff; border-radius: 8px; }
        h1 { font-size: 1.6rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
        pre { background: #eef1f5; padding: .75rem; overflow-x: auto; border-radius: 4px; }
        """

    /// The page an end user sees when opening a personal or invitation link: who they will reach, what to
    /// run, and the connection-ID alternative. Names come from agents and end users: always escaped.
    @Sendable func landing(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let link = desk.configuration.publicURL.value + request.uri.description
        let target: JoinTarget
        do {
            target = try await desk.resolveJoinLink(link)
        } catch let error as DomainError {
            let message = error.code == .expired ? "This invitation has expired. Ask your support agent for a new one."
                                                 : "This link is not valid. Check it, or ask your support agent for a new one."
            return html(error.code == .expired ? .gone : .notFound, title: "Link not valid", body: "<h1>Link not valid</h1><p>\(message)</p>")
        }
        let agent = target.agent
        let organisation = desk.configuration.organisation
        let greeting = target.invitation?.endUserName.map { "Hello \(escape($0)), " } ?? ""
        let who = escape(agent.name) + (agent.jobTitle.isEmpty ? "" : ", " + escape(agent.jobTitle))
            + (organisation.isEmpty ? "" : " (" + escape(organisation) + ")")
        return html(.ok, title: "Remote support with \(agent.name)", body: """
            <h1>Remote support</h1>
            <p>\(greeting)\(who) will help you. Nobody can see or control your computer until you allow it,
            and you can end the session at any time.</p>
            <h2>1. Run the support client with this link</h2>
            <pre><code>rs-client --link '\(escape(link))'</code></pre>
            <p>It shows who is connecting and asks before sharing your screen.</p>
            <h2>Or use a connection ID</h2>
            <p>If your agent gave you a 6-digit connection ID instead, run the client and type it in when it
            asks, or give it on the command line:</p>
            <pre><code>rs-client --code 123456</code></pre>
            <h2>2. Wait for your agent</h2>
            <p>The client says "waiting" until \(escape(agent.name)) connects. Keep it open.</p>
            """)
    }

    @Sendable func shortLink(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let code = try context.parameters.require("code")
        do {
            let target = try await desk.resolveShortLink(code, address: context.address)
            return Response(status: .found, headers: [.location: target, .cacheControl: "no-store"])
        } catch let error as DomainError where error.code == .notFound || error.code == .expired || error.code == .invalidField {
            return html(.notFound, title: "Link not found", body: "<h1>Link not found</h1><p>This short link is unknown or has expired.</p>")
        }
    }

    /// Up when the store answers.
    @Sendable func health(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let counts = hub.sessionCounts
        let storeOK = (try? await desk.store.setting("link-signing-key")) != nil
        let body = HealthBody(status: storeOK ? "ok" : "store-unavailable", version: version, connections: hub.connectionCount,
                              sessionsWaiting: counts.waiting, sessionsConnected: counts.connected)
        var response = try body.response(from: request, context: context)
        response.status = storeOK ? .ok : .serviceUnavailable
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func exposition(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let counts = hub.sessionCounts
        metrics.refresh(connections: hub.connectionCount, waiting: counts.waiting, connected: counts.connected)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }

    @Sendable func openAPI(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources"),
              let data = try? Data(contentsOf: url) else {
            throw HTTPError(.notFound, message: "the API description is not installed")
        }
        return Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func html(_ status: HTTPResponse.Status, title: String, body: String) -> Response {
        let page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title><link rel="stylesheet" href="/static/page.css"></head>
            <body><main>\(body)</main></body></html>
            """
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: page)))
    }
}

/// Text for HTML: the five characters that could start markup or end an attribute, escaped.
func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for c in text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}

/// Headers every response carries: no sniffing, no framing, no referrers, a strict content policy (no
/// inline script), HSTS over TLS.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = BrokerRequestContext
    let tls: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        if tls { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        return response
    }
}
