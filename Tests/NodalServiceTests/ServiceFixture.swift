import Nodal
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalService

/// A door Swift nodes wait at until the test opens it: a step that is running for as long as the
/// test wants, without sleeping. A waiting node's task being cancelled (its run was) lets it out
/// with `CancellationError`.
final class Gate: Sendable {
    private struct State {
        var open = false
        var entered = 0
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var next = 0
    }
    private let state = Mutex(State())

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until the gate is open.
    func pass() async throws {
        let key = state.withLock { state in
            defer { state.next += 1 }
            return state.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (result, watchers) = state.withLock { state -> (Result<Void, any Error>?, [CheckedContinuation<Void, Never>]) in
                    state.entered += 1
                    let ready = state.watchers.filter { $0.count <= state.entered }.map(\.continuation)
                    state.watchers.removeAll { $0.count <= state.entered }
                    if Task.isCancelled { return (.failure(CancellationError()), ready) }
                    if state.open { return (.success(()), ready) }
                    state.waiters[key] = continuation
                    return (nil, ready)
                }
                for watcher in watchers { watcher.resume() }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Returns once `count` calls have come to the gate (open or not).
    func waitUntilEntered(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.entered >= count { return true }
                state.watchers.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }
}

/// How many times each key was seen, for steps that must not run again.
final class Tally: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func add(_ key: String) { counts.withLock { $0[key, default: 0] += 1 } }
    func count(_ key: String) -> Int { counts.withLock { $0[key] ?? 0 } }
}

/// An engine with test nodes, an in-memory store (or the one given) and a run service over them
/// whose waits are measured on a clock the test moves.
///
/// - `/test/echo`: its input. `/test/fail`: fails with code `BOOM` and details `{why: testing}`.
/// - `/test/hold`: waits at `gate` when its input has `hold: true`, then returns its input.
/// - `/test/count`: adds its input's `key` to `tally`, returns its input.
struct ServiceFixture {
    let engine: Engine
    let store: any RunStore
    let clock = TestClock()
    let gate: Gate
    let tally: Tally
    let service: RunService

    init(limits: ServiceLimits = .default, store: (any RunStore)? = nil, gate: Gate = Gate(), tally: Tally = Tally()) throws {
        engine = Self.engine(gate: gate, tally: tally)
        self.store = store ?? InMemoryRunStore()
        self.gate = gate
        self.tally = tally
        service = try RunService(engine: engine, store: self.store, limits: limits, clock: clock)
    }

    static func engine(gate: Gate, tally: Tally) -> Engine {
        let engine = Engine()
        engine.register(route: "/test/echo") { input, _ in input }
        engine.register(route: "/test/fail") { _, _ in
            throw StepError(code: "BOOM", message: "it broke", details: ["why": "testing"])
        }
        engine.register(route: "/test/hold") { input, _ in
            if input["hold"] == true { try await gate.pass() }
            return input
        }
        engine.register(route: "/test/count") { input, _ in
            tally.add(input["key"]?.stringValue ?? "")
            return input
        }
        return engine
    }

    /// A one-step flow over `component`, its output the step's.
    static func flow(_ component: String, name: String = "one-step") -> JSON {
        ["name": .string(name), "steps": [["id": "s", "component": .string(component), "input": ["$input": "$"]]], "output": ["$step": "s"]]
    }

    /// Stores `flow` and returns its id, checking it was stored.
    func store(_ flow: JSON) async throws -> String {
        let reply = try await service.storeFlow(["flow": flow])
        #expect(reply["stored"] == true, "\(reply)")
        return try #require(reply["flowId"]?.stringValue)
    }

    /// Starts a run of `flowID` over `items` and returns its id.
    func start(_ flowID: String, _ items: [JSON], extra: JSONObject = [:]) async throws -> String {
        var request: JSONObject = ["flowId": .string(flowID), "input": .array(items)]
        for (key, value) in extra { request[key] = value }
        let reply = try await service.createRun(.object(request))
        return try #require(reply["summary"]?["runId"]?.stringValue)
    }

    /// Waits (on the service's own terms) for the run to end or pause and returns `GET /runs/{id}`.
    func waitFor(_ runID: String) async throws -> JSON {
        try await service.run(id: runID, wait: true, timeout: nil)
    }

    /// Reads the run's events until one named `name` has been seen `count` times.
    func events(_ runID: String, until name: String, count: Int = 1, _ subscription: EventSubscription = EventSubscription()) async throws -> [ServiceEvent] {
        var seen: [ServiceEvent] = []
        var matched = 0
        for await event in try await service.events(runID: runID, subscription) {
            seen.append(event)
            if event.name == name {
                matched += 1
                if matched == count { break }
            }
        }
        return seen
    }
}

/// The error a call threw, as a `ServiceError` (a test fails when it threw none, or another).
func refusal(_ body: () async throws -> JSON) async -> ServiceError? {
    do {
        let reply = try await body()
        Issue.record("expected a refusal, got \(reply)")
        return nil
    } catch let error as ServiceError {
        return error
    } catch {
        Issue.record("expected a ServiceError, got \(error)")
        return nil
    }
}
