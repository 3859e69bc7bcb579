public import NodalJSON
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
        /// Another resume took the paused run's answer first.
        case alreadyResumed
        /// Another process runs the run now (it holds the run's lease); the message names it and
        /// when its lease expires.
        case owned
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
    /// step is called again and gets that value. Any other key is refused (`wrongKey`), and of
    /// two resumes racing to answer the same pause, one wins and the other gets `alreadyResumed`.
    /// Steps that failed under `onError: continue` before the pause stay failed.
    ///
    /// The flow is `flow` when given: a caller that keeps its flows elsewhere than in files (the
    /// run service keeps them as blobs) passes the one the run was started with. Otherwise it is
    /// the one the run paused with when it paused in this engine, or else it is read again from the
    /// file the run was started from. If the flow's hash (`Flow.sourceHash`, sub-flows included)
    /// differs from the one recorded when the run started, the resume is refused unless
    /// `allowChangedFlow` is set. A flow built from a document (`Flow(document:)`) has no hash and
    /// a run started with one records none, so resuming it with any flow is not checked: a caller
    /// that gives `flow` vouches that it is the run's (a content-addressed blob cannot differ).
    /// With no `store`, the run must have paused in this engine without a store: it was kept in
    /// memory.
    public func resume(
        runID: String, store: (any RunStore)? = nil, values: [String: JSON] = [:], options: RunOptions = RunOptions(),
        allowChangedFlow: Bool = false, flow: Flow? = nil
    ) async throws -> RunResult {
        let keptInMemory = store == nil
        guard let store = (store ?? memoryStore) as? any RunStorage else {
            throw ResumeError(kind: .notFound, message: "the store (\(type(of: store!))) is not one of Nodal's stores, so it holds no checkpoints to resume run '\(runID)' from")
        }
        guard let record = try await store.run(id: runID) else {
            throw ResumeError(kind: .notFound, message: "no run '\(runID)' in the store")
        }
        if record.status == .success {
            throw ResumeError(kind: .alreadySucceeded, message: "run '\(runID)' already succeeded; there is nothing to resume")
        }
        let given = flow
        let flow = try given ?? pausedFlows.withLock({ $0[runID] }) ?? flowToResume(record)
        if let recorded = record.flowHash, recorded != flow.sourceHash, !allowChangedFlow {
            if given != nil {
                throw ResumeError(kind: .flowChanged, message: "the flow given to resume run '\(runID)' is not the one it started with (its hash, sub-flows included, differs); resuming could mix two versions of it (allow it explicitly to go on anyway)")
            }
            throw ResumeError(kind: .flowChanged, message: "the flow \(record.flowPath ?? "") or a sub-flow it includes changed since run '\(runID)' started; resuming could mix two versions of it (allow it explicitly to go on anyway)")
        }
        let pause = try await pauseToAnswer(values, record: record, store: store)
        var options = withExtensions(options)
        options.runID = runID
        options.store = store
        // A resumed sub-run item stays in its chain: its own sub-runs get the same root.
        options.parentRunID = record.parentRunID
        options.rootRunID = record.rootRunID
        let components: [ResolvedComponent]
        do {
            components = try resolve(flow)
        } catch {
            // Nothing was taken: a paused run stays paused, its answer still open.
            return RunResult.invalid(flow: flow, input: record.input, options: options, error: error)
        }
        if let pause, !flow.hasStep(atPath: pause.resumeKey) {
            throw ResumeError(kind: .wrongKey, message: "run '\(runID)' waits for a value for '\(pause.resumeKey)', but the flow has no step '\(pause.resumeKey)' any more (it changed since the run paused)")
        }
        // One owner at a time: a second resume, or a resume of a run still going, stops here. A
        // store-less run lives in this engine's memory only, so no other process can hold it, and
        // taking its pause record (below) is what keeps two resumes here from both answering it.
        var ownership: RunOwnership?
        if !keptInMemory {
            switch await RunOwnership.claim(
                runID: runID, store: store, owner: leaseOwner, duration: leaseDuration, clock: clock, caller: options.cancellation)
            {
            case .owned(let owned): ownership = owned
            case .heldBy(let holder):
                throw ResumeError(kind: .owned, message: "run '\(runID)' is being run by another process: \(holder.holderDescription); resume it once that process is gone or its lease expired")
            case .failed(let error):
                throw error
            }
        }
        if let ownership {
            options.cancellation = ownership.token
            options.ownership = ownership
        }
        var result: RunResult
        do {
            // Read again as the owner: the previous owner may have finished it meanwhile.
            if try await store.run(id: runID)?.status == .success {
                throw ResumeError(kind: .alreadySucceeded, message: "run '\(runID)' already succeeded; there is nothing to resume")
            }
            if let pause {
                // Taking the pause record is the claim on the answer: only one resume can remove it.
                guard try await store.deletePause(runID: runID, resumeKey: pause.resumeKey) else {
                    throw ResumeError(kind: .alreadyResumed, message: "run '\(runID)' was answered by another resume first")
                }
            }
            let checkpoints = try await store.checkpoints(runID: runID)
            let run = FlowRun(
                flow: flow, components: components, pool: pool, clock: clock, input: record.input, options: options, seed: checkpoints,
                resuming: true, continuesPausedRun: pause != nil, resumeValues: values)
            result = await run.execute()
        } catch {
            await ownership?.release()
            throw error
        }
        await ownership?.release()
        if let ownership { result = ownership.lostLeaseResult(result) }
        if result.status != .paused {
            pausedFlows.withLock { _ = $0.removeValue(forKey: runID) }
            // A store-less run is kept only while it is paused.
            if keptInMemory { _ = try? memoryStore.deleteRun(id: runID) }
        }
        return result
    }

    private func flowToResume(_ record: RunRecord) throws -> Flow {
        guard let path = record.flowPath else {
            throw ResumeError(kind: .noFlowFile, message: "run '\(record.id)' was not started from a flow file, so it cannot be read again to resume (a flow built in code can be resumed only by the engine it paused in)")
        }
        do { return try Flow(contentsOfFile: path, configuration: configuration) } catch {
            throw ResumeError(kind: .flow, message: "cannot resume run '\(record.id)': \(error)")
        }
    }

    /// A paused run takes exactly the answer it waits for; a run that is not paused takes none.
    private func pauseToAnswer(_ values: [String: JSON], record: RunRecord, store: any RunStorage) async throws -> PauseRecord? {
        let runID = record.id
        guard record.status == .paused, let pause = try await store.pauses(runID: runID).first else {
            if let key = values.keys.sorted().first {
                throw ResumeError(kind: .notPaused, message: "run '\(runID)' is not paused (its status is \(record.status.rawValue)), so there is nothing to answer with a value for '\(key)'")
            }
            return nil
        }
        guard !values.isEmpty else {
            throw ResumeError(kind: .valueNeeded, message: "run '\(runID)' is paused at step '\(pause.stepID)', waiting for a value for '\(pause.resumeKey)'; it was shown: \(pause.value.shortDescription())")
        }
        for key in values.keys.sorted() where key != pause.resumeKey {
            throw ResumeError(kind: .wrongKey, message: "run '\(runID)' waits for a value for '\(pause.resumeKey)' (step '\(pause.stepID)'), not for '\(key)'")
        }
        return pause
    }

    /// Keeps a paused run's flow, so this engine can resume it even when the flow was built in
    /// code. With `inMemory` (the run had no store) the run itself is kept too, in the engine's
    /// memory store: a run there with the same id is replaced.
    func keepPausedRun(_ flow: Flow, _ result: RunResult, inMemory: Bool) async {
        pausedFlows.withLock { $0[result.runID] = flow }
        guard inMemory else { return }
        let store: any RunStorage = memoryStore
        do {
            try await store.deleteRun(id: result.runID)
            try await store.putRun(RunRecord(
                id: result.runID, flowName: flow.name ?? flow.file.map(FileSystem.baseName) ?? "flow",
                flowPath: flow.file, flowHash: flow.sourceHash, input: result.input, status: RunRecord.Status(result.status),
                createdAt: result.startedAt))
            try await store.updateRun(id: result.runID, status: RunRecord.Status(result.status), result: result.json, updatedAt: result.endedAt)
            // What a store would hold: a checkpoint for every step that finished, inner ones too.
            func checkpoint(_ steps: [StepResult], prefix: String) async throws {
                for step in steps {
                    if step.status == .success || step.status == .failed {
                        try await store.putCheckpoint(StepCheckpoint(
                            runID: result.runID, stepID: prefix + step.id, status: step.status.rawValue,
                            input: step.input, output: step.output, error: step.error?.json, attempts: step.attempts,
                            startedAt: step.startedAt, endedAt: step.endedAt))
                    }
                    if let inner = step.steps { try await checkpoint(inner, prefix: prefix + step.id + ".") }
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

extension Flow {
    /// Whether `path` names a step: a step id, or a sub-flow step's id, a dot and a path in it.
    func hasStep(atPath path: String) -> Bool {
        steps.contains { step in
            if step.id == path { return true }
            guard let subflow = step.subflow, path.hasPrefix(step.id + ".") else { return false }
            return subflow.flow.hasStep(atPath: String(path.dropFirst(step.id.count + 1)))
        }
    }
}
