import ArgumentParser
import Nodal
#if canImport(NodalPostgres)
import NodalPostgres
#endif

/// Where the CLI keeps runs: `--store`, else the config's `storageConfig`, else
/// `$NODAL_STORE`, else the default file (`RunStoreLocation.defaultPath`).
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The run store: an SQLite file path, sqlite:PATH, sqlite::memory:, postgres://USER@HOST/DATABASE or inMemory. Default: the config's storageConfig, else $NODAL_STORE, else ~/.local/share/nodal/nodal.db.")
    var store: String?

    @Option(name: .long, help: "What a write to an SQLite store survives: process-crash (default: every write, each step's checkpoint included, is committed before the run goes on), grouped (as process-crash, but checkpoints are committed in groups behind the run, in order: a crash may re-run the last steps), power-loss (every commit flushed to the disk).")
    var durability: Durability = .processCrash

    enum Durability: String, ExpressibleByArgument, CaseIterable {
        case processCrash = "process-crash", grouped, powerLoss = "power-loss"

        var sqlite: SQLiteRunStore.Durability {
            switch self {
            case .processCrash: .processCrash
            case .grouped: .grouped
            case .powerLoss: .powerLoss
            }
        }
    }

    func location(configuration: NodalConfig?) throws -> RunStoreLocation {
        do {
            if let store { return try RunStoreLocation(parsing: store) }
            if let storageConfig = configuration?.storageConfig {
                return try RunStoreLocation(storageConfig: storageConfig, relativeTo: configuration?.directory)
            }
            return try RunStoreLocation.default
        } catch {
            throw CLIError.store("\(error)")
        }
    }

    func open(configuration: NodalConfig?) async throws -> any RunStore {
        let location = try location(configuration: configuration)
        if durability != .processCrash, !location.isSQLite {
            throw CLIError.store("--durability \(durability.rawValue) applies to SQLite stores only, and the run store here is \(location)")
        }
        do {
            if case .postgres(let postgres) = location {
                #if canImport(NodalPostgres)
                return try await PostgresRunStore(location: postgres)
                #else
                throw CLIError.store("the run store \(postgres) is a PostgreSQL database, and this nodal was built without PostgreSQL (NODAL_ENGINE_ONLY)")
                #endif
            }
            return try await location.open(durability: durability.sqlite)
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.store("\(error)")
        }
    }
}

extension RunStoreLocation {
    fileprivate var isSQLite: Bool {
        if case .sqlite = self { return true }
        return false
    }
}
