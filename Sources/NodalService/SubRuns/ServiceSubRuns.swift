import NodalCore
import NodalJSON
import Synchronization
import FoundationEssentials

/// The runs plugins submit from steps of service runs, made service runs themselves: listed under
/// their parent (`GET /runs?parentRunId=`), read with `runs/get` and the REST routes, recovered
/// like any other. The service installs this as its engine's `SubRunHost`.
final class ServiceSubRuns: SubRunHost {
    private struct Slot { weak var service: RunService? }
    private let slot = Mutex(Slot())

    /// The service, held weakly: the engine holds this, and the service holds the engine.
    var service: RunService? {
        get { slot.withLock { $0.service } }
        set { slot.withLock { $0.service = newValue } }
    }

    func submitRun(_ request: JSON, caller: CallerRun) async throws(ExtensionError) -> (runID: String, wait: Bool) {
        guard let service else { throw ExtensionError("SHUTTING_DOWN", "submit: the run service is shutting down and takes no new runs") }
        return try await service.submitSubRun(request, caller: caller)
    }

    func waitForRun(id: String, caller: CallerRun) async {
        guard let service else { return }
        if let run = service.reachableLiveRun(id, from: caller) { return await run.waitUntilSettled() }
        // A queued sub-run: until it settles, or the calling step is cancelled.
        guard service.queue != nil, await service.subRunStatus(id, caller: caller, includeResults: false, byCompletion: false) != nil else {
            return
        }
        while !Task.isCancelled, !service.isShuttingDown, (try? await service.store.serviceRun(id: id))?.status == .running {
            await service.settled(runID: id, within: .seconds(3600))
        }
    }

    func runStatus(id: String, caller: CallerRun, includeResults: Bool, order: ResultOrder) async -> JSON? {
        await service?.subRunStatus(id, caller: caller, includeResults: includeResults, byCompletion: order == .byCompletion)
    }

    func cancelRun(id: String, caller: CallerRun) async -> Bool {
        if let service, service.queue != nil, service.reachableLiveRun(id, from: caller) == nil {
            guard await service.subRunStatus(id, caller: caller, includeResults: false, byCompletion: false) != nil else { return false }
            _ = try? await service.queue?.cancelQueuedRun(id: id, now: Date().roundedForStore)
            return true
        }
        guard let service, let run = service.reachableLiveRun(id, from: caller) else {
            // An ended run under the caller's root: cancelling it does nothing, and it exists.
            return await service?.subRunStatus(id, caller: caller, includeResults: false, byCompletion: false) != nil
        }
        if run.cancel() { await service.settle(run) }
        return true
    }
}

extension RunService {
    /// Where a calling step's run sits among service runs: an item of a service run (`<id>-<n>`)
    /// belongs to that run, its root and its depth; any other run is its own root.
    func scope(of caller: CallerRun) -> (parentRunID: String, rootRunID: String, depth: Int) {
        if let dash = caller.runID.lastIndex(of: "-"), let index = Int(caller.runID[caller.runID.index(after: dash)...]),
           let run = liveRun(String(caller.runID[..<dash])) ?? heldRun(String(caller.runID[..<dash])), (0..<run.itemCount).contains(index) {
            return (run.id, run.rootRunID, run.depth)
        }
        return (caller.runID, caller.rootRunID, caller.depth)
    }

    /// The run with this id, if it is in memory and under the caller's root.
    func reachableLiveRun(_ id: String, from caller: CallerRun) -> LiveRun? {
        guard let run = liveRun(id), run.rootRunID == scope(of: caller).rootRunID else { return nil }
        return run
    }

    /// `runs/get` for a plugin: nil for a run it cannot reach, as for one that does not exist.
    func subRunStatus(_ id: String, caller: CallerRun, includeResults: Bool, byCompletion: Bool) async -> JSON? {
        guard let found = try? await findRun(id), let view = try? await view(of: found) else { return nil }
        guard view.header.rootRunID == scope(of: caller).rootRunID else { return nil }
        return RunShapes.rpcStatus(view, includeResults: includeResults, byCompletion: byCompletion)
    }

    /// `runs.submit` from a step: a service run under the step's run, its flow from the service's
    /// store, its items taken as they are (no input resolution: a plugin sends the flow's input).
    func submitSubRun(_ request: JSON, caller: CallerRun) async throws(ExtensionError) -> (runID: String, wait: Bool) {
        let submit = try SubmitRequest(request)
        let parent = scope(of: caller)
        guard parent.depth < maxSubRunDepth else {
            throw ExtensionError("SUBRUNS_TOO_DEEP", "submit: run \(parent.parentRunID) is \(parent.depth) sub-runs deep, and sub-runs nest at most \(maxSubRunDepth) deep (does a flow submit itself?)")
        }
        guard submit.inputs.count <= limits.maxItemsPerRun else {
            throw ExtensionError("TOO_MANY_ITEMS", "submit: 'inputs' has \(submit.inputs.count) items; a run takes at most \(limits.maxItemsPerRun)")
        }
        guard !submit.inputs.isEmpty else { throw ExtensionError.invalidRequest("submit", "'inputs' must hold at least one item") }
        let flow: Flow
        do {
            flow = try await loadFlow(submit.flowID, field: "flowId").flow
        } catch {
            throw ExtensionError(error.status == 404 ? "BLOB_NOT_FOUND" : "INVALID_FLOW", "submit: \(error.message)")
        }
        let overrides = try submit.stepOverrides(for: flow)
        let plan = RunPlan(
            flowID: submit.flowID, flow: flow,
            request: StoredRequest(
                items: submit.inputs.map { ResolvedItem(input: $0) }, overrides: submit.overrides, variables: submit.variables,
                maxConcurrency: submit.maxConcurrency ?? max(1, submit.inputs.count)),
            overrides: overrides, parentRunID: parent.parentRunID, rootRunID: parent.rootRunID, depth: parent.depth + 1)
        let run: StartedRun
        do {
            run = try await begin(plan)
        } catch {
            throw ExtensionError(error.code, "submit: \(error.message)")
        }
        let header = run.header
        liveRun(parent.parentRunID)?.journal.append(
            name: "sub_run_created",
            data: StatusEvents.subRunCreated(
                runID: run.id, parentRunID: parent.parentRunID, flowID: header.flowID, itemCount: header.counts.total, at: header.createdAt))
        return (run.id, submit.wait)
    }
}
