import NodalCore
import NodalJSON
import FoundationEssentials
import Synchronization

/// A service run the service holds in memory while it runs (and a while after): its items'
/// phases and results, its steps as events report them, its journal and its waiters. Every change
/// goes through the lock; the store is written by the service, through `writes`, in order.
final class LiveRun: Sendable {
    let id: String
    let flowID: String
    let flowName: String?
    let flow: Flow
    let createdAt: Date
    let parentRunID: String?
    let rootRunID: String
    let depth: Int
    let itemCount: Int
    let request: StoredRequest
    /// The request's overrides as the engine takes them.
    let overrides: [String: StepOverride]
    /// Raised by `cancel`: every item's run has it.
    let token = CancellationToken()
    let journal: EventJournal
    /// Store writes of this run, one after another in the order they were asked for.
    let writes = SerialWrites()
    private let state: Mutex<State>

    private struct Item {
        var phase: ItemPhase = .pending
        var outcome: ItemOutcome?
        /// Top-level steps by id as events report them, and the order they were first seen in.
        var live: [String: StepOutcome] = [:]
        var liveOrder: [String] = []
    }

    private struct State {
        var items: [Item]
        var counts: ItemCounts
        var completionOrder: [Int] = []
        var status: RunRecord.Status = .running
        var completedAt: Date?
        var cancelRequested = false
        /// Between `settle` and `publish`: the end (or pause) is being written.
        var settling = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    init(
        id: String, flowID: String, flow: Flow, createdAt: Date, parentRunID: String?, rootRunID: String?, depth: Int,
        request: StoredRequest, overrides: [String: StepOverride], journal: EventJournal
    ) {
        self.id = id
        self.flowID = flowID
        flowName = flow.name
        self.flow = flow
        self.createdAt = createdAt
        self.parentRunID = parentRunID
        self.rootRunID = rootRunID ?? id
        self.depth = depth
        itemCount = request.items.count
        self.request = request
        self.overrides = overrides
        self.journal = journal
        var counts = ItemCounts(total: request.items.count)
        counts.pending = request.items.count
        state = Mutex(State(items: Array(repeating: Item(), count: request.items.count), counts: counts))
    }

    // MARK: Reading

    var status: RunRecord.Status { state.withLock { $0.status } }
    var isCancelRequested: Bool { state.withLock { $0.cancelRequested } }

    var header: RunHeader {
        state.withLock { state in
            RunHeader(
                id: id, flowID: flowID, flowName: flowName, status: state.status, counts: state.counts, createdAt: createdAt,
                completedAt: state.completedAt, parentRunID: parentRunID, rootRunID: rootRunID, depth: depth)
        }
    }

    /// The run's record as the store should hold it: as it is now, or as it is about to be once
    /// `status` (and `completedAt`) are published.
    func record(lastSequence: UInt64?, status: RunRecord.Status? = nil, completedAt: Date? = nil) -> ServiceRunRecord {
        var request = request
        request.lastSequence = lastSequence
        return state.withLock { state in
            ServiceRunRecord(
                id: id, flowID: flowID, flowName: flowName, status: status ?? state.status, request: request.json, itemCount: itemCount,
                counts: state.counts.stored, createdAt: createdAt, completedAt: completedAt ?? state.completedAt, parentRunID: parentRunID,
                rootRunID: parentRunID == nil ? nil : rootRunID, depth: depth)
        }
    }

    var view: RunView {
        state.withLock { state in
            RunView(
                header: RunHeader(
                    id: id, flowID: flowID, flowName: flowName, status: state.status, counts: state.counts, createdAt: createdAt,
                    completedAt: state.completedAt, parentRunID: parentRunID, rootRunID: rootRunID, depth: depth),
                items: state.items.enumerated().map { index, item in
                    ItemView(index: index, phase: item.phase, outcome: item.outcome, liveSteps: item.liveOrder.compactMap { item.live[$0] })
                },
                completionOrder: state.completionOrder)
        }
    }

    /// Paused items and the key each waits for.
    var pausedItems: [(index: Int, key: String)] {
        state.withLock { state in
            state.items.indices.compactMap { index in
                guard state.items[index].phase == .paused, let key = state.items[index].outcome?.pause?.key else { return nil }
                return (index, key)
            }
        }
    }

    // MARK: Items

