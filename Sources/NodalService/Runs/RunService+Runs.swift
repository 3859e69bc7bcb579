import NodalCore
public import NodalJSON
import FoundationEssentials
import Synchronization

/// `POST /runs`, `GET /runs/{id}`, `GET /runs`, `DELETE /runs/{id}`, `POST /runs/{id}/cancel`.
extension RunService {
    static let createRunKeys = ["flowId", "input", "overrides", "variables", "maxConcurrency", "wait", "timeoutSecs"]

    public func createRun(_ request: JSON) async throws(ServiceError) -> JSON {
        let object = try RequestFields.object(request, known: Self.createRunKeys, what: "request")
        let wait = try RequestFields.flag(object, "wait") ?? false
        let timeout = try RequestFields.timeout(object, maximum: limits.maxWait)
        let plan = try await prepareRun(object, itemsKey: "input")
        let run = try await begin(plan)
        guard wait else { return ["summary": RunShapes.summary(run.header)] }
        return try await settledReply(runID: run.id, within: timeout ?? limits.defaultWait)
    }

    /// Waits for the run to settle (or `timeout`), then answers its summary, with its items'
    /// results once it is no longer running: what a `wait: true` request gets.
    func settledReply(runID: String, within timeout: Duration) async throws(ServiceError) -> JSON {
        await settled(runID: runID, within: timeout)
        let view = try await view(of: try await findRun(runID))
        var reply: JSONObject = ["summary": RunShapes.summary(view.header)]
        if view.header.status != .running { reply["results"] = RunShapes.items(view, byCompletion: false) }
        return .object(reply)
    }

    public func run(id: String, wait: Bool, timeout: Duration?) async throws(ServiceError) -> JSON {
        if let timeout { _ = try RequestFields.waitDuration(RequestFields.seconds(timeout), "timeoutSecs", maximum: limits.maxWait) }
        if wait { await settled(runID: id, within: timeout ?? limits.defaultWait) }
        let view = try await view(of: try await findRun(id))
        let flow = try? await runFlowValue(view.header)
        return ["summary": RunShapes.summary(view.header), "steps": RunShapes.steps(view, itemIndex: nil, flow: flow)]
    }

    public func listRuns(_ query: RunQuery) async throws(ServiceError) -> JSON {
        var filter = ServiceRunFilter(flowName: query.flowName, parentRunID: query.parentRunID, rootRunID: query.rootRunID)
        if let status = query.status, status != "EXECUTION_STATUS_UNSPECIFIED" {
            if status == "EXECUTION_STATUS_RECOVERY_FAILED" { return ["runs": []] }
            guard let known = WireNames.status(fromExecutionStatus: status) else {
                throw .invalidField("status", "'status' must be one of EXECUTION_STATUS_RUNNING, _COMPLETED, _FAILED, _CANCELLED, _PAUSED, not \"\(RequestFields.shown(status))\"")
            }
            filter.status = known
        }
        filter.rootsOnly = query.rootsOnly ?? false
        if let depth = query.maxDepth {
            guard depth >= 0 else { throw .invalidField("maxDepth", "'maxDepth' must be 0 or more, not \(depth)") }
            filter.maxDepth = depth
        }
        if let limit = query.limit {
            guard (1...1000).contains(limit) else { throw .invalidField("limit", "'limit' must be from 1 to 1000, not \(limit)") }
            filter.limit = limit
        }
        if let offset = query.offset {
            guard offset >= 0 else { throw .invalidField("offset", "'offset' must be 0 or more, not \(offset)") }
            filter.offset = offset
        }
        // A summary needs no inputs: leave them in the store.
        filter.includeRequest = false
        let records: [ServiceRunRecord]
        do {
            records = try await store.listServiceRuns(filter)
        } catch {
            throw Self.storeFailed("list runs", error)
        }
        // A run in memory has fresher counts than its record.
        return ["runs": .array(records.map { RunShapes.summary(liveRun($0.id)?.header ?? RunHeader($0)) })]
    }

