import NodalJSON
import FoundationEssentials

/// One run a plugin submitted through the runs extension: a flow over a list of inputs, one item
/// each, tracked as its items start and finish, so that `get` reads live counts, each finished
/// item's result and when it finished.
///
/// The items run as a batch (`Engine.runItems`) in a task of their own; the batch's token has
/// `cancellation` as its parent, so `cancel()` reaches every item, and the run is tied to the
/// run of the step that submitted it (`tie(to:)`), so cancelling that run cancels this one.
final class SubRun: Sendable {
    let id: String
    /// The flow's blob id, as 64 lowercase hex digits.
    let flowID: String
    let flowName: String?
    /// The run of the step that submitted this one, and the root of that chain.
    let parentRunID: String
    let rootRunID: String
    let createdAt: Date
    let total: Int
    /// Raised by `cancel()`; every item's token has it as an ancestor.
    let cancellation = CancellationToken()
    private let state: ConditionLock<State>

    private struct State {
        /// Items handed to the batch so far (finished ones included).
        var started = 0
        var items: [Item?]
        /// Indexes of finished items, in the order they finished.
        var completionOrder: [Int] = []
        var succeeded = 0
        var failed = 0
        var canceled = 0
        var completedAt: Date?
        var task: Task<Void, Never>?
        var cancelRequested = false
        /// The handler on the parent run's token, taken off when this run ends.
        var parentHandler: (token: CancellationToken, key: Int)?
    }

    /// A finished item: its `result` object as the status reply shows it.
    private struct Item {
        var result: JSON
        var completedAt: Date
    }

    init(id: String, flowID: String, flowName: String?, parentRunID: String, rootRunID: String, total: Int, createdAt: Date = Date()) {
        self.id = id
        self.flowID = flowID
        self.flowName = flowName
        self.parentRunID = parentRunID
        self.rootRunID = rootRunID
        self.total = total
        self.createdAt = createdAt
        state = ConditionLock(State(items: Array(repeating: nil, count: total)))
    }

    // MARK: Lifetime

    /// Keeps the task running the items, so `cancel()` can stop it (at once, if a cancel came first).
    func attach(_ task: Task<Void, Never>) {
        let canceled = state.withLock { state -> Bool in
            state.task = task
            return state.cancelRequested
        }
        if canceled { task.cancel() }
    }

    /// Cancels this run when `parent` (the submitting run's token) is cancelled, until it ends.
    func tie(to parent: CancellationToken) {
        let key = parent.onCancel { [self] in cancel() }
        let ended = state.withLock { state -> Bool in
            guard state.completedAt == nil else { return true }
            state.parentHandler = (parent, key)
            return false
        }
        if ended { parent.removeHandler(key) }
    }

    /// Stops the items in flight (they end cancelled) and starts no more. Does nothing once the
    /// run ended.
    func cancel() {
        let task = state.withLock { state -> Task<Void, Never>? in
            guard state.completedAt == nil else { return nil }
            state.cancelRequested = true
            return state.task
        }
        // Not under the lock: cancelling runs handlers that may come back here.
        cancellation.cancel()
        // Through the task, the batch's own token is raised, and with it the items' runs.
        task?.cancel()
    }

    // MARK: Items

    /// The batch took the next item and is starting it.
    func itemStarted() {
        state.withLock { $0.started += 1 }
    }

    /// An item's run ended.
    func itemFinished(_ index: Int, _ result: RunResult) {
        record(index, Self.itemResult(result), status: result.status, at: result.endedAt)
    }

    /// The batch is over: items it never started (it was cancelled first) end cancelled now.
    func finish(at now: Date = Date()) {
        let parent = state.withLock { state -> (token: CancellationToken, key: Int)? in
            for index in state.items.indices where state.items[index] == nil {
                state.items[index] = Item(
                    result: ["outcome": "cancelled", "error": ["code": "CANCELED", "message": "the run was cancelled before this item started"]],
                    completedAt: now)
                state.completionOrder.append(index)
                state.canceled += 1
            }
            state.completedAt = now
            state.task = nil
            defer { state.parentHandler = nil }
            return state.parentHandler
        }
        if let parent { parent.token.removeHandler(parent.key) }
        state.broadcast()
    }

