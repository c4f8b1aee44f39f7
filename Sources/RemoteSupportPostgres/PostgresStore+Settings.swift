import Foundation
import PostgresNIO
import RemoteSupportCore
import RemoteSupportStore

extension PostgresStore {
    /// INSERT ... ON CONFLICT DO NOTHING, then read what is there: a concurrent first insert is committed
    /// before ON CONFLICT gives way, so both nodes read the one value.
    public func settingInsertingIfAbsent(_ name: String, value: [UInt8]) async throws -> [UInt8] {
        try await withConnection { db in
            try await db.run("""
                INSERT INTO settings (name, value) VALUES (\(name), \(ByteBuffer(bytes: value))) ON CONFLICT (name) DO NOTHING
                """)
            guard let row = try await db.fetchOne("SELECT value FROM settings WHERE name = \(name)") else {
                throw StoreError(.failed, "setting \(name) vanished")
            }
            return try Self.settingValue(from: row)
        }
    }

    public func setting(_ name: String) async throws -> [UInt8]? {
        try await withConnection { db in
            try await db.fetchOne("SELECT value FROM settings WHERE name = \(name)").map(Self.settingValue(from:))
        }
    }

    public func replaceSetting(_ name: String, value: [UInt8]?) async throws {
        try await withConnection { db in
            if let value {
                try await db.run("""
                    INSERT INTO settings (name, value) VALUES (\(name), \(ByteBuffer(bytes: value)))
                    ON CONFLICT (name) DO UPDATE SET value = excluded.value
                    """)
            } else {
                try await db.run("DELETE FROM settings WHERE name = \(name)")
            }
        }
    }

    static func settingValue(from row: PostgresRow) throws -> [UInt8] {
        do {
            return try RowReader(row).bytes("value")
        } catch {
            throw PostgresErrors.corrupt("setting", error)
        }
    }
}
