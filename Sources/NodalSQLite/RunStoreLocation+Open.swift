public import NodalCore

// Opening a store lives beside the SQLite store, the one kind of file store this package ships;
// `RunStoreLocation` itself (parsing `--store`) is plain data in NodalCore.
extension RunStoreLocation {
    /// Opens the store. A PostgreSQL location is opened by `PostgresRunStore(location:)` in
    /// NodalPostgres, which this target does not depend on (the `nodal` command opens every kind).
    public func open(
        cacheLimit: CacheLimit = .default, durability: SQLiteRunStore.Durability = .processCrash
    ) async throws -> any RunStore {
        switch self {
        case .inMemory:
            return InMemoryRunStore(cacheLimit: cacheLimit)
        case .sqlite(let path):
            return try await SQLiteRunStore(path: path, durability: durability, cacheLimit: cacheLimit)
        case .postgres(let location):
            throw RunStoreError(
                .unsupportedLocation,
                "the run store \(location) is a PostgreSQL database: open it with PostgresRunStore (NodalPostgres)",
                path: location.description)
        }
    }

    /// Parses `url` (see the table above) and opens the store.
    public static func open(
        url: String, cacheLimit: CacheLimit = .default, durability: SQLiteRunStore.Durability = .processCrash
    ) async throws -> any RunStore {
        try await RunStoreLocation(parsing: url).open(cacheLimit: cacheLimit, durability: durability)
    }
}
