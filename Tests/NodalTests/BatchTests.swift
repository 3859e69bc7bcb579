import Foundation
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// `Engine.runBatch`: order, counts, the concurrency cap, bounded streaming, list-valued inputs and
/// JSON-lines input.
@Suite struct BatchTests {
    /// How many runs of `/app/work` are in flight now, and the most there ever were.
    final class Gauge: Sendable {
        private let state = Mutex((now: 0, peak: 0, calls: 0))
        func enter() { state.withLock { $0.now += 1; $0.calls += 1; $0.peak = max($0.peak, $0.now) } }
        func leave() { state.withLock { $0.now -= 1 } }
        var peak: Int { state.withLock { $0.peak } }
        var calls: Int { state.withLock { $0.calls } }
    }

    /// Collects what `onResult` is handed, in the order it is handed.
    final class Collected: Sendable {
        private let items = Mutex<[BatchItemResult]>([])
        func append(_ item: BatchItemResult) { items.withLock { $0.append(item) } }
        var all: [BatchItemResult] { items.withLock { $0 } }
    }

    /// `/app/work`: sleeps `ms` milliseconds, fails with code BOOM when `fail` is true, and
    /// returns `{"i": i, "runId": <the run's id>}`.
    static func engine(gauge: Gauge = Gauge()) -> Engine {
        let engine = Engine()
        engine.register(route: "/app/work") { input, context in
            gauge.enter()
            defer { gauge.leave() }
            if let ms = input["ms"]?.intValue, ms > 0 { try await Task.sleep(for: .milliseconds(ms)) }
            if input["fail"]?.boolValue == true { throw StepError(code: "BOOM", message: "item \(input["i"] ?? .null) failed") }
            return ["i": input["i"] ?? .null, "runId": .string(context.runID)]
        }
        return engine
    }

    static let flow: Flow = try! Flow(yaml: """
        steps:
          - { id: work, component: /app/work, input: { $input: $ } }
        output: { $step: work }
        """)

    // MARK: Order

    /// Item i sleeps delays[i] ms; with every item in flight at once they finish in delay order.
    static let delays = [150, 0, 100, 50]
    static let completionOrder = [1, 3, 2, 0]
    static var delayedInputs: [JSON] { delays.enumerated().map { ["i": .int($0.offset), "ms": .int($0.element)] } }

    @Test func resultsComeInInputOrderOrCompletionOrderAsAsked() async {
        let engine = Self.engine()
        let inOrder = await engine.runBatch(Self.flow, inputs: Self.delayedInputs, options: BatchOptions(maxConcurrency: 4, order: .input))
        #expect(inOrder.items.map(\.index) == [0, 1, 2, 3])
        #expect(inOrder.items.map { $0.result.output?["i"] } == [0, 1, 2, 3])
        #expect(inOrder.counts == BatchCounts(total: 4, succeeded: 4, failed: 0, canceled: 0))

        let byCompletion = await engine.runBatch(Self.flow, inputs: Self.delayedInputs, options: BatchOptions(maxConcurrency: 4, order: .completion))
        #expect(byCompletion.items.map(\.index) == Self.completionOrder)
        // Each item still says which input it was, and lookups by input work in either order.
        #expect(byCompletion.items.map { $0.result.output?["i"]?.intValue } == Self.completionOrder)
        #expect(byCompletion.result(forInput: 0)?.output?["i"] == 0)
        #expect(byCompletion.result(forInput: 4) == nil)
    }

    @Test func streamingHandsResultsOverInTheOrderAsked() async {
        let engine = Self.engine()
        for (order, expected) in [(BatchOptions.Order.input, [0, 1, 2, 3]), (.completion, Self.completionOrder)] {
            let collected = Collected()
            let counts = await engine.runBatch(
                Self.flow, inputs: Self.stream(Self.delayedInputs), options: BatchOptions(maxConcurrency: 4, order: order)
            ) { collected.append($0) }
            #expect(collected.all.map(\.index) == expected, "\(order)")
            #expect(collected.all.map { $0.result.output?["i"]?.intValue } == expected, "\(order)")
            #expect(counts.total == 4 && counts.succeeded == 4)
        }
    }

    // MARK: Counts and run ids

