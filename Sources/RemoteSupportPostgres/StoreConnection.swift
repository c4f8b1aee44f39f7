import Foundation
import PostgresNIO
import RemoteSupportStore

/// One leased connection as the store uses it: statements whose database errors are already translated
/// (`PostgresErrors`), rows collected before the next statement, and transactions that hand the body's
/// own errors back untouched.
struct StoreConnection {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs `query` and collects its rows.
    func fetch(_ query: PostgresQuery) async throws -> [PostgresRow] {
        do {
            return try await connection.query(query, logger: logger).collect()
        } catch let error as PSQLError {
            throw PostgresErrors.translate(error)
        }
    }

    /// Runs `query` and returns its first row, if any.
    func fetchOne(_ query: PostgresQuery) async throws -> PostgresRow? {
        try await fetch(query).first
    }

    /// Runs `query` for its effect.
    func run(_ query: PostgresQuery) async throws {
        _ = try await fetch(query)
    }

    /// BEGIN; `body`; COMMIT. When `body` (or COMMIT) throws, ROLLBACK and rethrow that error as it is;
    /// when even ROLLBACK fails, the connection is closed so the pool never lends it out mid-transaction.
    func transaction<Result>(_ body: () async throws -> Result) async throws -> Result {
        try await run("BEGIN")
        do {
            let result = try await body()
            try await run("COMMIT")
            return result
        } catch {
            do {
                try await run("ROLLBACK")
            } catch {
                try? await connection.close()
            }
            throw error
        }
    }
}

/// Reads a row's columns by name, as the types the store wrote them: times BIGINT milliseconds, flags
/// INTEGER 0/1. A value of another type throws `PostgresDecodingError`, which the record readers turn
/// into `StoreError(.corrupt)`.
struct RowReader {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

    func text(_ column: String) throws -> String { try row[column].decode(String.self) }
    func optionalText(_ column: String) throws -> String? { try row[column].decode(String?.self) }
    func int64(_ column: String) throws -> Int64 { try row[column].decode(Int64.self) }
    func optionalInt64(_ column: String) throws -> Int64? { try row[column].decode(Int64?.self) }
    func int(_ column: String) throws -> Int { Int(try row[column].decode(Int32.self)) }
    func date(_ column: String) throws -> Date { Date(millisecondsSince1970: try int64(column)) }
    func optionalDate(_ column: String) throws -> Date? {
        try row[column].decode(Int64?.self).map(Date.init(millisecondsSince1970:))
    }

    func flag(_ column: String) throws -> Bool {
        switch try row[column].decode(Int32.self) {
        case 0: return false
        case 1: return true
        default: throw StoreError(.corrupt, "\(column) is neither 0 nor 1")
        }
    }

    func bytes(_ column: String) throws -> [UInt8] {
        Array(try row[column].decode(ByteBuffer.self).readableBytesView)
    }
}

extension Bool {
    /// The INTEGER 0/1 the schema stores booleans as.
    var storedFlag: Int32 { self ? 1 : 0 }
}