    /// Seeds an item from the store before the run goes on after a restart: a finished or paused
    /// item keeps its outcome; one that was going has its checkpoints as its steps.
    func restore(_ index: Int, phase: ItemPhase, outcome: ItemOutcome?, steps: [StepOutcome]) {
        state.withLock { state in
            guard state.items.indices.contains(index) else { return }
            state.counts.pending -= 1
            switch phase {
            case .finished:
                if let outcome { state.counts.add(outcome.status) }
                state.completionOrder.append(index)
            case .paused:
                state.counts.paused += 1
            case .pending, .running:
                state.counts.pending += 1
            }
            state.items[index].phase = phase == .running ? .pending : phase
            state.items[index].outcome = outcome
            for step in steps where state.items[index].live[step.id] == nil {
                state.items[index].liveOrder.append(step.id)
                state.items[index].live[step.id] = step
            }
        }
    }

    /// The item is about to run (or run again). False once the run was cancelled: it does not.
    func itemStarting(_ index: Int) -> Bool {
        state.withLock { state in
            guard !state.cancelRequested, state.items.indices.contains(index) else { return false }
            switch state.items[index].phase {
            case .pending: state.counts.pending -= 1
            case .paused: state.counts.paused -= 1
            case .running, .finished: return false
            }
            state.items[index].phase = .running
            state.counts.running += 1
            state.status = .running
            return true
        }
    }

    /// The item's run ended or paused. Finished items are counted and journaled; the caller then
    /// settles the run (`settle`).
    func itemEnded(_ index: Int, _ outcome: ItemOutcome) {
        let now = Date()
        let journaled = state.withLock { state -> Bool in
            guard state.items.indices.contains(index), state.items[index].phase == .running else { return false }
            state.counts.running -= 1
            state.items[index].outcome = outcome
            if outcome.status == .paused {
                state.items[index].phase = .paused
                state.counts.paused += 1
            } else {
                state.items[index].phase = .finished
                state.counts.add(outcome.status)
                state.completionOrder.append(index)
            }
            state.items[index].live = [:]
            state.items[index].liveOrder = []
            return true
        }
        guard journaled else { return }
        if outcome.status == .paused, let pause = outcome.pause {
            journal.append(name: "run_paused", data: StatusEvents.runPaused(runID: id, itemIndex: index, pause: pause, at: now))
        } else {
            journal.append(name: "item_completed", data: StatusEvents.itemCompleted(runID: id, itemIndex: index, outcome, at: now))
        }
    }

    /// Asks the run to stop: no item starts any more, items waiting for an answer and items not
    /// started end cancelled now, and items in flight end cancelled as their runs see the token.
    /// False when the run had already ended.
    @discardableResult
    func cancel() -> Bool {
        let now = Date()
        let ended = state.withLock { state -> [(Int, ItemOutcome)]? in
            guard state.completedAt == nil, !state.cancelRequested else { return state.completedAt == nil ? [] : nil }
            state.cancelRequested = true
            var ended: [(Int, ItemOutcome)] = []
            for index in state.items.indices where state.items[index].phase == .pending || state.items[index].phase == .paused {
                if state.items[index].phase == .paused { state.counts.paused -= 1 } else { state.counts.pending -= 1 }
                var outcome = ItemOutcome.notStarted(at: now)
                if state.items[index].phase == .paused {
                    outcome.error?.message = "the run was cancelled while this item waited for an answer"
                    outcome.steps = state.items[index].outcome?.steps ?? []
                }
                state.items[index].phase = .finished
                state.items[index].outcome = outcome
                state.counts.canceled += 1
                state.completionOrder.append(index)
                ended.append((index, outcome))
            }
            return ended
        }
        guard let ended else { return false }
        token.cancel()
        for (index, outcome) in ended {
            journal.append(name: "item_completed", data: StatusEvents.itemCompleted(runID: id, itemIndex: index, outcome, at: now))
        }
        return true
    }

    /// What the run comes to once no item runs and none waits to start: it ends (every item
    /// finished) or it pauses (some wait for an answer). Nil while items are still going, or when
    /// it already came to that. Nothing changes for readers until `publish`, which the service
    /// calls once the store has it, so a run reads as ended only when its end is durable.
    func settle() -> (status: RunRecord.Status, completedAt: Date?)? {
        let now = Date().roundedForStore
        return state.withLock { state -> (status: RunRecord.Status, completedAt: Date?)? in
            guard state.completedAt == nil, !state.settling, state.counts.running == 0, state.counts.pending == 0 else { return nil }
            let status: RunRecord.Status = state.counts.paused > 0 ? .paused : state.counts.finalStatus
            if status == .paused && state.status == .paused { return nil }
            state.settling = true
            return (status, status == .paused ? nil : now)
        }
    }