    @Test func countsSayHowManyItemsFailed() async {
        let engine = Self.engine()
        let inputs: [JSON] = (0..<10).map { ["i": .int($0), "fail": .bool($0 % 3 == 0)] }
        let batch = await engine.runBatch(Self.flow, inputs: inputs, options: BatchOptions(maxConcurrency: 3))
        #expect(batch.counts == BatchCounts(total: 10, succeeded: 6, failed: 4, canceled: 0))
        #expect(!batch.counts.allSucceeded)
        #expect(batch.items.filter { $0.status == .failed }.map(\.index) == [0, 3, 6, 9])
        let failed = batch.result(forInput: 3)
        #expect(failed?.error?.code == "BOOM")
        #expect(failed?.error?.steps.map(\.id) == ["work"])
        #expect(failed?.input == ["i": 3, "fail": true])
        #expect(batch.result(forInput: 4)?.output?["i"] == 4)
    }

    @Test func runIDsComeFromTheBatchIDAndTheIndex() async {
        let engine = Self.engine()
        let inputs: [JSON] = [["i": 0], ["i": 1], ["i": 2]]
        let named = await engine.runBatch(Self.flow, inputs: inputs, options: BatchOptions(batchID: "nightly"))
        #expect(named.batchID == "nightly")
        #expect(named.items.map(\.result.runID) == ["nightly-0", "nightly-1", "nightly-2"])
        // The node sees the same id.
        #expect(named.items.map { $0.result.output?["runId"]?.stringValue } == ["nightly-0", "nightly-1", "nightly-2"])
        // Without a batch id, the run template's id is the prefix; without either, a UUID.
        let templated = await engine.runBatch(Self.flow, inputs: inputs, options: BatchOptions(run: RunOptions(runID: "job")))
        #expect(templated.items.map(\.result.runID) == ["job-0", "job-1", "job-2"])
        let generated = await engine.runBatch(Self.flow, inputs: inputs)
        #expect(generated.batchID.count == 36)
        #expect(generated.items[2].result.runID == generated.batchID + "-2")
    }

    @Test func templateVariablesReachEveryRun() async throws {
        let engine = Engine()
        let flow = try Flow(yaml: "steps: []\noutput: { greeting: { $variable: greeting }, n: { $input: n } }")
        let batch = await engine.runBatch(flow, inputs: [["n": 1], ["n": 2]], options: BatchOptions(run: RunOptions(variables: ["greeting": "hi"])))
        #expect(batch.items.map(\.result.output) == [["greeting": "hi", "n": 1], ["greeting": "hi", "n": 2]])
    }

    @Test func emptyBatch() async {
        let batch = await Self.engine().runBatch(Self.flow, inputs: [])
        #expect(batch.items.isEmpty)
        #expect(batch.counts == BatchCounts())
        #expect(batch.counts.allSucceeded)
    }

    @Test func aFlowThatDoesNotResolveFailsEveryItem() async throws {
        let flow = try Flow(yaml: "steps: [{ id: s, component: /app/nowhere }]\noutput: { $step: s }")
        let batch = await Engine().runBatch(flow, inputs: [[:], [:]])
        #expect(batch.counts == BatchCounts(total: 2, succeeded: 0, failed: 2, canceled: 0))
        #expect(batch.items.allSatisfy { $0.result.error?.code == "INVALID_FLOW" })
    }

    // MARK: Concurrency

    @Test func noMoreThanMaxConcurrencyRunsAreInFlight() async {
        let gauge = Gauge()
        let engine = Self.engine(gauge: gauge)
        let inputs: [JSON] = (0..<24).map { ["i": .int($0), "ms": 15] }
        let batch = await engine.runBatch(Self.flow, inputs: inputs, options: BatchOptions(maxConcurrency: 3))
        #expect(batch.counts.succeeded == 24)
        #expect(gauge.calls == 24)
        #expect(gauge.peak == 3)

        let one = Gauge()
        _ = await Self.engine(gauge: one).runBatch(Self.flow, inputs: inputs, options: BatchOptions(maxConcurrency: 0))
        #expect(one.peak == 1, "a cap below 1 means 1")
    }

    /// A sequence that records how far ahead of the results the batch reads it.
    final class Tracker: Sendable {
        private let state = Mutex((pulled: 0, delivered: 0, maxAhead: 0))
        func pulled() { state.withLock { $0.pulled += 1; $0.maxAhead = max($0.maxAhead, $0.pulled - $0.delivered) } }
        func delivered() { state.withLock { $0.delivered += 1 } }
        var maxAhead: Int { state.withLock { $0.maxAhead } }
        var pulledCount: Int { state.withLock { $0.pulled } }
    }

