import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// Tests that measure, in real time, that async work keeps ticking while plugin calls block. They
/// need a machine that is not busy with other tests: they run one at a time, and `scripts/test`
/// runs this suite on its own after the rest of the suite.
@Suite(.serialized) struct IsolationTests {
    /// More blocking calls than pool threads are in flight, and an async heartbeat elsewhere in
    /// the process keeps ticking: blocking plugin calls never hold the cooperative pool.
    @Test func blockingCallsDoNotStallAsyncWork() async throws {
        let engine = try NativePluginTests.engine(blockingThreads: 2)
        var steps = ""
        for i in 0..<6 { steps += "  - { id: s\(i), component: /std/sleep, input: { ms: 400 } }\n" }
        let flow = try Flow(yaml: "steps:\n\(steps)output: [\((0..<6).map { "{$step: s\($0), path: slept_ms}" }.joined(separator: ", "))]")

        let clock = ContinuousClock()
        async let run = engine.run(flow, input: [:])
        var worstGap = Duration.zero
        var last = clock.now
        let start = last
        var ticks = 0
        while clock.now - start < .milliseconds(1000) {
            try await Task.sleep(for: .milliseconds(5))
            let now = clock.now
            worstGap = max(worstGap, now - last)
            last = now
            ticks += 1
        }
        let result = await run
        #expect(result.status == .success)
        // 6 calls of 400 ms on 2 threads take about 1.2 s; the heartbeat must not wait on them.
        #expect(worstGap < .milliseconds(200), "heartbeat stalled \(worstGap)")
        #expect(ticks > 20)
    }
}