    public func deleteRun(id: String) async throws(ServiceError) -> JSON {
        let found = try await findRun(id)
        if queue != nil, case .stored(let record) = found {
            switch record.status {
            case .running:
                throw ServiceError(status: 409, code: "RUN_ACTIVE", "run \(id) is still running; cancel it first (POST /runs/\(id)/cancel)", field: "runId")
            case .paused:
                _ = try await cancelQueued(record)
            case .success, .failed, .canceled:
                break
            }
        }
        if case .live(let run) = found {
            switch run.status {
            case .running:
                throw ServiceError(status: 409, code: "RUN_ACTIVE", "run \(id) is still running; cancel it first (POST /runs/\(id)/cancel)", field: "runId")
            case .paused:
                // A paused run holds nothing but its answer's place: deleting it cancels it.
                run.cancel()
                await settle(run)
            case .success, .failed, .canceled:
                break
            }
        }
        // Its sub-runs go with it (they are part of it: their results are its steps' outputs);
        // one a plugin left going is canceled first.
        for child in try await descendants(of: id) {
            if let run = liveRun(child), run.status == .running || run.status == .paused {
                if run.cancel() { await settle(run) }
                await settled(run, within: limits.drainTimeout)
            }
            do {
                try await store.deleteServiceRun(id: child)
            } catch {
                throw Self.storeFailed("delete sub-run \(child) of run \(id)", error)
            }
            forget(child)
        }
        do {
            try await store.deleteServiceRun(id: id)
        } catch {
            throw Self.storeFailed("delete run \(id)", error)
        }
        forget(id)
        return [:]
    }

    /// Every run under `id` (children, their children, ...), deepest last.
    func descendants(of id: String) async throws(ServiceError) -> [String] {
        var found: [String] = []
        var parents = [id]
        while let parent = parents.popLast() {
            var offset = 0
            while true {
                let page: [ServiceRunRecord]
                do {
                    page = try await store.listServiceRuns(ServiceRunFilter(parentRunID: parent, limit: 1000, offset: offset, includeRequest: false))
                } catch {
                    throw Self.storeFailed("list the sub-runs of run \(parent)", error)
                }
                found += page.map(\.id)
                parents += page.map(\.id)
                guard page.count == 1000 else { break }
                offset += page.count
            }
        }
        return found
    }

    public func cancelRun(id: String) async throws(ServiceError) -> JSON {
        let found = try await findRun(id)
        if queue != nil, case .stored(let record) = found, record.status == .running || record.status == .paused {
            return try await cancelQueued(record)
        }
        guard case .live(let run) = found else {
            // Ended: nothing to cancel.
            return ["summary": RunShapes.summary(try await view(of: found).header)]
        }
        if run.cancel() {
            // Not-started and paused items ended at once; items in flight end as their runs see
            // the token (a blocking call past its grace period is abandoned), so this is short.
            await settle(run)
            await settled(run, within: limits.drainTimeout)
        }
        return ["summary": RunShapes.summary(run.header)]
    }

    // MARK: Waiting

    /// `settled(_:within:)` for a run by id. While the service is still recovering, a run it will
    /// recover is only a stored record yet: wait for recovery first, within the same timeout.
    func settled(runID: String, within timeout: Duration) async {
        if let run = liveRun(runID) { return await settled(run, within: timeout) }
        if queue != nil { return await settledQueued(runID, within: timeout) }
        // Recovery over: the record is all there is. Before it (the server may take requests
        // while `run()` is still recovering), a run the store has as running is one it will pick up.
        guard !recoveryFinished.isSignalled, (try? await store.serviceRun(id: runID))?.status == .running else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                await recoveryFinished.wait()
                if let run = liveRun(runID), !Task.isCancelled { await run.waitUntilSettled() }
            }
            group.addTask { [clock] in try? await clock.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns once the run ended or paused, or `timeout` passed on the service's clock.
    func settled(_ run: LiveRun, within timeout: Duration) async {
        guard run.status == .running else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await run.waitUntilSettled() }
            group.addTask { [clock] in try? await clock.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    // MARK: Finding runs

    enum FoundRun {
        case live(LiveRun)
        case stored(ServiceRunRecord)
    }

    /// The run in memory, else in the store; 404 `RUN_NOT_FOUND` when neither has it.
    func findRun(_ id: String) async throws(ServiceError) -> FoundRun {
        if let run = liveRun(id) { return .live(run) }
        let record: ServiceRunRecord?
        do {
            record = try await store.serviceRun(id: id)
        } catch {
            throw Self.storeFailed("read run \(RequestFields.shown(id))", error)
        }
        guard let record else {
            throw .notFound("RUN_NOT_FOUND", "no run with id \"\(RequestFields.shown(id))\"", field: "runId")
        }
        return .stored(record)
    }

    /// The flow a run ran, for step indexes; nil when its blob is gone.
    func runFlowValue(_ header: RunHeader) async throws(ServiceError) -> Flow {
        if let run = liveRun(header.id) { return run.flow }
        return try await loadFlow(header.flowID, field: "flowId").flow
    }
}
