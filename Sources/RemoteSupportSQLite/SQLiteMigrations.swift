import GRDB
import RemoteSupportStore

/// The schema (docs/storage.md), as GRDB migrations: append new ones, never edit a shipped one.
enum SQLiteMigrations {
    static func migrate(_ pool: DatabasePool) throws {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE agents (
                    id TEXT PRIMARY KEY NOT NULL,
                    email TEXT NOT NULL,
                    email_normalized TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    job_title TEXT NOT NULL,
                    role TEXT NOT NULL,
                    enabled INTEGER NOT NULL,
                    slug TEXT NOT NULL UNIQUE,
                    created INTEGER NOT NULL,
                    last_login INTEGER,
                    password_hash TEXT NOT NULL,
                    must_change_password INTEGER NOT NULL,
                    failed_logins INTEGER NOT NULL DEFAULT 0,
                    locked_until INTEGER
                );
                CREATE TABLE login_sessions (
                    digest TEXT PRIMARY KEY NOT NULL,
                    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
                    created INTEGER NOT NULL,
                    last_seen INTEGER NOT NULL,
                    expires INTEGER NOT NULL,
                    address TEXT NOT NULL
                );
                CREATE INDEX login_sessions_agent ON login_sessions(agent_id);
                CREATE TABLE invitations (
                    id TEXT PRIMARY KEY NOT NULL,
                    agent_id TEXT NOT NULL REFERENCES agents(id),
                    agent_slug TEXT NOT NULL,
                    ticket TEXT,
                    end_user_name TEXT,
                    created INTEGER NOT NULL,
                    expires INTEGER NOT NULL,
                    revoked INTEGER
                );
                CREATE TABLE short_links (
                    code TEXT PRIMARY KEY NOT NULL,
                    target TEXT NOT NULL,
                    agent_id TEXT NOT NULL REFERENCES agents(id),
                    created INTEGER NOT NULL,
                    expires INTEGER NOT NULL
                );
                CREATE TABLE connection_codes (
                    code INTEGER PRIMARY KEY NOT NULL,
                    agent_id TEXT NOT NULL REFERENCES agents(id),
                    ticket TEXT,
                    end_user_name TEXT,
                    created INTEGER NOT NULL,
                    expires INTEGER NOT NULL,
                    consumed INTEGER
                );
                CREATE INDEX connection_codes_created ON connection_codes(created);
                CREATE TABLE sessions (
                    id TEXT PRIMARY KEY NOT NULL,
                    agent_id TEXT NOT NULL REFERENCES agents(id),
                    join_method TEXT NOT NULL,
                    join_reference TEXT,
                    ticket TEXT,
                    invited_name TEXT,
                    end_user_name TEXT NOT NULL,
                    machine_name TEXT NOT NULL,
                    operating_system TEXT NOT NULL,
                    address TEXT NOT NULL,
                    created INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    state_agent_id TEXT,
                    connected_at INTEGER,
                    finished_at INTEGER,
                    end_reason TEXT
                );
                CREATE INDEX sessions_newest ON sessions(created DESC, id DESC);
                CREATE INDEX sessions_lobby ON sessions(status, agent_id, created DESC, id DESC);
                CREATE TABLE audit_log (
                    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                    time INTEGER NOT NULL,
                    action TEXT NOT NULL,
                    actor_kind TEXT NOT NULL,
                    actor_agent_id TEXT,
                    actor_label TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    address TEXT NOT NULL,
                    detail TEXT NOT NULL
                );
                CREATE INDEX audit_action ON audit_log(action, sequence);
                CREATE INDEX audit_actor ON audit_log(actor_agent_id, sequence);
                CREATE TABLE settings (
                    name TEXT PRIMARY KEY NOT NULL,
                    value BLOB NOT NULL
                );
                """)
        }
        do {
            if try pool.read({ db in try migrator.hasBeenSuperseded(db) }) {
                throw StoreError(.schemaTooNew, "the database was written by a newer version of this software")
            }
            try migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.unavailable, "cannot migrate the SQLite database: \(error)")
        }
    }
}
