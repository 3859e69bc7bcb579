import NodalCore
import NodalJSON
import FoundationEssentials
import Logging

/// Starting runs and running their items: each item is one engine run with its own id
/// (`<runId>-<index>`), record and checkpoints in the service's store, at most `maxConcurrency`
/// of a run's items at once in a sliding window.
extension RunService {
    /// A run ready to start: its flow and everything the request said, checked.
    struct RunPlan: Sendable {
        var flowID: String
        var flow: Flow
        var request: StoredRequest
        var overrides: [String: StepOverride]
        var parentRunID: String? = nil
        var rootRunID: String? = nil
        var depth = 0
    }

    /// Checks a `POST /runs` (or `runs/submit`) request field by field and resolves its items
    /// (`RunInputs`), the flow's errors and the items' named by their place (`input[2].Document`).
    func prepareRun(_ object: JSONObject, itemsKey: String) async throws(ServiceError) -> RunPlan {
        let flowReference = try RequestFields.flowID(object)
        let bodies = try RequestFields.items(object, itemsKey, limit: limits.maxItemsPerRun)
        let rawOverrides = try RequestFields.overrides(object)
        let variables = try RequestFields.stringMap(object, "variables")
        let maxConcurrency = try RequestFields.count(object, "maxConcurrency", minimum: 1) ?? limits.maxConcurrentItems
        try refuseIfShuttingDown()
        let (flowID, flow) = try await loadFlow(flowReference, field: "flowId")
        let overrides = try Self.overrides(rawOverrides, for: flow)
        var items: [ResolvedItem] = []
        items.reserveCapacity(bodies.count)
        for (index, body) in bodies.enumerated() {
            items.append(try await RunInputs.resolve(body, flow: flow, grants: grants, store: store, field: "\(itemsKey)[\(index)]"))
        }
        return RunPlan(
            flowID: flowID, flow: flow,
            request: StoredRequest(items: items, overrides: rawOverrides, variables: variables, maxConcurrency: maxConcurrency),
            overrides: overrides)
    }

    static func overrides(_ raw: [(step: String, value: JSON)], for flow: Flow) throws(ServiceError) -> [String: StepOverride] {
        do {
            return try StepOverrideRequest.parse(raw, for: flow)
        } catch {
            throw .invalidField(error.field, error.message)
        }
    }

    /// Records the run (status running, with everything needed to run it again) and starts its
    /// items. 503 while shutting down or when `maxLiveRuns` runs are running.
    func start(_ plan: RunPlan) async throws(ServiceError) -> LiveRun {
        try refuseIfShuttingDown()
        guard liveCount < limits.maxLiveRuns else {
            throw ServiceError(status: 503, code: "TOO_MANY_RUNS", "\(limits.maxLiveRuns) runs are running or paused already, the most this server keeps at once; retry once some ended")
        }
        let run = newRun(plan)
        do {
            try await store.putServiceRun(run.record(lastSequence: nil))
        } catch {
            throw Self.storeFailed("record the new run", error)
        }
        add(run)
        run.journal.append(name: "run_created", data: StatusEvents.runCreated(runID: run.id, flowID: run.flowID, itemCount: run.itemCount, at: run.createdAt))
        launch(run, resuming: [])
        return run
    }

    /// A new run of `plan`, with a fresh id and an empty journal.
    func newRun(_ plan: RunPlan) -> LiveRun {
        LiveRun(
            id: UUID().uuidString.lowercased(), flowID: plan.flowID, flow: plan.flow, createdAt: Date().roundedForStore,
            parentRunID: plan.parentRunID, rootRunID: plan.rootRunID, depth: plan.depth, request: plan.request,
            overrides: plan.overrides, journal: EventJournal(capacity: limits.journalEventsPerRun, bufferLimit: limits.eventStreamBuffer))
    }

    /// Runs the run's pending items in the background; `resuming` are items a previous process
    /// started, which go on from their checkpoints.
    func launch(_ run: LiveRun, resuming: Set<Int>) {
        track { [self] in await execute(run, resuming: resuming) }
    }

    /// The sliding window: at most `maxConcurrency` items at once, the next starting as one ends,
    /// none once the run is cancelled or the service drains.
    private func execute(_ run: LiveRun, resuming: Set<Int>) async {
        var queue = run.view.items.filter { $0.phase == .pending }.map(\.index)[...]
        let window = max(1, run.request.maxConcurrency)
        await withTaskGroup(of: Void.self) { group in
            var active = 0
            func startNext() -> Bool {
                while let index = queue.popFirst() {
                    guard !draining.isCancelled, run.itemStarting(index) else {
                        queue = []
                        return false
                    }
                    let resume = resuming.contains(index)
                    group.addTask { [self] in await runItem(run, index, resume: resume) }
                    return true
                }
                return false
            }
            while active < window, startNext() { active += 1 }
            while active > 0 {
                await group.next()
                active -= 1
                if startNext() { active += 1 }
            }
        }
        await settle(run)
    }

