import Foundation
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

    /// More blocking calls than pool threads, none of which returns until released: only the
    /// pool's threads enter them, and this test's own async code still runs meanwhile. Were the
    /// calls made on the cooperative pool (as wide as the machine has cores), they would hold all
    /// of its threads and the test would hang until its time limit. (How quickly async work keeps
    /// ticking under load is measured in IsolationTests.)
    @Test(.timeLimit(.minutes(1))) func blockingCallsRunOnThePoolNotOnTheCooperativeThreads() async throws {
        let engine = try Self.engine(blockingThreads: 2)
        let hold = try HoldPlugin()
        defer { hold.release() }
        try engine.loadPlugin(at: hold.path)
        let count = 2 * ProcessInfo.processInfo.activeProcessorCount + 2
        var steps = ""
        for i in 0..<count { steps += "  - { id: h\(i), component: /hold/hold }\n" }
        let flow = try Flow(yaml: "steps:\n\(steps)output: [\((0..<count).map { "{$step: h\($0), path: released}" }.joined(separator: ", "))]")
        let run = Task { await engine.run(flow, input: [:]) }
        try await hold.waitUntilEntered(2)
        // Async work still runs while both pool threads are held.
        let sum = await withTaskGroup(of: Int.self) { group in
            for i in 0..<32 { group.addTask { await Task.yield(); return i } }
            return await group.reduce(0, +)
        }
        #expect(sum == 496)
        #expect(hold.entered == 2, "more calls entered the plugin than the pool has threads")
        hold.release()
        let result = await run.value
        #expect(result.status == .success)
        #expect(result.output == .array(Array(repeating: true, count: count)))
        #expect(hold.entered == count)
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
