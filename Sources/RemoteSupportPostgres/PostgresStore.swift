import Foundation
import PostgresNIO
import RemoteSupportCore
import RemoteSupportStore

/// `SupportStore` on PostgreSQL through postgres-nio: for several broker nodes sharing one database.
///
/// Everything lives in one schema (`public` by default), set as each connection's `search_path` when it
/// starts, so the SQL names bare tables. Read-modify-write runs in a transaction with the row locked
/// (`SELECT ... FOR NO KEY UPDATE`: other writers of the row wait, rows that merely reference it, such as
/// a new session of an agent being edited, do not); one-shot races (consuming a connection code, issuing
/// one, a setting's first value) are single conditional statements, so they hold across nodes too.
///
/// Lifecycle: `connect` checks the server and migrates before it returns; `shutdown` closes the pool
/// (later calls fail with `.unavailable`).
public final class PostgresStore: SupportStore {
    public let schema: String
    /// Where the database is, for messages (`postgres://user@host:port/db`, no password).
    public let configuration: PostgresConfiguration
    let client: PostgresClient
    let runTask: Task<Void, Never>
    let logger: Logger
    /// A collation whose `lower()` folds all of Unicode, for text search, when the database's default
    /// folds only ASCII (the "C" locale); nil to use the default. One of `unicodeCollations`, never input.
    let searchCollation: String?
    /// The migrations this store applied when it connected (empty when the schema was up to date).
    package let appliedMigrations: [Int32]

    /// Connects to the database at `url` (see `PostgresConfiguration`), creates `schema` if it is missing
    /// and migrates it. Fails fast with `StoreError(.unavailable)` naming host:port and the cause (refused,
    /// unknown host, password, TLS) when the server cannot be used; `.schemaTooNew` when a newer build
    /// migrated the database.
    ///
    /// - Parameters:
    ///   - schema: `[a-z_][a-z0-9_]{0,62}`; tests use a fresh one each for isolation.
    ///   - maximumConnections: the pool's size on this node (at least 1).
    public static func connect(url: String, schema: String = "public", logger: Logger? = nil,
                               maximumConnections: Int = 10) async throws -> PostgresStore {
        let configuration = try PostgresConfiguration(url: url)
        guard PostgresMigrations.isValidSchemaName(schema) else {
            throw StoreError(.unavailable, "invalid PostgreSQL schema name \(schema.debugDescription): use [a-z_][a-z0-9_]{0,62}, not pg_...")
        }
        var logger = logger ?? Self.quietLogger
        logger[metadataKey: "db"] = "\(configuration.endpoint)/\(schema)"

        // One connection outside the pool first: the pool retries a refused connection for a minute
        // before it gives up, and only this says why (refused, password, TLS) at once.
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: try configuration.connectionConfiguration(schema: schema),
                                                              id: 0, logger: logger)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.unavailable, "cannot connect to PostgreSQL at \(configuration.endpoint): \(PostgresErrors.describe(error))")
        }
        let searchCollation: String?
        let applied: [Int32]
        do {
            let db = StoreConnection(connection: connection, logger: logger)
            applied = try await PostgresMigrations.migrate(db, schema: schema)
            if !applied.isEmpty { logger.info("migrated the PostgreSQL schema", metadata: ["versions": "\(applied)"]) }
            searchCollation = try await Self.unicodeSearchCollation(db)
            try? await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }

        let client = PostgresClient(configuration: configuration.clientConfiguration(schema: schema, maximumConnections: maximumConnections),
                                    backgroundLogger: logger)
        let runTask = Task { await client.run() }
        return PostgresStore(schema: schema, configuration: configuration, client: client, runTask: runTask, logger: logger,
                             searchCollation: searchCollation, appliedMigrations: applied)
    }

    private init(schema: String, configuration: PostgresConfiguration, client: PostgresClient, runTask: Task<Void, Never>,
                 logger: Logger, searchCollation: String?, appliedMigrations: [Int32]) {
        self.schema = schema
        self.configuration = configuration
        self.client = client
        self.runTask = runTask
        self.logger = logger
        self.searchCollation = searchCollation
        self.appliedMigrations = appliedMigrations
    }

    deinit { runTask.cancel() }

    /// Closes the pool's connections and stops its task. Later calls fail with `.unavailable`.
    public func shutdown() async {
        runTask.cancel()
        await runTask.value
    }

    /// Drops the schema and everything in it (tests: each uses a fresh schema). Refuses `public`.
    public func dropSchemaForTesting() async throws {
        guard schema != "public" else { throw StoreError(.failed, "refusing to drop the public schema") }
        try await withConnection { db in
            try await db.run(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(PostgresMigrations.quoted(schema)) CASCADE"))
        }
    }

    /// Runs fixed SQL (tests only: damaging a row, faking a newer schema).
    package func executeForTesting(unsafeSQL sql: String) async throws {
        try await withConnection { db in try await db.run(PostgresQuery(unsafeSQL: sql)) }
    }

    // MARK: Connections

    /// Runs `body` on a pooled connection. Not getting one (server down, pool shut down) is `.unavailable`;
    /// errors from `body` pass as they are.
    func withConnection<Result: Sendable>(_ body: (StoreConnection) async throws -> Result) async throws -> Result {
        var leased = false
        do {
            return try await client.withConnection { connection in
                leased = true
                return try await body(StoreConnection(connection: connection, logger: logger))
            }
        } catch let error where !leased {
            if runTask.isCancelled { throw StoreError(.unavailable, "the PostgreSQL store was shut down") }
            throw StoreError(.unavailable, "no connection to PostgreSQL at \(configuration.endpoint): \(PostgresErrors.describe(error))")
        }
    }

    /// Runs `body` in one transaction on a pooled connection (see `StoreConnection.transaction`).
    func transaction<Result: Sendable>(_ body: (StoreConnection) async throws -> Result) async throws -> Result {
        try await withConnection { db in try await db.transaction { try await body(db) } }
    }

    // MARK: Text search

    /// Collations whose `lower()` folds all of Unicode, best first: ICU's root locale (PostgreSQL built
    /// with ICU, as Debian's and the official images are), then the built-in ones of PostgreSQL 18 and 17.
    static let unicodeCollations = ["und-x-icu", "pg_unicode_fast", "pg_c_utf8"]

    /// nil when the database's own `lower()` already folds `É` to `é`; else the first of
    /// `unicodeCollations` that does; nil (ASCII folding only) when none is there.
    static func unicodeSearchCollation(_ db: StoreConnection) async throws -> String? {
        let probe = try await db.fetchOne("SELECT lower(\("É")) = \("é") AS folds")
        if let probe, try probe.makeRandomAccess()["folds"].decode(Bool.self) { return nil }
        let present = try await db.fetch("""
            SELECT collname FROM pg_collation
            WHERE collname = ANY(\(unicodeCollations)) AND collencoding IN (-1, pg_char_to_encoding(getdatabaseencoding()))
            """).map { try RowReader($0).text("collname") }
        return unicodeCollations.first(where: present.contains)
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "remotesupport.postgres")
        logger.logLevel = .error
        return logger
    }
}