    /// The options of one item's run: its id, the service's store, the run's token and events.
    func itemOptions(_ run: LiveRun, _ index: Int) -> RunOptions {
        RunOptions(
            runID: "\(run.id)-\(index)", variables: run.request.variables, cancellation: run.token,
            onEvent: { [run] event in run.record(event, item: index) }, stepOverrides: run.overrides, store: store,
            // At shutdown an item starts no new step; the ones running finish and checkpoint.
            drain: draining)
    }

    /// Runs one item (or goes on with it from its checkpoints, answering `values` when it waits
    /// for them), then records how it ended and settles the run.
    func runItem(_ run: LiveRun, _ index: Int, resume: Bool, values: [String: JSON] = [:]) async {
        guard let outcome = await itemOutcome(run, index, resume: resume, values: values, options: itemOptions(run, index)) else { return }
        run.itemEnded(index, outcome)
        await settle(run)
    }

    /// How one item's run (or its going on from checkpoints) ended; nil when the drain at shutdown
    /// (`options.drain`) stopped it rather than a cancel: the item is not over, and the next start
    /// (or worker) goes on with it from its checkpoints.
    func itemOutcome(_ run: LiveRun, _ index: Int, resume: Bool, values: [String: JSON], options: RunOptions) async -> ItemOutcome? {
        var outcome: ItemOutcome
        do {
            // The item's own step inputs (`STEP_ID::FIELD`), on every run and resume of it: its
            // record's flow hash covers them.
            let flow = try run.flow.withStepInputs(run.request.items[index].stepInputs)
            if resume {
                outcome = await resumeItem(run, index, flow: flow, values: values, options: options)
            } else {
                outcome = ItemOutcome(await engine.run(flow, input: run.request.items[index].input, options: options))
            }
        } catch {
            outcome = .failed(code: "INVALID_INPUT", message: "item \(index)'s step inputs cannot be set: \(error)", at: Date())
        }
        if outcome.status == .canceled, options.drain?.isCancelled == true, !run.isCancelRequested { return nil }
        if outcome.status == .canceled, outcome.error == nil {
            outcome.error = ItemOutcome.ItemError(code: "CANCELED", message: "the run was cancelled")
        }
        return outcome
    }

    /// `Engine.resume` for an item a previous process started, or one waiting for `values`, with
    /// the item's flow as read from its blob (a service run has no flow file to read again).
    private func resumeItem(_ run: LiveRun, _ index: Int, flow: Flow, values: [String: JSON], options: RunOptions) async -> ItemOutcome {
        let itemRunID = "\(run.id)-\(index)"
        do {
            return ItemOutcome(try await engine.resume(runID: itemRunID, store: store, values: values, options: options, flow: flow))
        } catch let error as ResumeError {
            switch error.kind {
            case .alreadySucceeded:
                // It ended before the previous process could write the run's record.
                if let record = try? await store.run(id: itemRunID), let result = record.result, let outcome = ItemOutcome(json: result) {
                    return outcome
                }
            case .owned:
                // Another engine's lease still holds it (a worker that died moments ago): a
                // worker gives the item back and takes it again once that lease expired.
                return .failed(code: "RUN_OWNED", message: error.message, at: Date())
            case .notFound where values.isEmpty:
                // Never recorded: it had not really started.
                return ItemOutcome(await engine.run(flow, input: run.request.items[index].input, options: options))
            default:
                break
            }
            return .failed(code: "RESUME_FAILED", message: error.message, at: Date())
        } catch {
            return .failed(code: "STORE_ERROR", message: "could not go on with item \(index): \(error)", at: Date())
        }
    }

    /// Once no item runs and none waits to start: records how the run ended (or that it paused),
    /// then shows it to readers, journals it and wakes the waiters. Does nothing before that, or
    /// when it was done already.
    func settle(_ run: LiveRun) async {
        guard let (status, completedAt) = run.settle() else { return }
        // Nothing else is journaled for a run that settled: its `run_completed` comes next.
        let last = run.journal.events.last?.sequence ?? (run.journal.firstSequence - 1)
        let record = run.record(lastSequence: status == .paused ? last : last &+ 1, status: status, completedAt: completedAt)
        await run.writes.run { [store, engine] in
            do {
                try await store.putServiceRun(record)
            } catch {
                // The record stays as it was: the next start goes on with the run, keeping the
                // items that ended.
                engine.logger.error("run service: could not record that run \(record.id) is \(status.rawValue): \(error)")
            }
        }
        if status != .paused { ended(run) }
        run.publish(status, completedAt: completedAt)
        if status != .paused {
            run.journal.append(name: "run_completed", data: StatusEvents.runCompleted(runID: run.id, status: status, at: completedAt ?? Date()))
            run.journal.finish()
        }
        run.wakeWaiters()
    }
}
