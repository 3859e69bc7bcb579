import AsyncHTTPClient
import Hummingbird
import Logging
@testable import NodalClient
import NodalJSON
import NodalServer
import NodalService
import ServiceLifecycle
import Synchronization
import Testing

/// A run service of fixed answers, with a journal of events it replays after `after`: what the
/// client sends, as the real router parses it, and the router's framing of what comes back.
final class JournalRunAPI: RunAPI, Sendable {
    let journal: [ServiceEvent]
    private let subscriptions = Mutex<[EventSubscription]>([])
    private let seen = Mutex<[(String, JSON)]>([])

    init(journal: [ServiceEvent]) { self.journal = journal }

    var subscriptionsSeen: [EventSubscription] { subscriptions.withLock { $0 } }
    var calls: [(String, JSON)] { seen.withLock { $0 } }

    private func record(_ method: String, _ arguments: JSON) { seen.withLock { $0.append((method, arguments)) } }

    static func summary(_ id: String, _ status: String) -> JSON {
        ["runId": .string(id), "flowId": "f1", "flowName": "demo", "status": .string(status), "items": ["total": 2, "completed": 2], "createdAt": "2025-01-15T10:30:00Z"]
    }

    func storeFlow(_ request: JSON) async throws(ServiceError) -> JSON {
        record("storeFlow", request)
        return ["flowId": "f1", "stored": true, "diagnostics": ["diagnostics": [], "numFatal": 0]]
    }
    func flow(id: String) async throws(ServiceError) -> JSON { ["flowId": .string(id), "flow": ["steps": []]] }
    func deleteFlow(id: String) async throws(ServiceError) -> JSON { [:] }
    func flowVariables(id: String) async throws(ServiceError) -> JSON { [:] }
    func createRun(_ request: JSON) async throws(ServiceError) -> JSON {
        record("createRun", request)
        return ["summary": Self.summary("r1", "EXECUTION_STATUS_RUNNING")]
    }
    func run(id: String, wait: Bool, timeout: Duration?) async throws(ServiceError) -> JSON {
        record("run", ["wait": .bool(wait), "timeout": timeout.map { .int(Int($0.components.seconds)) } ?? .null])
        guard id == "r1" else { throw .notFound("RUN_NOT_FOUND", "no run '\(id)'", field: "runId") }
        return ["summary": Self.summary("r1", "EXECUTION_STATUS_COMPLETED"), "steps": []]
    }
    func listRuns(_ query: RunQuery) async throws(ServiceError) -> JSON {
        record("listRuns", ["status": query.status.map { .string($0) } ?? .null, "limit": query.limit.map { .int($0) } ?? .null])
        return ["runs": [Self.summary("r1", "EXECUTION_STATUS_COMPLETED")]]
    }
    func deleteRun(id: String) async throws(ServiceError) -> JSON { [:] }
    func cancelRun(id: String) async throws(ServiceError) -> JSON {
        throw ServiceError(status: 409, code: "RUN_ENDED", "run '\(id)' already ended")
    }
    func resumeRun(id: String, _ request: JSON) async throws(ServiceError) -> JSON {
        record("resumeRun", request)
        return ["summary": Self.summary(id, "EXECUTION_STATUS_RUNNING")]
    }
    func items(runID: String, order: String?) async throws(ServiceError) -> JSON {
        record("items", ["order": order.map { .string($0) } ?? .null])
        let results: [JSON] = [
            ["itemIndex": 0, "status": "EXECUTION_STATUS_COMPLETED", "output": "a", "completedAt": "2025-01-15T10:30:02Z"],
            ["itemIndex": 1, "status": "EXECUTION_STATUS_COMPLETED", "output": "b", "completedAt": "2025-01-15T10:30:01Z"],
        ]
        return ["results": .array(order == "RESULT_ORDER_BY_COMPLETION" ? results.reversed() : results)]
    }
    func steps(runID: String, itemIndex: Int?) async throws(ServiceError) -> JSON { ["steps": []] }
    func step(runID: String, stepID: String, itemIndex: Int?) async throws(ServiceError) -> JSON { [:] }
    func runFlow(runID: String) async throws(ServiceError) -> JSON { [:] }
    func events(runID: String, _ subscription: EventSubscription) async throws(ServiceError) -> AsyncStream<ServiceEvent> {
        subscriptions.withLock { $0.append(subscription) }
        let (stream, continuation) = AsyncStream.makeStream(of: ServiceEvent.self)
        for event in journal where event.sequence > (subscription.after ?? 0) { continuation.yield(event) }
        continuation.finish()
        return stream
    }
    func putBlob(_ request: JSON) async throws(ServiceError) -> JSON { ["blobId": "b1"] }
    func blob(id: String) async throws(ServiceError) -> JSON { ["blobId": .string(id), "blobType": "data", "jsonData": ["answer": 42]] }
    func components(excludeSchemas: Bool) async throws(ServiceError) -> JSON { ["components": []] }
    func health() async -> JSON { ["status": "healthy"] }
    func submit(_ params: JSON) async throws(ServiceError) -> JSON { [:] }
    func status(_ params: JSON) async throws(ServiceError) -> JSON { [:] }
}

