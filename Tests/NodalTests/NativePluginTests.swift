import Synchronization
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// Round trips through the plugins that ship with Nodal, and the execution rules for native nodes.
@Suite struct NativePluginTests {
    static func engine(blockingThreads: Int? = nil) throws -> Engine {
        let engine = Engine(blockingThreads: blockingThreads)
        try engine.loadPlugin(at: Products.plugin("nodal_std"))
        try engine.loadPlugin(at: Products.plugin("nodal_stats"))
        return engine
    }

    @Test func cPluginRoundTrip() async throws {
        let engine = try Self.engine()
        let flow = try Flow(yaml: """
            steps:
              - { id: up, component: /std/upper, input: { text: { $input: name } } }
              - { id: sum, component: /std/add, input: { a: 2, b: 40 } }
              - { id: parts, component: /std/concat, input: { parts: [ { $step: up, path: text }, "!" ], separator: "" } }
            output: { text: { $step: parts, path: text }, sum: { $step: sum, path: result } }
            """)
        let result = await engine.run(flow, input: ["name": "ada"])
        #expect(result.status == .success)
        #expect(result.output == ["text": "ADA!", "sum": 42])
    }

    @Test func swiftPluginRoundTrip() async throws {
        let engine = try Self.engine()
        let info = try #require(engine.plugins.first { $0.id == "org.nodal.stats" })
        #expect(info.swiftToolchain == PluginLoader.hostSwiftToolchain)
        let flow = try Flow(yaml: "steps: [{id: m, component: /stats/mean, input: {values: [1, 2, 3, 6]}}]\noutput: {$step: m, path: mean}")
        let result = await engine.run(flow, input: [:])
        #expect(result.output == 3)
    }

    @Test func pluginStructuredErrorReachesTheResult() async throws {
        let engine = try Self.engine()
        let flow = try Flow(yaml: "steps: [{id: f, component: /std/fail, input: {code: E42, message: nope, details: {n: 1}}}]\noutput: {$step: f}")
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .failed)
        #expect(result.step("f")?.error == StepError(code: "E42", message: "nope", details: ["n": 1]))
    }

    @Test func invalidJSONFromAPluginFailsTheStepSayingSo() async throws {
        let engine = try Self.engine()
        let flow = try Flow(yaml: "steps: [{id: b, component: /std/bad_output}]\noutput: {$step: b}")
        let result = await engine.run(flow, input: [:])
        #expect(result.step("b")?.error?.code == "INVALID_OUTPUT")
        #expect(result.step("b")?.error?.message.contains("invalid JSON") == true)
    }

    @Test func badInputGetsTheNodesOwnError() async throws {
        let engine = try Self.engine()
        let flow = try Flow(yaml: "steps: [{id: u, component: /std/upper, input: {text: 5}}]\noutput: {$step: u}")
        let result = await engine.run(flow, input: [:])
        #expect(result.step("u")?.error?.code == "INVALID_INPUT")
    }

    @Test func unknownNodeOfALoadedPluginIsAValidationError() throws {
        let engine = try Self.engine()
        let flow = try Flow(yaml: "steps: [{id: u, component: /std/nope}]\noutput: {$step: u}")
        let error = #expect(throws: FlowError.self) { try engine.validate(flow) }
        #expect(error?.message.contains("no node 'nope'") == true)
    }

    /// More blocking calls than pool threads are in flight, and an async heartbeat elsewhere in
    /// the process keeps ticking: blocking plugin calls never hold the cooperative pool.
    @Test func blockingCallsDoNotStallAsyncWork() async throws {
        let engine = try Self.engine(blockingThreads: 2)
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

    @Test func callsToANodeThatIsNotThreadSafeAreSerialized() async throws {
        let engine = try Self.engine(blockingThreads: 4)
        var steps = ""
        for i in 0..<12 { steps += "  - { id: c\(i), component: /std/serial_counter }\n" }
        let flow = try Flow(yaml: "steps:\n\(steps)output: [\((0..<12).map { "{$step: c\($0), path: count}" }.joined(separator: ", "))]")
        let result = await engine.run(flow, input: [:])
        let counts = try #require(result.output?.arrayValue).compactMap(\.intValue)
        // Racing calls would read the same counter value and repeat a count.
        #expect(Set(counts).count == 12, "counts: \(counts)")
    }

    @Test func nonBlockingNodesRunInlineAndBlockingOnesOnThePool() throws {
        let engine = try Self.engine()
        let std = try #require(engine.plugins.first { $0.name == "std" })
        let upper = try #require(std.nodes.first { $0.name == "upper" })
        let sleep = try #require(std.nodes.first { $0.name == "sleep" })
        #expect(upper.flags.contains(.nonBlocking))
        #expect(!sleep.flags.contains(.nonBlocking))
        #expect(sleep.flags.contains(.cancellable))
    }
}