    struct TrackedInputs: AsyncSequence {
        typealias Element = JSON
        typealias Failure = Never
        let inputs: [JSON]
        let tracker: Tracker

        struct AsyncIterator: AsyncIteratorProtocol {
            typealias Element = JSON
            typealias Failure = Never
            var remaining: ArraySlice<JSON>
            let tracker: Tracker
            mutating func next() async -> JSON? {
                guard let input = remaining.popFirst() else { return nil }
                tracker.pulled()
                return input
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: inputs[...], tracker: tracker) }
    }

    @Test func streamingReadsAtMostMaxConcurrencyAheadInCompletionOrder() async {
        let gauge = Gauge()
        let engine = Self.engine(gauge: gauge)
        let tracker = Tracker()
        let inputs: [JSON] = (0..<60).map { ["i": .int($0), "ms": .int([5, 1, 9, 3][$0 % 4])] }
        let counts = await engine.runBatch(
            Self.flow, inputs: TrackedInputs(inputs: inputs, tracker: tracker), options: BatchOptions(maxConcurrency: 4, order: .completion)
        ) { _ in tracker.delivered() }
        #expect(counts.succeeded == 60)
        #expect(tracker.maxAhead == 4)
        #expect(gauge.peak == 4)
    }

    @Test func streamingInInputOrderBoundsTheReorderBuffer() async {
        let engine = Self.engine()
        let tracker = Tracker()
        let collected = Collected()
        // Item 0 is slow: the quick ones after it wait in the reorder buffer, which holds at most
        // 3; with 2 in flight, the batch reads no more than 5 items ahead of what it handed over.
        let inputs: [JSON] = (0..<40).map { ["i": .int($0), "ms": .int($0 == 0 ? 200 : 1)] }
        let counts = await engine.runBatch(
            Self.flow, inputs: TrackedInputs(inputs: inputs, tracker: tracker),
            options: BatchOptions(maxConcurrency: 2, order: .input, reorderBuffer: 3)
        ) {
            tracker.delivered()
            collected.append($0)
        }
        #expect(counts.succeeded == 40)
        #expect(collected.all.map(\.index) == Array(0..<40))
        // At most 5 ahead whatever the timing (how close it comes depends on the machine's load).
        #expect(tracker.maxAhead <= 5)
    }

    @Test func aLongStreamRunsThroughInOrder() async throws {
        let engine = Engine()
        let flow = try Flow(yaml: "steps: []\noutput: { n: { $input: n } }")
        let count = 5_000
        let sum = Mutex((items: 0, next: 0, inOrder: true))
        let counts = await engine.runBatch(flow, inputs: Self.stream((0..<count).map { ["n": .int($0)] }), options: BatchOptions(maxConcurrency: 8)) { item in
            sum.withLock {
                $0.items += 1
                if item.index != $0.next || item.result.output?["n"]?.intValue != item.index { $0.inOrder = false }
                $0.next += 1
            }
        }
        #expect(counts == BatchCounts(total: count, succeeded: count, failed: 0, canceled: 0))
        #expect(sum.withLock { $0.items == count && $0.inOrder })
    }

