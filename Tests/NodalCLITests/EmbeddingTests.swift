import Foundation
import NodalCore
import NodalTestSupport
import Testing

/// What README's Embedding section promises an app: a configuration file that is missing,
/// unreadable or malformed is a thrown `FlowError` naming it, never a crash.
@Suite struct EmbeddingTests {
    @Test func aMissingConfigurationFileIsAThrownErrorNamingIt() throws {
        let path = try temporaryDirectory() + "/nodal-config.yml"
        let error = try #require(throws: FlowError.self) { try NodalConfig(contentsOfFile: path) }
        #expect(error.description.contains(path))
        #expect(error.description.contains("No such file or directory"))
    }

    @Test func aFolderInPlaceOfTheFileIsAThrownError() throws {
        let folder = try temporaryDirectory()
        let error = try #require(throws: FlowError.self) { try NodalConfig(contentsOfFile: folder) }
        #expect(error.description.contains(folder))
    }

    @Test func aMalformedConfigurationNamesTheFileAndLine() throws {
        let directory = try temporaryDirectory(containing: ["nodal-config.yml": "plugins:\n  std: {path: [\n"])
        let error = try #require(throws: FlowError.self) { try NodalConfig(contentsOfFile: directory + "/nodal-config.yml") }
        #expect(error.description.contains("nodal-config.yml"))
        #expect(error.description.contains("3") || error.description.contains("line"), "\(error)")
    }
}
