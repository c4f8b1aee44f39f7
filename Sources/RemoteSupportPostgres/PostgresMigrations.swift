import Foundation
import PostgresNIO
import RemoteSupportStore

/// The schema (docs/storage.md) as numbered migrations: append new ones, never edit a shipped one.
///
/// `migrate` runs in one transaction holding `pg_advisory_xact_lock` on a key derived from the schema
/// name, so two nodes starting together take turns: the second finds everything applied and does nothing.
/// Each applied version is a row of `schema_migrations`; a database at a version this build does not know
/// is `StoreError(.schemaTooNew)` (an older node must not write to a newer schema).
enum PostgresMigrations {
    struct Migration {
        let version: Int32
        /// One statement each (the extended protocol runs one at a time).
        let statements: [PostgresQuery]
    }

    static let all: [Migration] = [
        Migration(version: 1, statements: [
            """
            CREATE TABLE agents (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL,
                email_normalized TEXT NOT NULL CONSTRAINT agents_email_normalized_key UNIQUE,
                name TEXT NOT NULL,
                job_title TEXT NOT NULL,
                role TEXT NOT NULL,
                enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
                slug TEXT NOT NULL CONSTRAINT agents_slug_key UNIQUE,
                created BIGINT NOT NULL,
                last_login BIGINT,
                password_hash TEXT NOT NULL,
                must_change_password INTEGER NOT NULL CHECK (must_change_password IN (0, 1)),
                failed_logins INTEGER NOT NULL DEFAULT 0,
                locked_until BIGINT
            )
            """,
            """
            CREATE TABLE login_sessions (
                digest TEXT PRIMARY KEY,
                agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
                created BIGINT NOT NULL,
                last_seen BIGINT NOT NULL,
                expires BIGINT NOT NULL,
                address TEXT NOT NULL
            )
            """,
            "CREATE INDEX login_sessions_agent ON login_sessions (agent_id)",
            """
            CREATE TABLE invitations (
                id TEXT PRIMARY KEY,
                agent_id TEXT NOT NULL REFERENCES agents (id),
                agent_slug TEXT NOT NULL,
                ticket TEXT,
                end_user_name TEXT,
                created BIGINT NOT NULL,
                expires BIGINT NOT NULL,
                revoked BIGINT
            )
            """,
            """
            CREATE TABLE short_links (
                code TEXT PRIMARY KEY,
                target TEXT NOT NULL,
                agent_id TEXT NOT NULL REFERENCES agents (id),
                created BIGINT NOT NULL,
                expires BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE connection_codes (
                code INTEGER PRIMARY KEY CHECK (code BETWEEN 0 AND 999999),
                agent_id TEXT NOT NULL REFERENCES agents (id),
                ticket TEXT,
                end_user_name TEXT,
                created BIGINT NOT NULL,
                expires BIGINT NOT NULL,
                consumed BIGINT
            )
            """,
            "CREATE INDEX connection_codes_created ON connection_codes (created)",
            "CREATE INDEX connection_codes_agent ON connection_codes (agent_id, expires)",
            // Session ids compare bytewise (COLLATE "C"), as PageCursor compares them in Swift, whatever
            // the database's collation is.
            """
            CREATE TABLE sessions (
                id TEXT COLLATE "C" PRIMARY KEY,
                agent_id TEXT NOT NULL REFERENCES agents (id),
                join_method TEXT NOT NULL,
                join_reference TEXT,
                ticket TEXT,
                invited_name TEXT,
                end_user_name TEXT NOT NULL,
                machine_name TEXT NOT NULL,
                operating_system TEXT NOT NULL,
                address TEXT NOT NULL,
                created BIGINT NOT NULL,
                status TEXT NOT NULL,
                state_agent_id TEXT,
                connected_at BIGINT,
                finished_at BIGINT,
                end_reason TEXT
            )
            """,
            "CREATE INDEX sessions_newest ON sessions (created DESC, id DESC)",
            "CREATE INDEX sessions_lobby ON sessions (status, agent_id, created DESC, id DESC)",
            """
            CREATE TABLE audit_log (
                sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                time BIGINT NOT NULL,
                action TEXT NOT NULL,
                actor_kind TEXT NOT NULL,
                actor_agent_id TEXT,
                actor_label TEXT NOT NULL,
                subject TEXT NOT NULL,
                address TEXT NOT NULL,
                detail TEXT NOT NULL
            )
            """,
            "CREATE INDEX audit_action ON audit_log (action, sequence)",
            "CREATE INDEX audit_actor ON audit_log (actor_agent_id, sequence)",
            """
            CREATE TABLE settings (
                name TEXT PRIMARY KEY,
                value BYTEA NOT NULL
            )
            """,
        ]),
    ]

    /// The newest version this build knows.
    static var latest: Int32 { all.map(\.version).max() ?? 0 }

    /// Creates `schema` if it is missing and applies the migrations it lacks, all in one transaction
    /// under the advisory lock. The connection's `search_path` must be `schema`. Returns the versions
    /// applied (empty when it was up to date).
    @discardableResult
    static func migrate(_ db: StoreConnection, schema: String, now: Date = Date()) async throws -> [Int32] {
        try await db.transaction {
            try await db.run("SELECT pg_advisory_xact_lock(\(lockClass), \(lockKey(schema: schema)))")
            // Looked up first: CREATE SCHEMA IF NOT EXISTS still needs the CREATE privilege on the database.
            if try await db.fetchOne("SELECT 1 FROM pg_namespace WHERE nspname = \(schema)") == nil {
                try await db.run(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(quoted(schema))"))
            }
            try await db.run("""
                CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)
                """)
            let current = try await db.fetchOne("SELECT coalesce(max(version), 0) AS version FROM schema_migrations")
                .map { row in try RowReader(row).int("version") } ?? 0
            guard current <= Int(latest) else {
                throw StoreError(.schemaTooNew, """
                    the PostgreSQL schema \(schema) is at version \(current), newer than this build knows (\(latest)): \
                    upgrade this node
                    """)
            }
            var applied: [Int32] = []
            for migration in all where migration.version > current {
                for statement in migration.statements {
                    try await db.run(statement)
                }
                try await db.run("""
                    INSERT INTO schema_migrations (version, applied) VALUES (\(migration.version), \(now.millisecondsSince1970))
                    """)
                applied.append(migration.version)
            }
            return applied
        }
    }

    /// The advisory lock is (class, key): the class marks it as ours, the key is the schema, so stores on
    /// different schemas do not wait for each other. FNV-1a, not `hashValue`, which changes per process.
    static let lockClass: Int32 = 0x5253_7570  // "RSup"

    static func lockKey(schema: String) -> Int32 {
        var hash: UInt32 = 2_166_136_261
        for byte in schema.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return Int32(bitPattern: hash)
    }

    /// A schema name as the store accepts it: `[a-z_][a-z0-9_]{0,62}`, not `pg_...` (reserved).
    static func isValidSchemaName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 63, !name.hasPrefix("pg_") else { return false }
        func isLetter(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || byte == UInt8(ascii: "_") }
        return isLetter(first) && bytes.allSatisfy { isLetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// A validated schema name as a quoted identifier (so reserved words such as `user` work).
    static func quoted(_ schema: String) -> String {
        precondition(isValidSchemaName(schema), "schema names are validated before they reach SQL")
        return "\"\(schema)\""
    }
}
