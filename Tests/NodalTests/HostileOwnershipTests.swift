import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

// Found by the hostile review: one owner per run, when the owner stalls past its lease.

@Suite struct HostileOwnershipTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        func count(_ line: String) -> Int { lines.withLock { $0.filter { $0 == line }.count } }
    }

    final class Gate: Sendable {
        private let open = Atomic<Bool>(false)
        let entered = Atomic<Bool>(false)
        func release() { open.store(true, ordering: .releasing) }
        func wait() async {
            entered.store(true, ordering: .releasing)
            while !open.load(ordering: .acquiring) { try? await Task.sleep(for: .milliseconds(2)) }
        }
    }

    static let flow = """
        name: stall
        steps:
          - { id: a, component: /app/log, input: { line: a } }
          - { id: w, component: /app/hold, input: { after: { $step: a } } }
          - { id: b, component: /app/log, input: { line: b, after: { $step: w } } }
        output: { b: { $step: b }, w: { $step: w } }
        """

    /// An engine whose `/app/log` records its line and whose `/app/hold` answers `who` (after
    /// `gate` opens, if there is one).
    static func engine(lines: Lines, who: String, gate: Gate?, clock: any Clock<Duration> = ContinuousClock()) -> Engine {
        let engine = Engine(leaseDuration: .milliseconds(300), clock: clock)
        engine.register(route: "/app/log") { input, _ in
            lines.add(input["line"]?.stringValue ?? "?")
            return input
        }
        engine.register(route: "/app/hold") { _, _ in
            if let gate { await gate.wait() }
            return .string(who)
        }
        return engine
    }

    /// The first owner stalls (its heartbeat does not run: it sleeps on a clock nobody
    /// advances, as a process stopped with SIGSTOP does) in step `w` until its lease is long
    /// past; a second owner resumes the run and finishes it. When the first wakes, it used to
    /// go on as if nothing happened: it ran `b` a second time, wrote its checkpoints and then its
    /// own end over the second owner's record. (From the command line: `kill -STOP` a `nodal run`
    /// for more than 30 s, `nodal resume` it, `kill -CONT`: `runs list` then showed the finished
    /// run as `canceled`.)
    @Test func anOwnerThatStalledPastItsLeaseStopsAndLeavesTheRecordAlone() async throws {
        let directory = try temporaryDirectory(containing: ["stall.yaml": Self.flow])
        let store = try await SQLiteRunStore(path: directory + "/runs.db")
        let flow = try Flow(contentsOfFile: directory + "/stall.yaml")
        let lines = Lines(), gate = Gate()
        let stalled = Self.engine(lines: lines, who: "first", gate: gate, clock: TestClock())
        var options = RunOptions(runID: "stalled")
        options.store = store
        let first = Task { [options] in await stalled.run(flow, input: [:], options: options) }
        while !gate.entered.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(2)) }
        try await Task.sleep(for: .milliseconds(700))  // the lease (300 ms) is long past

        let second = Self.engine(lines: lines, who: "second", gate: nil)
        let resumed = try await second.resume(runID: "stalled", store: store)
        #expect(resumed.status == .success, "\(resumed.error as Any)")
        #expect(resumed.output?["w"] == "second")

        gate.release()
        let stale = await withinSeconds(20) { await first.value }
        #expect(stale?.status == .failed)
        #expect(stale?.error?.code == "LEASE_LOST", "\(stale?.error as Any)")
        #expect(lines.count("a") == 1)
        #expect(lines.count("b") == 1, "the stalled owner ran b again")
        let record = try #require(try await store.run(id: "stalled"))
        #expect(record.status == .success)
        #expect(record.result?["output"]?["w"] == "second", "the stalled owner overwrote the record")
        let checkpoint = try await store.checkpoints(runID: "stalled").first { $0.stepID == "w" }
        #expect(checkpoint?.output == "second")
        try await store.close()
    }

    /// Used to trap (Double to Int64 conversion) when the lease's expiry was written to SQLite.
    @Test func anEnormousLeaseDurationRunsInsteadOfTrapping() async throws {
        let engine = Engine(leaseDuration: .seconds(Int64.max))
        engine.register(route: "/app/one") { _, _ in 1 }
        let store = try await SQLiteRunStore(path: ":memory:")
        var options = RunOptions(runID: "long")
        options.store = store
        let result = await engine.run(try Flow(yaml: "steps: [{ id: s, component: /app/one, input: {} }]\noutput: { $step: s }"), input: [:], options: options)
        #expect(result.status == .success, "\(result.error as Any)")
        #expect(Date.distantFuture.addingTimeInterval(1e300).storeMilliseconds == .max)
        try await store.close()
    }
}
