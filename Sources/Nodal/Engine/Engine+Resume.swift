import Synchronization

/// Why a run could not be resumed (not a step failure: those come back in the `RunResult`).
public struct ResumeError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        case notFound, noFlowFile, flowChanged, alreadySucceeded, flow
        /// The run is paused and no value was given for the key it waits for.
        case valueNeeded
        /// A value was given for a key the paused run does not wait for.
        case wrongKey
        /// A value was given, but the run is not paused.
        case notPaused
    }
    public var kind: Kind
    public var message: String
    public var description: String { message }
}

extension Engine {
    /// Goes on with a run recorded in `store`: steps whose checkpoint says they succeeded keep
    /// their output and are not run again; the rest run as if the run had not stopped. Works for
    /// runs that failed, were canceled, or whose process was killed, and for paused runs.
    ///
    /// A paused run needs the answer to the interrupt it waits for, in `values` under the key
    /// of its pause record (`RunResult.pause.key`, e.g. `review.decision`); the interrupted
    /// step is called again and gets that value. Any other key is refused (`wrongKey`).
    ///
    /// The flow is read again from the file the run was started from. If that file changed since
    /// (its SHA-256, sub-flows included, differs), the resume is refused unless
    /// `allowChangedFlow` is set. With no `store`, the run must have paused in this engine
    /// without a store: it was kept in memory, flow and all.
    public func resume(
        runID: String, store: (any RunStore)? = nil, values: [String: JSON] = [:], options: RunOptions = RunOptions(),
        allowChangedFlow: Bool = false
    ) async throws -> RunResult {
        let store = store ?? memoryStore
        guard let record = try await store.run(id: runID) else {
            throw ResumeError(kind: .notFound, message: "no run '\(runID)' in the store")
        }
        if record.status == RunStatus.success.rawValue {
            throw ResumeError(kind: .alreadySucceeded, message: "run '\(runID)' already succeeded; there is nothing to resume")
        }
        let flow = try pausedFlows.withLock({ $0[runID] }) ?? flowToResume(record)
        if let recorded = record.flowHash, recorded != flow.sourceHash, !allowChangedFlow {
            throw ResumeError(kind: .flowChanged, message: "the flow \(record.flowPath ?? "") changed since run '\(runID)' started; resuming could mix two versions of it (allow it explicitly to go on anyway)")
        }
        try await checkAnswers(values, runID: runID, status: record.status, store: store)
        let checkpoints = try await store.checkpoints(runID: runID)
        var options = options
        options.runID = runID
        options.store = store
        let components: [ResolvedComponent]
        do {
            components = try resolve(flow)
        } catch {
            return RunResult.invalid(flow: flow, input: record.input, options: options, error: error)
        }
        let run = FlowRun(flow: flow, components: components, pool: pool, input: record.input, options: options, seed: checkpoints, resuming: true, resumeValues: values)
        let result = await run.execute()
        if result.status != .paused { pausedFlows.withLock { _ = $0.removeValue(forKey: runID) } }
        return result
    }

    private func flowToResume(_ record: RunRecord) throws -> Flow {
        guard let path = record.flowPath else {
            throw ResumeError(kind: .noFlowFile, message: "run '\(record.id)' was not started from a flow file, so it cannot be read again to resume")
        }
        do { return try Flow(contentsOfFile: path) } catch {
            throw ResumeError(kind: .flow, message: "cannot resume run '\(record.id)': \(error)")
        }
    }

    /// A paused run takes exactly the answer it waits for; a run that is not paused takes none.
    /// The pause record is removed once the answer is accepted (the answered step's checkpoint
    /// keeps the value from then on).
    private func checkAnswers(_ values: [String: JSON], runID: String, status: String, store: any RunStore) async throws {
        guard status == RunStatus.paused.rawValue, let pause = try await store.pauses(runID: runID).first else {
            if let key = values.keys.sorted().first {
                throw ResumeError(kind: .notPaused, message: "run '\(runID)' is not paused (its status is \(status)), so there is nothing to answer with a value for '\(key)'")
            }
            return
        }
        guard !values.isEmpty else {
            throw ResumeError(kind: .valueNeeded, message: "run '\(runID)' is paused at step '\(pause.stepID)', waiting for a value for '\(pause.resumeKey)'; it was shown: \(pause.value.shortDescription())")
        }
        for key in values.keys.sorted() where key != pause.resumeKey {
            throw ResumeError(kind: .wrongKey, message: "run '\(runID)' waits for a value for '\(pause.resumeKey)' (step '\(pause.stepID)'), not for '\(key)'")
        }
        try await store.deletePause(runID: runID, resumeKey: pause.resumeKey)
    }

    /// A run that paused without a store is kept in the engine's memory, so `resume(runID:)`
    /// can go on with it in this process.
    func keepPausedRun(_ flow: Flow, _ result: RunResult) async {
        pausedFlows.withLock { $0[result.runID] = flow }
        let store: any RunStore = memoryStore
        do {
            try await store.putRun(RunRecord(
                id: result.runID, flowName: flow.name ?? flow.file.map(FileSystem.baseName) ?? "flow",
                flowPath: flow.file, flowHash: flow.sourceHash, input: result.input, status: result.status.rawValue,
                createdAt: result.startedAt))
            try await store.updateRun(id: result.runID, status: result.status.rawValue, result: result.json, updatedAt: result.endedAt)
            func checkpoint(_ steps: [StepResult], prefix: String) async throws {
                for step in steps {
                    if step.status == .success {
                        try await store.putCheckpoint(StepCheckpoint(
                            runID: result.runID, stepID: prefix + step.id, status: StepStatus.success.rawValue,
                            input: step.input, output: step.output, error: nil, attempts: step.attempts,
                            startedAt: step.startedAt, endedAt: step.endedAt))
                    } else if let inner = step.steps {
                        try await checkpoint(inner, prefix: prefix + step.id + ".")
                    }
                }
            }
            try await checkpoint(result.steps, prefix: "")
            if let pause = result.pause {
                try await store.putPause(PauseRecord(runID: result.runID, resumeKey: pause.key, stepID: pause.step, value: pause.value, createdAt: result.endedAt))
            }
        } catch {
            // The in-memory store fails only once closed, which the engine never does.
            assertionFailure("keeping paused run \(result.runID): \(error)")
        }
    }
}
