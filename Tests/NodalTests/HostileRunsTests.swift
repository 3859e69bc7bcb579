import Foundation
import Synchronization
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON

/// Hostile requests to the runs and blobs extensions (issue #13's review): odd values where
/// numbers and ids go, huge ids, cancels of runs that ended. Each must be a clear refusal or a
/// plain answer, and a refusal's message stays short whatever the plugin sent.
@Suite struct HostileRunsTests {
    /// maxConcurrency that is not a whole number of at least 1 is refused, naming the field.
    @Test(arguments: ["0", "-1", "1e300", "\"5\"", "2.5", "true", "[1]"])
    func oddMaxConcurrencyIsRefusedNamingTheField(_ value: String) async throws {
        let engine = try ExtensionPlugin.engine()
        let refusal = try await RunsExtensionTests.refusal(engine, try RunsExtensionTests.submitFlow(
            subflow: SubRunTests.inner, request: "inputs: [1], maxConcurrency: \(value)"))
        #expect(refusal.code == "INVALID_REQUEST" && refusal.message.contains("'maxConcurrency'"), "\(value): \(refusal)")
        #expect(engine.subRuns.count == 0)
    }

    /// A 1 MB run id or flow id (or field name) is refused with a message that shows a prefix of
    /// it, not all of it: the message goes into logs, errors and replies.
    @Test func hugeIdsAreRefusedWithAShortMessage() async throws {
        let engine = try ExtensionPlugin.engine()
        let huge = String(repeating: "a", count: 1 << 20)
        let cases: [(Flow, String)] = [
            (try RunsExtensionTests.request("{ runId: \(huge) }", node: "get"), "RUN_NOT_FOUND"),
            (try RunsExtensionTests.request("{ runId: \(huge) }", node: "cancel"), "RUN_NOT_FOUND"),
            (try RunsExtensionTests.request("{ flowId: \(huge), inputs: [1] }"), "INVALID_REQUEST"),
            // (YAML caps a plain key at 1024 characters.)
            (try RunsExtensionTests.request("{ runId: x, \(huge.prefix(1000)): 1 }", node: "get"), "INVALID_REQUEST"),
        ]
        for (flow, code) in cases {
            let refusal = try await RunsExtensionTests.refusal(engine, flow)
            #expect(refusal.code == code, "\(refusal.code)")
            #expect(refusal.message.utf8.count < 500, "\(refusal.message.prefix(300))")
            #expect(refusal.message.contains(String(repeating: "a", count: 40)), "\(refusal.message.prefix(300))")
        }
    }

    /// Cancelling twice, and cancelling a run that already succeeded, answer its status; the
    /// finished run stays a success.
    @Test(.timeLimit(.minutes(1))) func cancelTwiceAndCancelAFinishedRunAnswerTheStatus() async throws {
        let engine = try ExtensionPlugin.engine()
        let flow = try Flow(yaml: """
            steps:
              - { id: put, component: /ext/put_flow, input: { $literal: \(SubRunTests.inner) } }
              - { id: submit, component: /ext/submit, input: { flowId: { $step: put, path: id }, inputs: [1, 2], wait: true } }
              - { id: first, component: /ext/cancel, input: { runId: { $step: submit, path: runId } } }
              - { id: second, component: /ext/cancel, input: { runId: { $step: first, path: runId } } }
            output: { submit: { $step: submit }, first: { $step: first }, second: { $step: second } }
            """)
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .success, "\(result.json)")
        #expect(result.output?[path: "submit.status"] == "success")
        #expect(result.output?[path: "first.status"] == "success")
        #expect(result.output?[path: "second.status"] == "success")
        #expect(RunsExtensionTests.counts(result.output?["second"]) == [2, 0, 0, 2, 0, 0])
    }

    /// Blob ids: uppercase hex and a `sha256:` prefix name the same blob; 63 digits, 65, and
    /// another prefix are refused as malformed, not looked up.
    @Test func blobIdFormsAreNormalizedOrRefused() {
        let id = String(repeating: "ab", count: 32)
        #expect(BlobsExtension.normalizedBlobID(id.uppercased()) == id)
        #expect(BlobsExtension.normalizedBlobID("sha256:" + id) == id)
        #expect(BlobsExtension.normalizedBlobID(String(id.dropLast())) == nil)
        #expect(BlobsExtension.normalizedBlobID(id + "a") == nil)
        #expect(BlobsExtension.normalizedBlobID("sha1:" + id) == nil)
        #expect(BlobsExtension.normalizedBlobID("") == nil)
        #expect(BlobsExtension.normalizedBlobID(String(repeating: "g", count: 64)) == nil)
    }

    /// Twenty calls waiting at once on a pool of one thread: each wait that has work behind it
    /// gets one thread in its place (20 threads; the 21st starts when more work comes, not
    /// before), and once the waits end the pool is back to one.
    @Test(.timeLimit(.minutes(1))) func twentyWaitsOnAOneThreadPoolStartOneThreadEachAndRetire() async throws {
        let pool = BlockingCallPool(threads: 1)
        pool.start()
        defer { pool.shutdown() }
        let release = Semaphore()
        let waiting = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        for _ in 0..<20 {
            pool.submit {
                pool.withCompensation {
                    waiting.add(1, ordering: .relaxed)
                    release.wait()
                }
                done.add(1, ordering: .relaxed)
            }
        }
        try await SubRunTests.eventually { waiting.load(ordering: .relaxed) == 20 }
        #expect(pool.liveThreads == 20)
        let ran = Atomic<Bool>(false)
        pool.submit { ran.store(true, ordering: .relaxed) }
        try await SubRunTests.eventually { ran.load(ordering: .relaxed) }
        #expect(pool.liveThreads == 21)
        for _ in 0..<20 { release.signal() }
        try await SubRunTests.eventually { done.load(ordering: .relaxed) == 20 }
        try await SubRunTests.eventually { pool.liveThreads == 1 }
    }
}

