import AsyncHTTPClient
import Logging
import Nodal
@testable import NodalClient
import NodalJSON
import NodalServer
import NodalService
import NodalTestSupport
import ServiceLifecycle
import Testing

/// The client against the real thing: `buildApplication` on a loopback port over a `RunService`
/// with an engine and an in-memory store. Nodes: `/test/echo` (its input), `/test/hold` (waits
/// at the gate when its input has `hold: true`, then returns its input).
@Suite(.timeLimit(.minutes(2))) struct ClientRealServerTests {
    static let logger = Logger(label: "nodal-client-real-server-tests") { _ in SwiftLogNoOpLogHandler() }

    static let echo: JSON = ["name": "echo", "steps": [["id": "s", "component": "/test/echo", "input": ["$input": "$"]]], "output": ["$step": "s"]]
    static let hold: JSON = ["name": "hold", "steps": [["id": "s", "component": "/test/hold", "input": ["$input": "$"]]], "output": ["$step": "s"]]
    static let asking: JSON = [
        "name": "ask",
        "steps": [
            ["id": "ask", "component": "/builtin/interrupt", "input": ["question": ["$input": "q"]]],
            ["id": "after", "component": "/test/echo", "input": ["answer": ["$step": "ask"]]],
        ],
        "output": ["$step": "after"],
    ]

    /// Serves a fresh run service on a free loopback port and hands `test` its URL and the gate.
    func withServer(token: String? = nil, _ test: @Sendable (_ url: String, _ gate: Gate) async throws -> Void) async throws {
        let gate = Gate()
        let engine = Engine()
        engine.register(route: "/test/echo") { input, _ in input }
        engine.register(route: "/test/hold") { input, _ in
            if input["hold"] == true { try await gate.pass() }
            return input
        }
        let service = try RunService(engine: engine, store: InMemoryRunStore())
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let application = try buildApplication(
            service: service, configuration: ServerConfiguration(port: 0, token: token), services: [service], logger: Self.logger
        ) { _, port in portSink.yield(port) }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], logger: Self.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw TestFailure("the server never listened") }
            do {
                try await test("http://127.0.0.1:\(port)", gate)
            } catch {
                // Let held steps go so the drain does not wait on them.
                gate.open()
                await group.triggerGracefulShutdown()
                throw error
            }
            gate.open()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func storeStartWaitRefreshAndResultsInBothOrders() async throws {
        try await withServer { url, gate in
            let client = NodalClient(baseURL: url)
            let flowID = try await client.storeFlow(Self.hold)
            #expect(try await client.flow(id: flowID)["name"] == "hold")
            // Item 0 holds while item 1 finishes: completion order is the reverse of index order.
            let run = try await client.startRun(flowID: flowID, inputs: [["n": 0, "hold": true], ["n": 1]], options: RunStartOptions(maxConcurrency: 2))
            #expect(run.status?.status == .running)
            #expect(run.status?.items.total == 2)
            await gate.waitUntilEntered(1)
            // Item 1 has no gate to wait at; poll until its result is in.
            var partial = try await run.refresh()
            while partial.items.completed < 1 { partial = try await run.refresh() }
            #expect(partial.status == .running)
            gate.open()
            let done = try await run.wait(interval: .milliseconds(20))
            #expect(done.status == .completed)
            #expect(done.items.completed == 2)
            #expect(try await run.refresh(waitingUpTo: .seconds(5)).status == .completed)
            let byIndex = try await run.results()
            #expect(byIndex.map(\.itemIndex) == [0, 1])
            #expect(byIndex.map(\.output) == [["n": 0, "hold": true], ["n": 1]])
            #expect(try await run.results(order: .byCompletion).map(\.itemIndex) == [1, 0])
            #expect(try await client.listRuns().map(\.runID) == [run.id])
        }
    }

    @Test func aWaitThatRunsOutCarriesTheStatusLastSeen() async throws {
        try await withServer { url, gate in
            let client = NodalClient(baseURL: url)
            let run = try await client.startRun(flowID: try await client.storeFlow(Self.hold), inputs: [["hold": true]])
            await gate.waitUntilEntered(1)
            let clock = TestClock()
            let waiting = Task { try await run.wait(interval: .seconds(1), timeout: .seconds(2), clock: clock) }
            // Two polls, each followed by a sleep on the test's clock; the third poll is past the deadline.
            for _ in 0..<2 {
                await clock.waitForSleepers(count: 1)
                clock.advance(by: .seconds(1))
            }
            let error = await #expect(throws: NodalClientError.self) { try await waiting.value }
            #expect(error?.kind == .timeout)
            #expect(error?.lastSummary?.status == .running)
            #expect(error?.lastSummary?.runID == run.id)
            #expect(error?.message.contains("still running after 2 s") == true)
        }
    }

    @Test func cancellingAHeldRunEndsItCancelled() async throws {
        try await withServer { url, gate in
            let client = NodalClient(baseURL: url)
            let run = try await client.startRun(flowID: try await client.storeFlow(Self.hold), inputs: [["hold": true]])
            await gate.waitUntilEntered(1)
            _ = try await run.cancel()
            let ended = try await run.wait(interval: .milliseconds(20))
            #expect(ended.status == .cancelled)
            var last: RunStatusEvent?
            for try await event in run.events() { last = event }
            #expect(last?.completedStatus == .cancelled)
            // Cancelling an ended run changes nothing (README: a no-op answered with its summary).
            let again = try await run.cancel()
            #expect(again.status == .cancelled)
            #expect(again.items.cancelled == 1)
        }
    }

    @Test func eventsGoOnFromLastEventIDAfterTheConnectionIsCut() async throws {
        try await withServer { url, _ in
            let whole = NodalClient(baseURL: url)
            let run = try await whole.startRun(flowID: try await whole.storeFlow(Self.echo), inputs: [1, 2], options: RunStartOptions(wait: true))
            #expect(run.status?.status == .completed)
            var expected: [RunStatusEvent] = []
            for try await event in run.events() { expected.append(event) }
            #expect(expected.count > 3)
            #expect(expected.map(\.sequence) == Array(1...UInt64(expected.count)))

            let transport = CuttingTransport(HTTPClientTransport(client: .shared, maxReplyBytes: 1 << 20), cuttingAfter: 2)
            let cut = NodalClient(baseURL: url, transport: transport)
            var events: [RunStatusEvent] = []
            for try await event in cut.run(id: run.id).events() { events.append(event) }
            #expect(events == expected)
            #expect(transport.streamRequests.map { $0.header("Last-Event-ID") } == [nil, "2"])
        }
    }

    @Test func aBatchOf200InputsComesBackInOrder() async throws {
        try await withServer { url, _ in
            let client = NodalClient(baseURL: url)
            let inputs: [JSON] = (0..<200).map { ["i": .int($0)] }
            let run = try await client.startRun(
                flowID: try await client.storeFlow(Self.echo), inputs: inputs, options: RunStartOptions(maxConcurrency: 16, wait: true, timeout: .seconds(60)))
            #expect(run.status?.status == .completed)
            #expect(run.status?.items.total == 200)
            #expect(run.status?.items.completed == 200)
            let results = try await run.results()
            #expect(results.map(\.itemIndex) == Array(0..<200))
            #expect(results.map(\.output) == inputs)
            #expect(Set(try await run.results(order: .byCompletion).map(\.itemIndex)) == Set(0..<200))
        }
    }

    @Test func anInterruptIsAnsweredWithResume() async throws {
        try await withServer { url, _ in
            let client = NodalClient(baseURL: url)
            let run = try await client.startRun(flowID: try await client.storeFlow(Self.asking), inputs: [["q": "ship it?"]], options: RunStartOptions(wait: true))
            #expect(run.status?.status == .paused)
            #expect(run.lastResults?.first?.json["pause"]?["value"] == ["question": "ship it?"])
            let wrong = await #expect(throws: NodalClientError.self) { try await run.resume(values: ["nope": 1]) }
            #expect(wrong?.kind == .server(status: 400))
            #expect(wrong?.body?["field"] == "values.nope")
            _ = try await run.resume(value: "yes")
            #expect(try await run.wait(interval: .milliseconds(20)).status == .completed)
            #expect(try await run.results().first?.output == ["answer": "yes"])
        }
    }

    @Test func serverRefusalsCarryTheirBody() async throws {
        try await withServer { url, _ in
            let client = NodalClient(baseURL: url)
            let missing = await #expect(throws: NodalClientError.self) { try await client.run(id: "no-such-run").refresh() }
            #expect(missing?.kind == .server(status: 404))
            #expect(missing?.body?["field"] == "runId")
            let noFlow = await #expect(throws: NodalClientError.self) { try await client.startRun(flowID: "sha256:" + String(repeating: "0", count: 64), inputs: [1]) }
            #expect(noFlow?.kind == .server(status: 404))
            #expect(noFlow?.body?["field"] == "flowId")
            let rejected = await #expect(throws: NodalClientError.self) {
                try await client.storeFlow(["steps": [["id": "s", "component": "/test/echo", "input": ["$step": "nowhere"]]], "output": ["$step": "s"]])
            }
            #expect(rejected?.kind == .flowRejected)
            #expect(rejected?.body?["stored"] == false)
        }
    }

    @Test func aTokenIsRequiredAndAccepted() async throws {
        try await withServer(token: "t0ken") { url, _ in
            let refused = await #expect(throws: NodalClientError.self) { try await NodalClient(baseURL: url).storeFlow(Self.echo) }
            #expect(refused?.kind == .server(status: 401))
            let wrong = await #expect(throws: NodalClientError.self) { try await NodalClient(baseURL: url, token: "other").storeFlow(Self.echo) }
            #expect(wrong?.kind == .server(status: 401))
            let client = NodalClient(baseURL: url, token: "t0ken")
            let run = try await client.startRun(flowID: try await client.storeFlow(Self.echo), inputs: [7], options: RunStartOptions(wait: true))
            #expect(run.status?.status == .completed)
            #expect(run.lastResults?.first?.output == 7)
        }
    }
}