    private func record(_ index: Int, _ result: JSON, status: RunStatus, at time: Date) {
        state.withLock { state in
            guard state.items.indices.contains(index), state.items[index] == nil else { return }
            state.items[index] = Item(result: result, completedAt: time)
            state.completionOrder.append(index)
            switch status {
            case .success: state.succeeded += 1
            case .canceled: state.canceled += 1
            case .failed, .paused: state.failed += 1
            }
        }
    }

    /// Stepflow's item result: `{outcome: success, value}` or `{outcome: failed, error: {code,
    /// message}}`; an item that was cancelled is `{outcome: cancelled, error}`.
    private static func itemResult(_ result: RunResult) -> JSON {
        func error(_ fallback: String) -> JSON {
            ["code": .string(result.error?.code ?? fallback), "message": .string(result.error?.message ?? "")]
        }
        switch result.status {
        case .success: return ["outcome": "success", "value": result.output ?? .null]
        case .canceled: return ["outcome": "cancelled", "error": error("CANCELED")]
        case .failed, .paused: return ["outcome": "failed", "error": error("FAILED")]
        }
    }

    // MARK: Reading

    var isFinished: Bool { state.withLock { $0.completedAt != nil } }

    /// Parks the calling thread until the run ended or one of `tokens` is cancelled.
    @available(*, noasync, message: "parks the calling thread")
    func wait(orUntilCancelled tokens: [CancellationToken]) {
        // A cancel wakes the wait: it takes the lock (so a waiter that has not parked yet sees the
        // token raised when it checks) and wakes every waiter.
        let keys = tokens.map { token in
            token.onCancel { [self] in
                state.withLock { _ in }
                state.broadcast()
            }
        }
        defer { for (token, key) in zip(tokens, keys) { token.removeHandler(key) } }
        state.withLock(whenReady: { state in state.completedAt != nil || tokens.contains { $0.isCancelled } }) { _ in }
    }

    /// The run status the runs extension replies with (include/nodal.h, "Runs").
    func status(includeResults: Bool, order: ResultOrder) -> JSON {
        state.withLock { state in
            let finished = state.succeeded + state.failed + state.canceled
            let status: String
            if state.completedAt != nil {
                status = state.canceled > 0 ? "cancelled" : state.failed > 0 ? "failed" : "success"
            } else {
                status = state.started == 0 && finished == 0 ? "pending" : "running"
            }
            var object: JSONObject = [
                "runId": .string(id),
                "flowId": .string(flowID),
            ]
            if let flowName { object["flowName"] = .string(flowName) }
            object["status"] = .string(status)
            object["items"] = [
                "total": .int(total),
                "pending": .int(max(0, total - max(state.started, finished))),
                "running": .int(max(0, state.started - finished)),
                "success": .int(state.succeeded),
                "failed": .int(state.failed),
                "cancelled": .int(state.canceled),
            ]
            object["createdAt"] = .string(createdAt.nodalTimestamp)
            if let completedAt = state.completedAt { object["completedAt"] = .string(completedAt.nodalTimestamp) }
            object["parentRunId"] = .string(parentRunID)
            object["rootRunId"] = .string(rootRunID)
            if includeResults {
                let indexes = order == .byCompletion ? state.completionOrder : state.items.indices.filter { state.items[$0] != nil }
                object["results"] = .array(indexes.map { index in
                    let item = state.items[index]!
                    return ["itemIndex": .int(index), "result": item.result, "completedAt": .string(item.completedAt.nodalTimestamp)]
                })
            }
            return .object(object)
        }
    }
}
