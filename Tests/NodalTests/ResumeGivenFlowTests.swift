import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// `Engine.resume(flow:)`: resuming a run whose flow is not in a file (the run service keeps its
/// flows as blobs), as a restarted process does.
@Suite struct ResumeGivenFlowTests {
    final class Calls: Sendable {
        private let calls = Mutex<[String]>([])
        func record(_ step: String) { calls.withLock { $0.append(step) } }
        var all: [String] { calls.withLock { $0 } }
    }

    /// `/app/step` adds 1 to `n`; with `stopAt`, the first call of that step cancels the run
    /// (as the process being stopped mid-run would), so it ends with the steps before it done.
    func engine(_ calls: Calls, stopAt: String? = nil, token: CancellationToken? = nil) -> Engine {
        let engine = Engine()
        engine.register(route: "/app/step") { input, context in
            calls.record(context.stepID)
            if context.stepID == stopAt, calls.all.filter({ $0 == stopAt }).count == 1 {
                token?.cancel()
                throw CancellationError()
            }
            return ["n": .int((input["n"]?.intValue ?? 0) + 1)]
        }
        return engine
    }

    static let document: JSON = [
        "name": "chain",
        "steps": [
            ["id": "a", "component": "/app/step", "input": ["n": ["$input": "start"]]],
            ["id": "b", "component": "/app/step", "input": ["n": ["$step": "a", "path": "n"]]],
            ["id": "c", "component": "/app/step", "input": ["n": ["$step": "b", "path": "n"]]],
        ],
        "output": ["$step": "c", "path": "n"],
    ]

    @Test func aRunOfAFlowFromADocumentResumesWithTheFlowGivenAfterARestart() async throws {
        let path = try temporaryDirectory() + "/runs.db"
        let calls = Calls()
        let token = CancellationToken()
        do {
            let store = try await SQLiteRunStore(path: path)
            let blobID = try await store.putBlob(Self.document, type: .flow)
            let flow = try Flow(document: Self.document)
            #expect(flow.file == nil && flow.sourceHash == nil)
            let stopped = await engine(calls, stopAt: "b", token: token).run(
                flow, input: ["start": 1], options: RunOptions(runID: "svc-0", cancellation: token, store: store))
            #expect(stopped.status == .canceled)
            #expect(stopped.step("a")?.status == .success)
            #expect(try await store.checkpoints(runID: "svc-0").map(\.stepID) == ["a"])
            #expect(blobID.count == 64)
            try await store.close()
        }
        #expect(calls.all == ["a", "b"])

        // A new process: another store object on the file, another engine, the flow read back
        // from its blob.
        let store = try await SQLiteRunStore(path: path)
        let engine = engine(calls)
        let noFile = await #expect(throws: ResumeError.self) { try await engine.resume(runID: "svc-0", store: store) }
        #expect(noFile?.kind == .noFlowFile)
        let blob = try #require(try await store.blob(id: ContentHash.sha256Hex(Self.document.serializedBytes())))
        let resumed = try await engine.resume(runID: "svc-0", store: store, flow: try Flow(document: blob))
        #expect(resumed.status == .success)
        #expect(resumed.output == 4)
        #expect(resumed.step("a")?.output == ["n": 2])
        #expect(calls.all == ["a", "b", "b", "c"])  // a did not run again
        #expect(try await store.run(id: "svc-0")?.status == .success)
        #expect(try await store.checkpoints(runID: "svc-0").map(\.stepID) == ["a", "b", "c"])
        try await store.close()
    }

    /// A flow with a hash (read from text) is checked against the one the run recorded.
    @Test func aGivenFlowWithAnotherHashIsRefusedUnlessAllowed() async throws {
        let store: any RunStorage = InMemoryRunStore()
        let calls = Calls()
        let token = CancellationToken()
        let text = Self.document.serialized()
        let started = try Flow(json: text)
        #expect(started.sourceHash != nil)
        _ = await engine(calls, stopAt: "c", token: token).run(
            started, input: ["start": 1], options: RunOptions(runID: "r", cancellation: token, store: store))
        let engine = engine(calls)

        let edited = try Flow(json: text + "\n")
        let changed = await #expect(throws: ResumeError.self) { try await engine.resume(runID: "r", store: store, flow: edited) }
        #expect(changed?.kind == .flowChanged)
        #expect(changed?.message.contains("flow given to resume run 'r'") == true)
        // Nothing ran for the refused resume.
        #expect(calls.all == ["a", "b", "c"])

        let resumed = try await engine.resume(runID: "r", store: store, flow: try Flow(json: text))
        #expect(resumed.output == 4)
        #expect(calls.all == ["a", "b", "c", "c"])
    }

    @Test func allowChangedFlowTakesAGivenFlowWhateverItsHash() async throws {
        let store: any RunStorage = InMemoryRunStore()
        let calls = Calls()
        let token = CancellationToken()
        _ = await engine(calls, stopAt: "b", token: token).run(
            try Flow(json: Self.document.serialized()), input: ["start": 1],
            options: RunOptions(runID: "r", cancellation: token, store: store))
        let resumed = try await engine(calls).resume(
            runID: "r", store: store, allowChangedFlow: true, flow: try Flow(document: Self.document))
        #expect(resumed.output == 4)
        #expect(calls.all == ["a", "b", "b", "c"])
    }
}
