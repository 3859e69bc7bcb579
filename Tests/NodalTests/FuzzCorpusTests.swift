import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore

/// Every input the fuzzer found crashing or hanging Nodal (Tests/FuzzCorpus/crashes) now ends in
/// an error or a result, and the process lives on.
@Suite struct FuzzCorpusTests {
    static var crashInputs: [String] {
        let folder = Products.repositoryRoot + "/Tests/FuzzCorpus/crashes"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { !$0.hasPrefix(".") }.sorted().map { folder + "/" + $0 }
    }

    @Test(arguments: crashInputs)
    func aFoundInputEndsInAnErrorOrAResult(path: String) async throws {
        let bytes = try #require(FileManager.default.contents(atPath: path))
        _ = await FuzzInput.feed(Array(bytes), to: FuzzInput.makeEngine())
    }

    @Test func theCorpusFolderIsThere() {
        #expect(FileManager.default.fileExists(atPath: Products.repositoryRoot + "/Tests/FuzzCorpus/crashes"))
    }
}
