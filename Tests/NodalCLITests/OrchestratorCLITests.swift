import Foundation
import Nodal
import NodalTestSupport
import Testing

/// The orchestrator examples from the command line: `nodal test` finds the plugin beside itself
/// and passes every case, and a sub-run's items are runs of the store, with their parent.
@Suite struct OrchestratorCLITests {
    static let folder = Products.repositoryRoot + "/examples/orchestrator"

    @Test func theExamplesPassWithNodalTest() throws {
        let result = try runProcess(Products.nodal, ["test"] + ["subworkflows", "batch", "polling"].map { Self.folder + "/\($0).yaml" })
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasSuffix("7 passed, 0 failed\n"), "\(result.stdout)")
    }

    @Test func subRunItemsAreRunsOfTheStore() async throws {
        let store = try temporaryDirectory() + "/runs.db"
        let run = try runProcess(Products.nodal, [
            "run", Self.folder + "/batch.yaml", "--input", #"{"orders": [{"quantity": 2, "price": 3}, {"quantity": "x", "price": 1}]}"#,
            "--store", store, "--run-id", "batch-1",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let list = try runProcess(Products.nodal, ["runs", "list", "--store", store, "--format", "json"])
        #expect(list.status == 0, "\(list.stderr)")
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(runs.count == 3)
        let items = runs.filter { $0["flow"] as? String == "price order" }
        #expect(items.map { $0["status"] as? String }.sorted { ($0 ?? "") < ($1 ?? "") } == ["failed", "success"])
        let opened = try await SQLiteRunStore(path: store)
        let records = try await opened.listRuns(limit: 10)
        try await opened.close()
        #expect(records.filter { $0.parentRunID == "batch-1" && $0.rootRunID == "batch-1" }.count == 2)
    }
}