    @Test func aFailingInputSequenceEndsTheBatchAfterTheRunsInFlight() async {
        struct ReadFailure: Error {}
        let engine = Self.engine()
        let (inputs, continuation) = AsyncThrowingStream<JSON, any Error>.makeStream()
        for i in 0..<3 { continuation.yield(["i": .int(i), "ms": 20]) }
        continuation.finish(throwing: ReadFailure())
        let collected = Collected()
        await #expect(throws: ReadFailure.self) {
            try await engine.runBatch(Self.flow, inputs: inputs, options: BatchOptions(maxConcurrency: 2)) { collected.append($0) }
        }
        #expect(collected.all.map(\.index) == [0, 1, 2])
        #expect(collected.all.allSatisfy { $0.status == .success })
    }

    // MARK: Cancellation

    /// The fourth item's node cancels the batch. Two at a time, at least two items had finished
    /// before it started, and at most one more can have started beside it.
    @Test func cancellingTheTokenStopsStartingItems() async {
        let engine = Engine()
        let token = CancellationToken()
        engine.register(route: "/app/work") { input, context in
            if input["i"]?.intValue == 3 { token.cancel() }
            return ["i": input["i"] ?? .null, "runId": .string(context.runID)]
        }
        let inputs: [JSON] = (0..<40).map { ["i": .int($0)] }
        let batch = await engine.runBatch(Self.flow, inputs: inputs, options: BatchOptions(maxConcurrency: 2, run: RunOptions(cancellation: token)))
        #expect(batch.items.count == 40)
        #expect(batch.counts.total == 40)
        #expect(batch.counts.succeeded + batch.counts.failed + batch.counts.canceled == 40)
        #expect(batch.counts.canceled >= 35, "\(batch.counts)")
        #expect(batch.counts.succeeded >= 2, "\(batch.counts)")
        let notStarted = batch.items.filter { $0.result.error?.message == "the batch was canceled before this item started" }
        #expect(notStarted.count >= 35)
        #expect(notStarted.allSatisfy { $0.index >= 4 })
        #expect(notStarted.allSatisfy { $0.status == .canceled && $0.result.error?.code == "CANCELED" && $0.result.runID.hasSuffix("-\($0.index)") })
        #expect(batch.items.map(\.index) == Array(0..<40))
    }

    @Test func cancellingTheTaskStopsAStreamingBatch() async {
        let engine = Self.engine()
        let collected = Collected()
        let inputs: [JSON] = (0..<1_000).map { ["i": .int($0), "ms": 10] }
        let task = Task {
            await engine.runBatch(Self.flow, inputs: Self.stream(inputs), options: BatchOptions(maxConcurrency: 2)) { collected.append($0) }
        }
        try? await Task.sleep(for: .milliseconds(80))
        task.cancel()
        let counts = await task.value
        #expect(counts.total < 100, "\(counts)")
        #expect(counts.total == collected.all.count)
        #expect(collected.all.map(\.index) == Array(0..<counts.total))
    }

    // MARK: Items from lists

    @Test func zipTakesTheIthElementOfEveryList() throws {
        let items = try BatchInputs.zip(["prompt": ["a", "b", "c"], "n": [1, 2, 3]], base: ["model": "m", "n": 0])
        #expect(items == [
            ["model": "m", "n": 1, "prompt": "a"],
            ["model": "m", "n": 2, "prompt": "b"],
            ["model": "m", "n": 3, "prompt": "c"],
        ])
        #expect(try BatchInputs.zip(["x": []]) == [])
    }

    @Test func zipOfListsOfDifferentLengthsIsAnErrorNamingThem() {
        #expect {
            try BatchInputs.zip(["prompt": ["a", "b", "c"], "temperature": [0, 1]])
        } throws: { error in
            let error = error as! BatchInputsError
            return error.description == "zip needs lists of equal length: 'prompt' has 3 items, 'temperature' has 2 items"
                && error.lengths == ["prompt": 3, "temperature": 2]
        }
        #expect(throws: BatchInputsError.self) { try BatchInputs.zip([:]) }
        #expect {
            try BatchInputs.zip(["a": [1]], base: [1, 2])
        } throws: { error in
            (error as? BatchInputsError)?.description == "the base of batch items must be an object, not array"
        }
    }

    @Test func productBuildsEveryCombination() throws {
        let items = try BatchInputs.product(["temperature": [0, 1], "size": ["s", "m", "l"]], base: ["model": "m"])
        #expect(items.count == 6)
        // Keys in sorted order, the last (temperature) varying fastest.
        #expect(items.map { "\($0["size"]!.stringValue!)\($0["temperature"]!.intValue!)" } == ["s0", "s1", "m0", "m1", "l0", "l1"])
        #expect(items.allSatisfy { $0["model"] == "m" })
        #expect(Set(items).count == 6)
        #expect(try BatchInputs.product(["a": [1, 2], "b": []]) == [])
        #expect(try BatchInputs.product([:], base: ["only": true]) == [["only": true]])
        #expect {
            try BatchInputs.product(["a": .init(repeating: 0, count: 1000), "b": .init(repeating: 0, count: 1000), "c": [1, 2]], limit: 1_000_000)
        } throws: { error in
            (error as? BatchInputsError)?.description == "product would build more than 1000000 items ('a' has 1000 items, 'b' has 1000 items, 'c' has 2 items)"
        }
    }

    @Test func zippedItemsRunAsABatch() async throws {
        let engine = Engine()
        let flow = try Flow(yaml: "steps: []\noutput: { $input: $ }")
        let batch = await engine.runBatch(flow, inputs: try BatchInputs.zip(["a": [1, 2], "b": ["x", "y"]]))
        #expect(batch.items.map(\.result.output) == [["a": 1, "b": "x"], ["a": 2, "b": "y"]])
    }

    // MARK: JSON lines

    func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "nodal-batch-\(UUID().uuidString).jsonl"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func readAll(_ reader: JSONLinesReader) throws -> [BatchInput] {
        var items: [BatchInput] = []
        while let item = try reader.next() { items.append(item) }
        return items
    }

    @Test func aMalformedLineIsThatItemsFailure() async throws {
        let path = try write("{\"i\": 0}\n{\"i\": 1}\n\n{\"i\": 2, oops}\n{\"i\": 3}\r\n  \n{\"i\": 4}")
        let engine = Self.engine()
        let collected = Collected()
        let counts = try await engine.runBatch(Self.flow, inputs: try JSONLinesReader(path: path), options: BatchOptions(maxConcurrency: 2)) {
            collected.append($0)
        }
        #expect(counts == BatchCounts(total: 5, succeeded: 4, failed: 1, canceled: 0))
        let items = collected.all
        #expect(items.map(\.index) == [0, 1, 2, 3, 4])
        #expect(items.map(\.line) == [1, 2, 4, 5, 7])
        #expect(items.map { $0.result.output?["i"]?.intValue } == [0, 1, nil, 3, 4])
        let bad = items[2]
        #expect(bad.status == .failed)
        #expect(bad.result.error?.code == "INVALID_INPUT")
        #expect(bad.result.error?.message == "line 4 of \(path): invalid JSON at column 10: expected a string key")
        #expect(bad.result.step("work")?.status == .notRun)
        // The line a CLI prints for it.
        #expect(bad.json["line"] == 4)
        #expect(bad.json["error"]?["code"] == "INVALID_INPUT")
        #expect(bad.json["output"] == .null)
    }

    @Test func linesAcrossReadBoundariesAreReadWhole() throws {
        var text = "\u{FEFF}"
        for i in 0..<200 { text += "{\"i\": \(i), \"pad\": \"\(String(repeating: "x", count: i % 37))\"}\n" }
        let path = try write(text)
        let expected = try readAll(try JSONLinesReader(path: path))
        #expect(expected.count == 200)
        #expect(expected.map { try? $0.value.get()["i"]?.intValue } == (0..<200).map { $0 })
        for chunk in [1, 2, 7, 64] {
            let items = try readAll(try JSONLinesReader(path: path, maximumLineLength: 1 << 20, chunkSize: chunk))
            #expect(items.map { try? $0.value.get() } == expected.map { try? $0.value.get() }, "chunk \(chunk)")
            #expect(items.map(\.line) == Array(1...200), "chunk \(chunk)")
        }
    }

    @Test func overlongLinesAreRefusedAndReadingGoesOn() throws {
        let long = "{\"s\": \"\(String(repeating: "y", count: 100))\"}"
        let path = try write("{\"a\": 1}\n\(long)\n{\"b\": 2}\n\(long)")
        for chunk in [4, 16, 1 << 16] {
            let items = try readAll(try JSONLinesReader(path: path, maximumLineLength: 20, chunkSize: chunk))
            #expect(items.count == 4, "chunk \(chunk)")
            #expect(items.map(\.line) == [1, 2, 3, 4])
            #expect(try items[0].value.get() == ["a": 1])
            #expect(try items[2].value.get() == ["b": 2])
            for index in [1, 3] {
                guard case .failure(let error) = items[index].value else {
                    Issue.record("line \(index + 1) should be refused (chunk \(chunk))")
                    continue
                }
                #expect(error.description == "line \(index + 1) of \(path): the line is longer than 20 bytes")
            }
        }
    }

    @Test func aMissingFileOrADirectoryIsRefusedUpFront() {
        #expect {
            try JSONLinesReader(path: "/nonexistent/items.jsonl")
        } throws: { error in
            (error as? BatchInputError)?.description == "/nonexistent/items.jsonl: No such file or directory"
        }
        #expect(throws: BatchInputError.self) { try JSONLinesReader(path: NSTemporaryDirectory()) }
    }

    // MARK: Helpers

    static func stream(_ inputs: [JSON]) -> AsyncStream<JSON> {
        AsyncStream { continuation in
            for input in inputs { continuation.yield(input) }
            continuation.finish()
        }
    }
}
