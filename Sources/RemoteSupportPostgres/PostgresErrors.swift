import PostgresNIO
import RemoteSupportCore
import RemoteSupportStore

/// How postgres-nio's errors become the store's: a unique violation is a rule saying no
/// (`DomainError(.conflict)`), a lost or refused connection is `.unavailable`, damaged data `.corrupt`,
/// anything else `.failed`. Messages carry the server's message, detail and SQLSTATE, never the query or
/// its bound values (which may be password hashes).
enum PostgresErrors {
    static func translate(_ error: PSQLError) -> any Error {
        if let state = error.serverInfo?[.sqlState] {
            switch state {
            case "23505":
                let constraint = error.serverInfo?[.constraintName] ?? ""
                if constraint.contains("email") { return DomainError(.conflict, "another agent has this e-mail address") }
                if constraint.contains("slug") { return DomainError(.conflict, "another agent has this link name") }
                return DomainError(.conflict, "already exists")
            case "53300", "57P01", "57P02", "57P03":
                // too many connections, the server shutting down or starting up
                return StoreError(.unavailable, "PostgreSQL: \(describe(error))")
            case "XX001", "XX002":
                return StoreError(.corrupt, "PostgreSQL: \(describe(error))")
            default:
                // class 08: connection exceptions
                if state.hasPrefix("08") { return StoreError(.unavailable, "PostgreSQL: \(describe(error))") }
                return StoreError(.failed, "PostgreSQL: \(describe(error))")
            }
        }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
             .sslUnsupported, .failedToAddSSLHandler:
            return StoreError(.unavailable, "PostgreSQL: \(describe(error))")
        default:
            return StoreError(.failed, "PostgreSQL: \(describe(error))")
        }
    }

    /// A row whose column does not decode as the type the store wrote.
    static func corrupt(_ what: String, _ error: any Error) -> StoreError {
        if let error = error as? PostgresDecodingError {
            return StoreError(.corrupt, "\(what): column \(error.columnName) (\(error.postgresType)) is not a \(error.targetType): \(error.code)")
        }
        if let error = error as? StoreError { return error }
        return StoreError.corrupt(what, error)
    }

    /// One line saying what went wrong: the server's message and SQLSTATE, or the client-side cause.
    /// (PSQLError's own description is a fixed placeholder, on purpose.)
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if error.code == .sslUnsupported { return "the server does not offer TLS, which the URL's sslmode requires" }
        if let info = error.serverInfo {
            let message = info[.message] ?? "server error"
            let detail = info[.detail].map { " (\($0))" } ?? ""
            let state = info[.sqlState].map { " [SQLSTATE \($0)]" } ?? ""
            return message + detail + state
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}
