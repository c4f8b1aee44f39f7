import Foundation
import GRDB
import RemoteSupportCore
import RemoteSupportStore

/// `SupportStore` on one SQLite file through GRDB: the embedded default. WAL journal (readers never wait
/// for the writer), `synchronous=FULL` (a returned write survives power loss, not just a crash), foreign
/// keys on, and every write in an IMMEDIATE transaction, so two processes on one file serialise cleanly.
public final class SQLiteStore: SupportStore {
    let pool: DatabasePool
    public let path: String

    /// Opens (creating if needed) the database at `path` and migrates it. `StoreError(.unavailable)` when
    /// the file cannot be opened, `.schemaTooNew` when a newer build wrote it.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.label = "remotesupport"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError(.unavailable, "cannot open SQLite database \(path): \(error)")
        }
        try SQLiteMigrations.migrate(pool)
    }

    /// `PRAGMA integrity_check`: "ok" for an intact file.
    public func integrityCheck() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer" }
    }

    /// Closes the database (later calls fail).
    public func close() throws { try pool.close() }

    // MARK: Transactions

    /// Runs `body` in one IMMEDIATE transaction (the write lock taken at BEGIN, so a read-modify-write
    /// cannot be overtaken by another process), committing when it returns.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as DatabaseError {
            throw Self.translate(error)
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as DatabaseError {
            throw Self.translate(error)
        }
    }

    /// Unique violations are a rule saying no (`DomainError(.conflict)`); the rest is the database failing.
    static func translate(_ error: DatabaseError) -> any Error {
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            let detail = error.message ?? ""
            if detail.contains("email") { return DomainError(.conflict, "another agent has this e-mail address") }
            if detail.contains("slug") { return DomainError(.conflict, "another agent has this link name") }
            return DomainError(.conflict, "already exists")
        default:
            if error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB {
                return StoreError(.corrupt, "SQLite: \(error.message ?? "corrupt database")")
            }
            return StoreError(.failed, "SQLite: \(error.message ?? "\(error.resultCode)")")
        }
    }
}