/// Lets the first event stream through for `events` events, then breaks it, as a dropped
/// connection would; every later stream passes whole. Records the streams' requests.
final class CuttingTransport: ClientTransport {
    let inner: any ClientTransport
    let events: Int
    private let requests = Mutex<[TransportRequest]>([])

    init(_ inner: any ClientTransport, cuttingAfter events: Int) {
        self.inner = inner
        self.events = events
    }

    var streamRequests: [TransportRequest] { requests.withLock { $0 } }

    func send(_ request: TransportRequest) async throws -> TransportResponse { try await inner.send(request) }

    func stream(_ request: TransportRequest) async throws -> TransportStream {
        let first = requests.withLock { requests in
            requests.append(request)
            return requests.count == 1
        }
        let response = try await inner.stream(request)
        guard first else { return response }
        let limit = events
        let (chunks, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        let task = Task {
            var parser = ServerSentEventParser()
            var passed = 0
            do {
                for try await chunk in response.chunks {
                    // Byte by byte, so the cut falls right after the last event let through.
                    for byte in chunk {
                        continuation.yield([byte])
                        passed += try parser.feed([byte]).count
                        if passed == limit { throw TestFailure("connection cut after \(limit) events") }
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return TransportStream(status: response.status, chunks: chunks)
    }
}

/// The client against the real router (`buildApplication`) on a loopback socket, over a run
/// service of fixed answers: the wire between them, without an engine.
@Suite(.timeLimit(.minutes(1))) struct ClientWireTests {
    static let logger = Logger(label: "nodal-client-tests") { _ in SwiftLogNoOpLogHandler() }
    static let journal: [ServiceEvent] = (1...5).map { sequence in
        let name = ["run_created", "step_started", "step_completed", "item_completed", "run_completed"][sequence - 1]
        var data: JSONObject = ["sequenceNumber": .string(String(sequence)), "timestamp": "2025-01-15T10:30:00Z"]
        data[RunStatusEvent.camelCase(name)] = ["runId": "r1", "stepId": "s", "status": "EXECUTION_STATUS_COMPLETED"]
        return ServiceEvent(sequence: UInt64(sequence), name: name, data: .object(data))
    }

    /// Runs the server over `service` on a free loopback port and hands `test` its URL.
    func withServer(_ service: any RunAPI, token: String? = nil, _ test: @Sendable (String) async throws -> Void) async throws {
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let application = try buildApplication(service: service, configuration: ServerConfiguration(port: 0, token: token), logger: Self.logger) { _, port in
            portSink.yield(port)
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], logger: Self.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw TestFailure("the server never listened") }
            do {
                try await test("http://127.0.0.1:\(port)")
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func aCutStreamGoesOnFromItsLastEventWithLastEventID() async throws {
        let service = JournalRunAPI(journal: Self.journal)
        try await withServer(service) { url in
            let transport = CuttingTransport(HTTPClientTransport(client: .shared, maxReplyBytes: 1 << 20), cuttingAfter: 2)
            let client = NodalClient(baseURL: url, transport: transport)
            var events: [RunStatusEvent] = []
            for try await event in client.run(id: "r1").events() { events.append(event) }
            #expect(events.map(\.sequence) == [1, 2, 3, 4, 5])
            #expect(events.map(\.name) == Self.journal.map(\.name))
            #expect(events.last?.completedStatus == .completed)
            #expect(transport.streamRequests.map { $0.header("Last-Event-ID") } == [nil, "2"])
            #expect(service.subscriptionsSeen.map(\.after) == [nil, 2])
        }
    }

    @Test func startRefreshResultsAndErrorsCrossTheWireAsTheSpecSaysThem() async throws {
        let service = JournalRunAPI(journal: Self.journal)
        try await withServer(service) { url in
            let client = NodalClient(baseURL: url)
            #expect(try await client.storeFlow(["steps": [], "output": 1]) == "f1")
            let run = try await client.startRun(
                flowID: "f1", inputs: [1, 2], options: RunStartOptions(variables: ["v": 1], maxConcurrency: 2, wait: true, timeout: .seconds(7)))
            #expect(run.status?.status == .running)
            let created = try #require(service.calls.first { $0.0 == "createRun" }?.1)
            #expect(created == ["flowId": "f1", "input": [1, 2], "variables": ["v": 1], "maxConcurrency": 2, "wait": true, "timeoutSecs": 7])
            #expect(try await run.refresh(waitingUpTo: .seconds(3)).status == .completed)
            #expect(service.calls.last { $0.0 == "run" }?.1 == ["wait": true, "timeout": 3])
            #expect(try await run.results().map(\.itemIndex) == [0, 1])
            #expect(try await run.results(order: .byCompletion).map(\.itemIndex) == [1, 0])
            #expect(service.calls.filter { $0.0 == "items" }.map(\.1) == [["order": nil], ["order": "RESULT_ORDER_BY_COMPLETION"]])
            #expect(try await client.listRuns(RunListQuery(status: .completed, limit: 3)).map(\.runID) == ["r1"])
            #expect(service.calls.last { $0.0 == "listRuns" }?.1 == ["status": "EXECUTION_STATUS_COMPLETED", "limit": 3])
            _ = try await run.resume(value: ["approved": true])
            #expect(service.calls.last { $0.0 == "resumeRun" }?.1 == ["value": ["approved": true]])
            #expect(try await client.blob(id: "x").content == .json(["answer": 42]))

            let missing = await #expect(throws: NodalClientError.self) { try await client.run(id: "nope").refresh() }
            #expect(missing?.kind == .server(status: 404))
            #expect(missing?.body?["error"] == "RUN_NOT_FOUND")
            #expect(missing?.body?["field"] == "runId")
            let ended = await #expect(throws: NodalClientError.self) { try await run.cancel() }
            #expect(ended?.kind == .server(status: 409))
            #expect(ended?.message.contains("RUN_ENDED: run 'r1' already ended") == true)
        }
    }

    @Test func theTokenIsSentAndAMissingOneIsRefused() async throws {
        try await withServer(JournalRunAPI(journal: []), token: "s3cret") { url in
            let refused = await #expect(throws: NodalClientError.self) { try await NodalClient(baseURL: url).run(id: "r1").refresh() }
            #expect(refused?.kind == .server(status: 401))
            let allowed = try await NodalClient(baseURL: url, token: "s3cret").run(id: "r1").refresh()
            #expect(allowed.status == .completed)
            let health = try await NodalClient(baseURL: url).health()
            #expect(health["status"] == "healthy")
        }
    }
}
