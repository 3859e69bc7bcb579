import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// A damaged store is reported naming the file and the record, and is never written into.
@Suite struct DamagedStoreTests {
    @Test func aRecordThatDoesNotDecodeIsNamedWithTheFile() async throws {
        let path = try temporaryDirectory() + "/runs.db"
        let store = try await SQLiteRunStore(path: path)
        try await store.putRun(sampleRun("r1"))
        try await store.putCheckpoint(StepCheckpoint(runID: "r1", stepID: "greet", status: "success", output: ["a": 1], attempts: 1))
        try await store.rawQuery("UPDATE runs SET input = '{bad' WHERE id = 'r1'")
        try await store.rawQuery("UPDATE step_checkpoints SET output = '[1,' WHERE run_id = 'r1'")
        for read in [{ _ = try await store.run(id: "r1") }, { _ = try await store.listRuns(limit: 5) }, { _ = try await store.checkpoints(runID: "r1") }] as [() async throws -> Void] {
            await #expect {
                try await read()
            } throws: { error in
                guard let error = error as? RunStoreError, error.kind == .corruptRecord else { return false }
                return error.path == path && error.message.contains(path) && error.message.contains("run 'r1'")
            }
        }
        try await store.close()
    }

    @Test func aDamagedFileIsRefusedBeforeAnythingIsWritten() async throws {
        let path = try temporaryDirectory() + "/runs.db"
        let store = try await SQLiteRunStore(path: path)
        for index in 0..<200 { try await store.putRun(sampleRun("run-\(index)")) }
        try await store.close()
        // Overwrite part of the table's pages, as a disk fault or a stray write would.
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: 4096)  // page 2 on, headers included
        handle.write(Data(repeating: 0xFF, count: 8192))
        try handle.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        await #expect {
            _ = try await SQLiteRunStore(path: path)
        } throws: { error in
            (error as? RunStoreError)?.kind == .damaged && "\(error)".contains(path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }
}
