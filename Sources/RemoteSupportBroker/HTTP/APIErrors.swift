import Foundation
import HTTPTypes
import Hummingbird
import Logging
import RemoteSupportCore
import RemoteSupportStore

/// Turns what the API's handlers throw into JSON error responses: `DomainError`s by their code (the
/// reason is written for people and carries no secret), body parsing errors as 400, anything else as a
/// 500 whose detail goes to the log only.
struct APIErrorMiddleware: RouterMiddleware {
    typealias Context = BrokerRequestContext
    let metrics: BrokerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as DomainError {
            if error.code == .rateLimited { metrics.rateLimited(rateLimitName(request.uri.path)) }
            if error.code == .invalidCredentials { metrics.loginFailed() }
            return errorResponse(Self.status(error.code), Self.name(error.code), error.reason,
                                 retryAfter: error.retryAfter.map { max(1, Int($0.rounded(.up))) })
        } catch let error as HTTPError {
            var response = errorResponse(error.status, Self.name(error.status), error.body ?? error.status.reasonPhrase)
            // Its own headers too: a 401's `WWW-Authenticate` challenge.
            for field in error.headers where response.headers[field.name] == nil { response.headers.append(field) }
            return response
        } catch is DecodingError {
            return errorResponse(.badRequest, "invalid-body", "the request body is not the JSON this call takes")
        } catch {
            context.logger.error("request \(request.method) \(request.uri.path) failed: \(error)")
            return errorResponse(.internalServerError, "internal-error", "the broker could not complete this request")
        }
    }

    private func rateLimitName(_ path: String) -> String {
        if path.hasSuffix("/login") { return "login" }
        if path.hasPrefix("/s/") { return "short-link" }
        return "other"
    }

    static func status(_ code: DomainError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidField, .malformedLink, .weakPassword: .badRequest
        case .invalidCredentials, .sessionExpired: .unauthorized
        case .passwordChangeRequired, .forbidden: .forbidden
        case .rateLimited: .tooManyRequests
        case .notFound, .badSignature: .notFound
        case .invalidTransition, .conflict: .conflict
        case .expired: .gone
        case .exhausted, .notConfigured: .serviceUnavailable
        default: .internalServerError
        }
    }

    /// Errors of the HTTP layer (no credentials, no CSRF header, unknown route, body too large), by status.
    static func name(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .unauthorized: "unauthenticated"
        case .forbidden: "forbidden"
        case .notFound: "not-found"
        case .methodNotAllowed: "method-not-allowed"
        case .contentTooLarge: "too-large"
        default: "bad-request"
        }
    }

    static func name(_ code: DomainError.Code) -> String {
        code.description.replacingOccurrences(of: " ", with: "-")
    }
}

/// A JSON error body with its status (and `Retry-After` when given).
func errorResponse(_ status: HTTPResponse.Status, _ name: String, _ message: String, retryAfter: Int? = nil) -> Response {
    var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
    if let retryAfter { headers[.retryAfter] = String(retryAfter) }
    let body = ErrorBody(error: name, message: message, retryAfter: retryAfter)
    let data = (try? JSONEncoder().encode(body)) ?? Data("{}".utf8)
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