    /// Makes what `settle` came to the run's status. A pause is not published when an item was
    /// answered meanwhile (the run goes on).
    func publish(_ status: RunRecord.Status, completedAt: Date?) {
        state.withLock { state in
            state.settling = false
            if status == .paused && (state.counts.running > 0 || state.counts.pending > 0) { return }
            state.status = status
            state.completedAt = completedAt
        }
    }

    // MARK: Events

    /// Keeps what an item's event says about its steps, and journals it. Called on the engine's
    /// threads: quick, and under the lock only for the step's own entry.
    func record(_ event: RunEvent, item index: Int) {
        let top: (String) -> Int? = { [flow] step in
            flow.stepIndexes[String(step.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)[0])]
        }
        switch event.kind {
        case .stepStarted(let step, let attempt):
            guard let stepIndex = top(step) else { return }
            update(index, step) { $0.status = "running"; $0.attempts = attempt; if $0.startedAt == nil { $0.startedAt = event.time } }
            journal.append(name: "step_started", data: StatusEvents.stepStarted(
                runID: id, itemIndex: index, stepIndex: stepIndex, stepID: step, attempt: attempt, at: event.time))
        case .stepSucceeded(let step, _, let output, _):
            guard let stepIndex = top(step) else { return }
            update(index, step) { $0.status = "success"; $0.output = output; $0.endedAt = event.time }
            journal.append(name: "step_completed", data: StatusEvents.stepCompleted(
                runID: id, itemIndex: index, stepIndex: stepIndex, stepID: step, status: "success", output: output, error: nil,
                at: event.time))
        case .stepCached(let step):
            guard let stepIndex = top(step) else { return }
            update(index, step) { $0.status = "success"; $0.endedAt = event.time }
            journal.append(name: "step_completed", data: StatusEvents.stepCompleted(
                runID: id, itemIndex: index, stepIndex: stepIndex, stepID: step, status: "success", output: nil, error: nil,
                at: event.time))
        case .stepFailed(let step, let error):
            guard let stepIndex = top(step) else { return }
            update(index, step) { $0.status = "failed"; $0.errorCode = error.code; $0.errorMessage = error.message; $0.endedAt = event.time }
            journal.append(name: "step_completed", data: StatusEvents.stepCompleted(
                runID: id, itemIndex: index, stepIndex: stepIndex, stepID: step, status: "failed", output: nil,
                error: (error.code, error.message), at: event.time))
        case .stepCanceled(let step):
            guard let stepIndex = top(step) else { return }
            update(index, step) { $0.status = "canceled"; $0.endedAt = event.time }
            journal.append(name: "step_completed", data: StatusEvents.stepCompleted(
                runID: id, itemIndex: index, stepIndex: stepIndex, stepID: step, status: "canceled", output: nil,
                error: ("CANCELED", "the step was cancelled"), at: event.time))
        case .stepSkipped(let step, _):
            update(index, step) { $0.status = "skipped" }
        case .stepPaused(let step, _, _):
            update(index, step) { $0.status = "paused" }
        case .runStarted, .runSucceeded, .runFailed, .runCanceled, .runPaused, .stepRetried, .progress, .log:
            return
        }
    }

    /// Changes one top-level step's live entry (nested steps, `a.b`, are the outer step's business).
    private func update(_ index: Int, _ step: String, _ change: (inout StepOutcome) -> Void) {
        guard let position = flow.stepIndexes[step] else { return }
        state.withLock { state in
            guard state.items.indices.contains(index), state.items[index].phase == .running else { return }
            var entry = state.items[index].live[step]
                ?? StepOutcome(id: step, component: flow.steps[position].component, status: "pending")
            if state.items[index].live[step] == nil { state.items[index].liveOrder.append(step) }
            change(&entry)
            state.items[index].live[step] = entry
        }
    }

    // MARK: Waiting

    /// Returns once the run is no longer running (it ended or paused), or the task is cancelled.
    func waitUntilSettled() async {
        let key = state.withLock { state -> Int in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.status != .running || Task.isCancelled { return true }
                    state.waiters[key] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { $0.waiters.removeValue(forKey: key) }
            continuation?.resume()
        }
    }

    /// Wakes everyone waiting for the run to settle (it has, and the store has it too).
    func wakeWaiters() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.status != .running else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Async work done one after another, in the order it was asked for (a run's record writes: a
/// write that started later must not land first).
final class SerialWrites: Sendable {
    private let last = Mutex<Task<Void, Never>?>(nil)

    func run(_ body: @escaping @Sendable () async -> Void) async {
        let task = last.withLock { last -> Task<Void, Never> in
            let previous = last
            let task = Task {
                await previous?.value
                await body()
            }
            last = task
            return task
        }
        await task.value
    }
}
