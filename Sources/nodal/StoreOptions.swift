import ArgumentParser
import Nodal

/// Where the CLI keeps runs: `--store`, else the config's `storageConfig`, else
/// `$NODAL_STORE`, else the default file (`RunStoreLocation.defaultPath`).
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The run store: an SQLite file path, sqlite:PATH, sqlite::memory: or inMemory. Default: the config's storageConfig, else $NODAL_STORE, else ~/.local/share/nodal/nodal.db.")
    var store: String?

    func open(configuration: NodalConfig?) async throws -> any RunStore {
        do {
            let location: RunStoreLocation
            if let store {
                location = try RunStoreLocation(parsing: store)
            } else if let storageConfig = configuration?.storageConfig {
                location = try RunStoreLocation(storageConfig: storageConfig, relativeTo: configuration?.directory)
            } else {
                location = try RunStoreLocation.default
            }
            return try await location.open()
        } catch {
            throw CLIError.store("\(error)")
        }
    }
}
