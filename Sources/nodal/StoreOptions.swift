import ArgumentParser
import Nodal

/// Where the CLI keeps runs: `--store`, else the config's `storageConfig`, else
/// `$NODAL_STORE`, else the default file (`RunStoreLocation.defaultPath`).
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The run store: an SQLite file path, sqlite:PATH, sqlite::memory: or inMemory. Default: the config's storageConfig, else $NODAL_STORE, else ~/.local/share/nodal/nodal.db.")
    var store: String?

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
        do {
            return try await location.open()
        } catch {
            throw CLIError.store("\(error)")
        }
    }
}
