import ArgumentParser
import Nodal

struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "The result cache of steps marked `cache: true`, kept in the run store.",
        subcommands: [Stats.self, Clear.self])

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "How many results the cache holds, and their size.")
        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            try await exiting {
                let store = try await storeOptions.open(configuration: nil)
                let statistics = try await store.cacheStatistics()
                try? await store.close()
                print("\(statistics.entries) cached results, \(statistics.bytes) bytes")
            }
        }
    }

    struct Clear: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Removes every cached result.")
        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            try await exiting {
                let store = try await storeOptions.open(configuration: nil)
                let removed = try await store.clearCache()
                try? await store.close()
                print("removed \(removed) cached results")
            }
        }
    }
}
