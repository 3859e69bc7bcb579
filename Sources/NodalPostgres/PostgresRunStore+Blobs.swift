public import NodalCore
public import NodalJSON
import FoundationEssentials
import NIOCore
import PostgresNIO

// Content-addressed blobs and the result cache.

extension PostgresRunStore {
    // MARK: Blobs

    @discardableResult
    public func putBlob(_ value: JSON) async throws -> String {
        let bytes = value.serializedBytes()  // the id is Stepflow's: keys in document order
        let id = ContentHash.sha256Hex(bytes)
        try await call("saving blob \(id)") {
            try await query(
                """
                INSERT INTO blobs (id, data, size, created_at, type)
                VALUES (\(id), \(String(decoding: bytes, as: UTF8.self)), \(bytes.count), \(Date().storeMilliseconds), 'data')
                ON CONFLICT (id) DO NOTHING
                """)
        }
        return id
    }

    public func blob(id: String) async throws -> JSON? {
        try await call("reading blob \(id)") {
            try await query("SELECT data FROM blobs WHERE id = \(id)").first.map { try StoredRow($0).json("data") }
        }
    }

    @discardableResult
    public func putBlob(_ value: JSON, type: BlobType) async throws -> String {
        guard type == .flow else { return try await putBlob(value) }
        let bytes = value.serializedBytes()
        let id = ContentHash.sha256Hex(bytes)
        try await call("saving blob \(id)") {
            // A value stored as data before becomes a flow blob.
            try await query(
                """
                INSERT INTO blobs (id, data, size, created_at, type)
                VALUES (\(id), \(String(decoding: bytes, as: UTF8.self)), \(bytes.count), \(Date().storeMilliseconds), 'flow')
                ON CONFLICT (id) DO UPDATE SET type = 'flow'
                """)
        }
        return id
    }

    @discardableResult
    public func putBytes(_ bytes: [UInt8], type: String) async throws -> String {
        let id = ContentHash.sha256Hex(bytes)
        try await call("saving bytes blob \(id)") {
            try await query(
                """
                INSERT INTO byte_blobs (id, type, data, size, created_at)
                VALUES (\(id), \(type), \(ByteBuffer(bytes: bytes)), \(bytes.count), \(Date().storeMilliseconds))
                ON CONFLICT (id) DO NOTHING
                """)
        }
        return id
    }

    public func storedBlob(id: String) async throws -> StoredBlob? {
        try await call("reading blob \(id)") {
            if let row = try await query("SELECT data, type FROM blobs WHERE id = \(id)").first.map(StoredRow.init) {
                return StoredBlob(content: .json(try row.json("data")), type: try row.text("type"))
            }
            guard let row = try await query("SELECT data, type FROM byte_blobs WHERE id = \(id)").first.map(StoredRow.init) else {
                return nil
            }
            return StoredBlob(content: .bytes(try row.bytes("data")), type: try row.text("type"))
        }
    }

    @discardableResult
    package func deleteBlob(id: String) async throws -> Bool {
        try await call("deleting blob \(id)") {
            try await transaction { transaction in
                let json = try await !transaction.query("DELETE FROM blobs WHERE id = \(id) RETURNING id").isEmpty
                let bytes = try await !transaction.query("DELETE FROM byte_blobs WHERE id = \(id) RETURNING id").isEmpty
                return json || bytes
            }
        }
    }

    // MARK: Result cache

    public func cachedResult(key: String) async throws -> CacheEntry? {
        try await call("reading the cache") {
            // A hit becomes the most recently used entry.
            try await query(
                """
                UPDATE result_cache SET last_used = nextval('result_cache_use') WHERE key = \(key)
                RETURNING key, value, created_at, size
                """
            ).first.map { row in
                let row = StoredRow(row)
                return CacheEntry(
                    key: try row.text("key"), value: try row.json("value"), createdAt: try row.time("created_at"),
                    byteSize: try row.int("size"))
            }
        }
    }

    package func putCachedResult(key: String, value: JSON) async throws {
        let text = value.serialized()
        let size = text.utf8.count
        let limit = cacheLimit
        try await call("saving to the cache") {
            if let maxEntries = limit.maxEntries, maxEntries <= 0 { return }
            try await transaction { transaction in
                // The statistics row first: cache writers queue on it, so two evictions never
                // wait on each other's rows.
                try await transaction.query("SELECT entries FROM result_cache_stats WHERE id = 1 FOR UPDATE")
                if let maxBytes = limit.maxBytes, size > maxBytes {
                    try await transaction.query("DELETE FROM result_cache WHERE key = \(key)")
                    return
                }
                try await transaction.query(
                    """
                    INSERT INTO result_cache (key, value, size, created_at, last_used)
                    VALUES (\(key), \(text), \(size), \(Date().storeMilliseconds), nextval('result_cache_use'))
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value, size = excluded.size,
                        created_at = excluded.created_at, last_used = excluded.last_used
                    """)
                try await evict(limit, keeping: key, in: transaction)
            }
        }
    }

    /// Deletes least recently used entries until the limit holds. The entry just written stays:
    /// `putCachedResult` checked that it fits by itself.
    private func evict(_ limit: CacheLimit, keeping key: String, in transaction: Transaction) async throws {
        while true {
            let stats = try await cacheStats(transaction.query("SELECT entries, bytes FROM result_cache_stats WHERE id = 1"))
            var excessEntries = limit.maxEntries.map { stats.entries - $0 } ?? 0
            var excessBytes = limit.maxBytes.map { stats.bytes - $0 } ?? 0
            guard excessEntries > 0 || excessBytes > 0 else { return }
            let oldest = try await transaction.query(
                """
                SELECT size, last_used FROM result_cache WHERE key <> \(key) ORDER BY last_used
                LIMIT \(min(max(excessEntries, 16), 1024))
                """)
            var cutoff: Int?
            for row in oldest.map(StoredRow.init) where excessEntries > 0 || excessBytes > 0 {
                cutoff = try row.int("last_used")
                excessEntries -= 1
                excessBytes -= try row.int("size")
            }
            guard let cutoff else { return }
            try await transaction.query("DELETE FROM result_cache WHERE last_used <= \(cutoff) AND key <> \(key)")
        }
    }

    private func cacheStats(_ rows: [PostgresRow]) throws -> CacheStatistics {
        guard let row = rows.first.map(StoredRow.init) else { return CacheStatistics(entries: 0, bytes: 0) }
        return CacheStatistics(entries: try row.int("entries"), bytes: try row.int("bytes"))
    }

    @discardableResult
    public func clearCache() async throws -> Int {
        try await call("clearing the cache") {
            try await transaction { transaction in
                let count = try await cacheStats(
                    transaction.query("SELECT entries, bytes FROM result_cache_stats WHERE id = 1 FOR UPDATE")).entries
                try await transaction.query("DELETE FROM result_cache")
                return count
            }
        }
    }

    public func cacheStatistics() async throws -> CacheStatistics {
        try await call("reading the cache size") {
            try await cacheStats(query("SELECT entries, bytes FROM result_cache_stats WHERE id = 1"))
        }
    }
}
