import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON

// Found by the hostile review: a configuration found beside a flow may name the run store, and
// the store is created where it says, folders included.

@Suite struct HostileConfigTests {
    static func store(_ url: String) -> String { "storageConfig: { type: sqlite, databaseUrl: \"\(url)\" }\n" }

    func discoveredError(_ directory: String) -> FlowError? {
        do {
            _ = try NodalConfig(contentsOfFile: directory + "/nodal-config.yml", origin: .discovered)
            return nil
        } catch {
            return error
        }
    }

    /// Used to be accepted: running a flow from someone else's folder created `victim/deep/`
    /// and an SQLite file in it, anywhere the user may write (and turned an empty file there into
    /// a database).
    @Test(arguments: ["sqlite:../victim/deep/created.db", "sqlite:/tmp/nodal-hostile-store.db", "~/nodal-hostile.db", "sub/../../escape.db", "sqlite:missing/../../escape.db"])
    func aStoreOutsideTheFoldersOwnFolderIsRefused(url: String) throws {
        let root = try temporaryDirectory()
        let directory = root + "/flows"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.store(url).write(toFile: directory + "/nodal-config.yml", atomically: true, encoding: .utf8)
        let error = try #require(discoveredError(directory))
        #expect(error.field == "storageConfig.databaseUrl")
        #expect(error.message.contains("outside this configuration's folder"))
        #expect(error.message.contains("--config"))
        #expect(!FileManager.default.fileExists(atPath: root + "/victim"))
    }

    @Test func aSymlinkLeadingOutIsRefusedToo() throws {
        let outside = try temporaryDirectory()
        let directory = try temporaryDirectory(containing: ["nodal-config.yml": Self.store("sqlite:link/runs.db")])
        try FileManager.default.createSymbolicLink(atPath: directory + "/link", withDestinationPath: outside)
        #expect(discoveredError(directory)?.field == "storageConfig.databaseUrl")
    }

    @Test(arguments: ["sqlite:workflow_state.db", "sqlite:state/runs.db", "sqlite::memory:"])
    func aStoreInsideItsFolderIsFine(url: String) throws {
        let directory = try temporaryDirectory(containing: ["nodal-config.yml": Self.store(url)])
        #expect(discoveredError(directory) == nil)
        let memory = try temporaryDirectory(containing: ["nodal-config.yml": "storageConfig: { type: inMemory }\n"])
        #expect(discoveredError(memory) == nil)
    }

    @Test func aConfigurationYouNameMayPutTheStoreAnywhere() throws {
        let directory = try temporaryDirectory(containing: ["nodal-config.yml": Self.store("sqlite:/tmp/anywhere.db")])
        let config = try NodalConfig(contentsOfFile: directory + "/nodal-config.yml", origin: .named)
        #expect(config.storageConfig != nil)
    }
}
