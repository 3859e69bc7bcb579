import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// Steps marked `cache: true` reuse a stored result for the same node and input.
@Suite struct CacheTests {
    final class Counter: Sendable {
        private let value = Mutex(0)
        func next() -> Int { value.withLock { $0 += 1; return $0 } }
        var current: Int { value.withLock { $0 } }
    }

    func engine(_ calls: Counter) -> Engine {
        let engine = Engine()
        engine.register(route: "/app/square") { input, _ in
            _ = calls.next()
            let n = input["n"]?.intValue ?? 0
            return ["square": .int(n * n)]
        }
        return engine
    }

    let flowText = "steps: [{id: sq, component: /app/square, cache: true, input: {n: {$input: n}}}]\noutput: {$step: sq, path: square}"

    @Test func aHitSkipsTheCallAndAMissRunsIt() async throws {
        let store: any RunStorage = InMemoryRunStore()
        let calls = Counter()
        let engine = engine(calls)
        let flow = try Flow(yaml: flowText)
        let log = Mutex<[String]>([])
        let options = RunOptions(onEvent: { event in log.withLock { $0.append(event.json["event"]!.stringValue!) } }, store: store)

        let first = await engine.run(flow, input: ["n": 7], options: options)
        #expect(first.output == 49)
        #expect(first.step("sq")?.cached == false)
        let second = await engine.run(flow, input: ["n": 7], options: options)
        #expect(second.output == 49)
        #expect(second.step("sq")?.cached == true)
        #expect(second.step("sq")?.attempts == 0)
        #expect(calls.current == 1)
        #expect(log.withLock { $0 }.filter { $0 == "step.cached" }.count == 1)

        let other = await engine.run(flow, input: ["n": 8], options: options)
        #expect(other.output == 64)
        #expect(other.step("sq")?.cached == false)
        #expect(calls.current == 2)
    }

    @Test func theCacheSurvivesARestart() async throws {
        let path = try temporaryDirectory() + "/cache.db"
        let calls = Counter()
        let flow = try Flow(yaml: flowText)
        let store1 = try await SQLiteRunStore(path: path)
        _ = await engine(calls).run(flow, input: ["n": 3], options: RunOptions(store: store1))
        try await store1.close()
        let store2 = try await SQLiteRunStore(path: path)
        let again = await engine(calls).run(flow, input: ["n": 3], options: RunOptions(store: store2))
        #expect(again.step("sq")?.cached == true)
        #expect(calls.current == 1)
        #expect(try await store2.clearCache() == 1)
        let afterClear = await engine(calls).run(flow, input: ["n": 3], options: RunOptions(store: store2))
        #expect(afterClear.step("sq")?.cached == false)
        try await store2.close()
    }

    @Test func withoutAStoreNothingIsCached() async throws {
        let calls = Counter()
        let engine = engine(calls)
        let flow = try Flow(yaml: flowText)
        _ = await engine.run(flow, input: ["n": 2])
        _ = await engine.run(flow, input: ["n": 2])
        #expect(calls.current == 2)
    }

    @Test func cachingANonDeterministicNativeNodeIsRefused() throws {
        let engine = Engine()
        try engine.loadPlugin(at: Products.plugin("nodal_std"))
        let flow = try Flow(yaml: "steps: [{id: s, component: /std/sleep, cache: true, input: {ms: 1}}]\noutput: {$step: s}", file: "f.yaml")
        let error = #expect(throws: FlowError.self) { try engine.validate(flow) }
        #expect(error?.field == "cache")
        #expect(error?.message.contains("deterministic") == true)
        let fine = try Flow(yaml: "steps: [{id: s, component: /std/upper, cache: true, input: {text: a}}]\noutput: {$step: s}")
        try engine.validate(fine)
    }
}