/// What the second hostile review found: waits that would start threads without bound, and a
/// shutdown that never returned while a plugin waited on a sub-run.
@Suite struct HostileRunsLimitTests {
    /// Each waiting call has a thread started in its place; past `maxBlockedThreads` waiting at
    /// once, a further wait is refused (nil, its body not run) instead of starting a thread, so a
    /// flow that fans out into waiting calls cannot start threads until pthread_create fails.
    @Test(.timeLimit(.minutes(1))) func waitsPastTheLimitAreRefusedNotGivenAThread() async throws {
        let pool = BlockingCallPool(threads: 1, maxBlockedThreads: 3)
        pool.start()
        defer { pool.shutdown() }
        let release = Semaphore()
        let waiting = Atomic<Int>(0)
        let refused = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        for _ in 0..<5 {
            pool.submit {
                let waited: Void? = pool.withCompensation {
                    waiting.add(1, ordering: .relaxed)
                    release.wait()
                }
                if waited == nil { refused.add(1, ordering: .relaxed) }
                done.add(1, ordering: .relaxed)
            }
        }
        try await SubRunTests.eventually { waiting.load(ordering: .relaxed) == 3 && refused.load(ordering: .relaxed) == 2 }
        #expect(pool.blockedThreadCount == 3)
        #expect(pool.liveThreads <= 4)
        for _ in 0..<3 { release.signal() }
        try await SubRunTests.eventually { done.load(ordering: .relaxed) == 5 }
        try await SubRunTests.eventually { pool.liveThreads == 1 }
    }

    /// A step waiting (submit with wait) on a sub-run that sleeps on a clock nobody advances:
    /// `shutdown()` cancels the sub-run, so the wait ends and shutdown returns; the step answers
    /// the sub-run's status, cancelled.
    @Test(.timeLimit(.minutes(1))) func shutdownEndsAWaitOnASubRunThatWouldNeverEnd() async throws {
        let clock = TestClock()
        let engine = try ExtensionPlugin.engine(blockingThreads: 1, clock: clock)
        let sleeper = "{ name: sleeper, steps: [{ id: nap, component: /builtin/sleep, input: { duration_ms: 3600000 } }], output: { $step: nap } }"
        let flow = try RunsExtensionTests.submitFlow(subflow: sleeper, request: "inputs: [1], wait: true")
        let run = Task { await engine.run(flow, input: [:]) }
        try await SubRunTests.eventually { engine.subRuns.count == 1 && engine.pool.blockedThreadCount == 1 }
        await engine.shutdown()
        let result = await run.value
        #expect(result.output?["status"] == "cancelled", "\(result.json)")
    }
}
