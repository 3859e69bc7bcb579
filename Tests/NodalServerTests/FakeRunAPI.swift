import NodalJSON
import NodalService
import Synchronization

/// A run service that records each call with its arguments and answers
/// `{"called": METHOD, "with": ARGUMENTS}`, or the error set for the method: enough to check what
/// the HTTP layer parsed and how it answers, without an engine.
///
/// `events` hands out streams the test drives: `script` is yielded at once; the stream ends then
/// unless `keepStreamsOpen`, in which case `finishStreams()` ends it. `terminatedStreams` counts
/// streams whose consumer went away or that ended, so a test can see a subscription stop.
final class FakeRunAPI: RunAPI, Sendable {
    struct Call: Sendable, Equatable {
        var method: String
        var arguments: JSON
    }

    private struct State {
        var calls: [Call] = []
        var failures: [String: ServiceError] = [:]
        var script: [ServiceEvent] = []
        var keepStreamsOpen = false
        var continuations: [AsyncStream<ServiceEvent>.Continuation] = []
        var terminated = 0
        var terminationWaiters: [(Int, CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    init(script: [ServiceEvent] = [], keepStreamsOpen: Bool = false) {
        state.withLock {
            $0.script = script
            $0.keepStreamsOpen = keepStreamsOpen
        }
    }

    var calls: [Call] { state.withLock { $0.calls } }
    var lastCall: Call? { calls.last }
    var terminatedStreams: Int { state.withLock { $0.terminated } }

    func fail(_ method: String, with error: ServiceError) { state.withLock { $0.failures[method] = error } }

    func yield(_ event: ServiceEvent) {
        for continuation in state.withLock({ $0.continuations }) { continuation.yield(event) }
    }

    func finishStreams() {
        for continuation in state.withLock({ $0.continuations }) { continuation.finish() }
    }

    /// Returns once `count` streams have terminated (consumer gone or finished).
    func waitForTerminatedStreams(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.terminated >= count { return true }
                state.terminationWaiters.append((count, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func answer(_ method: String, _ arguments: JSON) throws(ServiceError) -> JSON {
        let failure = state.withLock { state -> ServiceError? in
            state.calls.append(Call(method: method, arguments: arguments))
            return state.failures[method]
        }
        if let failure { throw failure }
        return ["called": .string(method), "with": arguments]
    }

    private static func optional(_ value: Int?) -> JSON { value.map { .int($0) } ?? .null }
    private static func optional(_ value: String?) -> JSON { value.map { .string($0) } ?? .null }
    private static func optional(_ value: Bool?) -> JSON { value.map { .bool($0) } ?? .null }

    func storeFlow(_ request: JSON) async throws(ServiceError) -> JSON { try answer("storeFlow", request) }
    func flow(id: String) async throws(ServiceError) -> JSON { try answer("flow", ["id": .string(id)]) }
    func deleteFlow(id: String) async throws(ServiceError) -> JSON { try answer("deleteFlow", ["id": .string(id)]) }
    func flowVariables(id: String) async throws(ServiceError) -> JSON { try answer("flowVariables", ["id": .string(id)]) }
    func createRun(_ request: JSON) async throws(ServiceError) -> JSON { try answer("createRun", request) }

    func run(id: String, wait: Bool, timeout: Duration?) async throws(ServiceError) -> JSON {
        try answer("run", ["id": .string(id), "wait": .bool(wait), "timeoutSeconds": Self.optional(timeout.map { Int($0.components.seconds) })])
    }

    func listRuns(_ query: RunQuery) async throws(ServiceError) -> JSON {
        try answer("listRuns", [
            "status": Self.optional(query.status), "flowName": Self.optional(query.flowName),
            "rootRunID": Self.optional(query.rootRunID), "parentRunID": Self.optional(query.parentRunID),
            "rootsOnly": Self.optional(query.rootsOnly), "maxDepth": Self.optional(query.maxDepth),
            "limit": Self.optional(query.limit), "offset": Self.optional(query.offset),
        ])
    }

    func deleteRun(id: String) async throws(ServiceError) -> JSON { try answer("deleteRun", ["id": .string(id)]) }
    func cancelRun(id: String) async throws(ServiceError) -> JSON { try answer("cancelRun", ["id": .string(id)]) }
    func resumeRun(id: String, _ request: JSON) async throws(ServiceError) -> JSON { try answer("resumeRun", ["id": .string(id), "body": request]) }
    func items(runID: String, order: String?) async throws(ServiceError) -> JSON { try answer("items", ["runID": .string(runID), "order": Self.optional(order)]) }
    func steps(runID: String, itemIndex: Int?) async throws(ServiceError) -> JSON { try answer("steps", ["runID": .string(runID), "itemIndex": Self.optional(itemIndex)]) }

    func step(runID: String, stepID: String, itemIndex: Int?) async throws(ServiceError) -> JSON {
        try answer("step", ["runID": .string(runID), "stepID": .string(stepID), "itemIndex": Self.optional(itemIndex)])
    }

    func runFlow(runID: String) async throws(ServiceError) -> JSON { try answer("runFlow", ["runID": .string(runID)]) }

    func events(runID: String, _ subscription: EventSubscription) async throws(ServiceError) -> AsyncStream<ServiceEvent> {
        _ = try answer("events", [
            "runID": .string(runID), "after": subscription.after.map { .int(Int(truncatingIfNeeded: $0)) } ?? .null,
            "types": .array(subscription.types.sorted().map { .string($0) }),
            "includeSubRuns": .bool(subscription.includeSubRuns), "includeResults": .bool(subscription.includeResults),
        ])
        let (stream, continuation) = AsyncStream.makeStream(of: ServiceEvent.self)
        continuation.onTermination = { [weak self] _ in self?.streamTerminated() }
        let (script, keepOpen) = state.withLock { state in
            state.continuations.append(continuation)
            return (state.script, state.keepStreamsOpen)
        }
        for event in script { continuation.yield(event) }
        if !keepOpen { continuation.finish() }
        return stream
    }

    private func streamTerminated() {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.terminated += 1
            let count = state.terminated
            let ready = state.terminationWaiters.filter { $0.0 <= count }.map(\.1)
            state.terminationWaiters.removeAll { $0.0 <= count }
            return ready
        }
        for waiter in ready { waiter.resume() }
    }

    func putBlob(_ request: JSON) async throws(ServiceError) -> JSON { try answer("putBlob", request) }

    /// Answers a binary blob for id `binary`, a JSON blob otherwise.
    func blob(id: String) async throws(ServiceError) -> JSON {
        _ = try answer("blob", ["id": .string(id)])
        if id == "binary" {
            return ["blobId": "binary", "blobType": "binary", "rawData": "aGVsbG8=", "contentType": "text/plain", "filename": "hello.txt"]
        }
        return ["blobId": .string(id), "blobType": "data", "jsonData": ["answer": 42]]
    }

    func components(excludeSchemas: Bool) async throws(ServiceError) -> JSON { try answer("components", ["excludeSchemas": .bool(excludeSchemas)]) }

    func health() async -> JSON {
        state.withLock { $0.calls.append(Call(method: "health", arguments: [:])) }
        return ["status": "healthy"]
    }

    func submit(_ params: JSON) async throws(ServiceError) -> JSON { try answer("submit", params) }
    func status(_ params: JSON) async throws(ServiceError) -> JSON { try answer("status", params) }
}
