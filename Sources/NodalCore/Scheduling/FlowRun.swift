import NodalJSON
import FoundationEssentials
import Synchronization

/// One run of a flow: the driver that performs what its `RunStateMachine` decides.
///
/// It calls nodes (non-blocking native nodes and builtins inline on its own task, pooled native
/// calls on the blocking-call pool, async Swift nodes and sub-flows as tasks), arms timers on the
/// engine's clock, writes checkpoints and cache entries, emits events, and builds the result
/// (`RunResultBuilder`). Calls in flight and timers report back through one stream of signals.
/// Because nothing structured waits for a call, a call that overruns its timeout or ignores
/// cancellation can be abandoned: the run goes on without it.
///
/// Confined to the task that calls `execute()`; closures it hands out capture only Sendable values.
final class FlowRun {
    enum Signal: Sendable {
        case finished(step: Int, generation: Int, outcome: NodeOutcome)
        /// A sub-flow step's run ended.
        case subflowFinished(step: Int, generation: Int, result: RunResult)
        case timer(RunStateMachine.Timer)
        case cancelRequested
        case drainRequested
    }

    let flow: Flow
    let components: [ResolvedComponent]
    let pool: BlockingCallPool
    let clock: any Clock<Duration>
    let options: RunOptions
    let runID: String
    let runInput: JSON
    /// Raised when the run stops early (a failure or a cancel), so plugins stop too.
    let cancellation: CancellationToken
    let events: EventSink?

    private let signals: AsyncStream<Signal>
    private let signalSink: AsyncStream<Signal>.Continuation

    private var machine: RunStateMachine
    private var times: StepTimes
    private var calls: [Int: InFlightCall] = [:]
    private var timers: [Task<Void, Never>] = []
    /// Store work the machine asked for, done in batches once the inline work runs out.
    private var checkpointsToWrite: [Int] = []
    private var cacheLookups: [Int] = []
    private var cachePuts: [Int] = []
    private var cacheKeys: [Int: String] = [:]

    /// What the driver holds on to for a call it may have to stop or abandon.
    struct InFlightCall {
        var token: CancellationToken?
        var task: Task<Void, Never>?
        var pooled: PooledCallState?
    }

    /// Checkpoints of a run being resumed: steps that succeeded are not run again.
    private let seed: [StepCheckpoint]
    /// For the run of a sub-flow step: the ids of the steps it is nested in, each followed by a
    /// dot (`review.`). Its checkpoints, events and resume keys carry it; it records no run of
    /// its own. Empty for a top-level run.
    let nestingPrefix: String
    private var isNested: Bool { !nestingPrefix.isEmpty }
    /// Goes on with a recorded run (`Engine.resume`), rather than starting a new one.
    private let resuming: Bool
    /// Goes on with a run that paused: its failed checkpoints are kept, not retried.
    private let continuesPausedRun: Bool
    /// Answers to interrupts, by resume key relative to this run (`decision`, `review.decision`).
    private let resumeValues: [String: JSON]

    /// Per step: whether its call runs inline on the driver's task (see `init`).
    private let runsInline: [Bool]
    /// The run as the blobs and runs extensions of its native calls see it; nil without an engine.
    private let callerRun: CallerRun?

    /// Why the run cannot start: its input does not match the flow's input schema
    /// (`INVALID_INPUT`), or a schema it needs is not a valid JSON Schema (`INVALID_FLOW`).
    private let startProblem: StepError?
    /// Per step: the schema its input is checked against before each call; nil when its node
    /// declares none (then nothing is done per call).
    private let inputChecks: [JSONSchema?]
    /// Per step, with `RunOptions.strictOutputs`: the schema its output is checked against.
    private let outputChecks: [JSONSchema?]
    /// With `RunOptions.strictOutputs`: the flow's output schema.
    private let flowOutputCheck: JSONSchema?

    /// Inline calls made before the driver yields its thread to other tasks.
    static let inlineBudget = 1024

    init(
        flow: Flow, components: [ResolvedComponent], pool: BlockingCallPool, clock: any Clock<Duration>, input: JSON,
        options: RunOptions, eventStream: AsyncStream<RunEvent>.Continuation? = nil, seed: [StepCheckpoint] = [],
        resuming: Bool = false, continuesPausedRun: Bool = false, resumeValues: [String: JSON] = [:],
        nesting: (prefix: String, events: EventSink?)? = nil
    ) {
        self.resuming = resuming
        self.continuesPausedRun = continuesPausedRun
        self.seed = seed
        self.resumeValues = resumeValues
        self.nestingPrefix = nesting?.prefix ?? ""
        self.flow = flow
        self.components = components
        self.pool = pool
        self.clock = clock
        self.options = options
        self.runID = options.runID ?? UUID().uuidString.lowercased()
        // The input the steps see: with the input schema's defaults filled in, once it matches.
        var startProblem: StepError?
        switch flow.preparedInput(input) {
        case .success(let prepared):
            self.runInput = prepared
        case .failure(let problem):
            self.runInput = input
            startProblem = problem
        }
        inputChecks = components.map { $0.schemas?.input }
        if options.strictOutputs {
            outputChecks = components.map { $0.schemas?.output }
            do {
                flowOutputCheck = try flow.compiledOutputSchema()
            } catch {
                flowOutputCheck = nil
                if startProblem == nil { startProblem = StepError(code: "INVALID_FLOW", message: error.description) }
            }
        } else {
            outputChecks = Array(repeating: nil, count: components.count)
            flowOutputCheck = nil
        }
        self.startProblem = startProblem
        self.cancellation = CancellationToken(parent: options.cancellation)
        if let nesting {
            self.events = nesting.events
        } else {
            self.events = EventSink(runID: runID, callback: options.onEvent, stream: eventStream)
        }
        (signals, signalSink) = AsyncStream.makeStream(of: Signal.self)
        // A non-blocking node runs inline, where nothing can time it out; a thread-safe one whose
        // step has a timeout (in the flow or an override) goes to the pool instead, so the timeout
        // holds even when the node breaks its promise and blocks. (Calls of a node that is not
        // thread-safe stay where they are: its serial gate orders inline calls or pooled ones.)
        let timed = flow.steps.map { step in step.timeout != nil || options.stepOverrides[step.id]?.timeout != nil }
        let inline = zip(components, timed).map { component, timed -> Bool in
            switch component.executor {
            case .native(let node): node.runsInline && !(timed && node.serialGate == nil)
            case .inline: true
            case .pooled, .async, .subflow: false
            }
        }
        runsInline = inline
        let execution = inline.map { $0 ? RunStateMachine.Execution.inline : .inFlight }
        machine = RunStateMachine(flow: flow, execution: execution, settings: RunStateMachine.Settings(
            runInput: runInput, variables: options.variables, maxConcurrency: max(1, options.maxConcurrency),
            stepOverrides: options.stepOverrides, gracePeriod: options.gracePeriod, hasStore: options.store != nil,
            answeredSteps: Set(resumeValues.keys)))
        times = StepTimes(steps: flow.steps.count)
        let runID = self.runID, token = cancellation
        callerRun = options.extensionHost.map { host in
            CallerRun(
                runID: runID, rootRunID: options.rootRunID ?? runID, depth: options.subRunDepth, store: options.store,
                cancellation: token, pool: pool, host: host)
        }
    }

    func execute() async -> RunResult {
        if let startProblem { return await refuse(startProblem) }
        if options.dryRun {
            return RunResultBuilder.dryRun(flow: flow, components: components, input: runInput, options: options, runID: runID)
        }
        if !isNested, options.store != nil, runInput.nestsDeeper(than: Limits.valueDepth) {
            // From code (the command line's parser already refuses it): the run's record could
            // not be read back.
            events?.finish()
            return RunResult.refused(
                flow: flow, input: runInput, options: options, code: "INVALID_INPUT",
                message: "the run's input \(RunStateMachine.tooDeep)")
        }
        let started = Date()
        let clockStart = ContinuousClock.now
        if !isNested { events?.emit(.runStarted(steps: flow.steps.count)) }
        let sink = signalSink
        let handlerKey = options.cancellation?.onCancel { sink.yield(.cancelRequested) }
        let drainKey = options.drain?.onCancel { sink.yield(.drainRequested) }
        let token = cancellation
        if await recordStart(at: started) {
            await withTaskCancellationHandler {
                await loop()
            } onCancel: {
                token.cancel()
                sink.yield(.cancelRequested)
            }
            await flushCheckpoints()
        }
        if let handlerKey { options.cancellation?.removeHandler(handlerKey) }
        if let drainKey { options.drain?.removeHandler(drainKey) }
        for timer in timers { timer.cancel() }
        signalSink.finish()

        var result = RunResultBuilder.result(
            of: machine, times: times, runID: runID, started: started, ended: Date(), duration: ContinuousClock.now - clockStart)
        if let flowOutputCheck, result.status == .success { checkOutput(of: &result, against: flowOutputCheck) }
        if isNested { return result }
        await recordEnd(result)
        switch result.status {
        case .success: events?.emit(.runSucceeded)
        case .canceled: events?.emit(.runCanceled)
        case .paused: events?.emit(.runPaused(key: result.pause?.key ?? "", value: result.pause?.value ?? .null))
        case .failed: events?.emit(.runFailed(code: result.error?.code ?? "FAILED", message: result.error?.message ?? ""))
        }
        events?.finish()
        return result
    }

    /// Ends a run that cannot start (`startProblem`) before any step: every step `notRun`, the run
    /// `failed` with the problem's code and message. A top-level run with a store is recorded as
    /// any failed run is, so the record says why.
    private func refuse(_ problem: StepError) async -> RunResult {
        var identified = options
        identified.runID = runID
        let refused = RunResult.refused(flow: flow, input: runInput, options: identified, code: problem.code, message: problem.message)
        if isNested || options.dryRun { return refused }
        events?.emit(.runStarted(steps: flow.steps.count))
        var result = refused
        if await recordStart(at: refused.startedAt) {
            await recordEnd(refused)
        } else {
            // The store refused the run (or failed): that is what the result says.
            result = RunResultBuilder.result(
                of: machine, times: times, runID: runID, started: refused.startedAt, ended: Date(), duration: .zero)
        }
        events?.emit(.runFailed(code: result.error?.code ?? "FAILED", message: result.error?.message ?? ""))
        events?.finish()
        return result
    }

    /// Fails a run whose output does not match the flow's output schema (strict mode).
    private func checkOutput(of result: inout RunResult, against schema: JSONSchema) {
        let output = result.output ?? .null
        guard !schema.isValid(output) else { return }
        let violations = schema.validate(output)
        result.status = .failed
        result.error = RunFailure(
            code: "INVALID_OUTPUT",
            message: "the flow's output does not match its output schema: " + SchemaMessages.describe(violations, root: "output"),
            steps: [])
    }

    /// A step's input, checked against its node's input schema: nil when it matches (or there is
    /// none), else the failure its call is replaced by.
    private func inputProblem(_ index: Int, _ input: Payload) -> StepError? {
        guard let schema = inputChecks[index], !schema.isValid(input.json) else { return nil }
        let violations = schema.validate(input.json)
        let owner = components[index].schemas?.owner ?? components[index].nodeID
        return StepError(
            code: "INVALID_INPUT",
            message: "the input of step '\(flow.steps[index].id)' does not match the input schema of \(owner): "
                + SchemaMessages.describe(violations, root: "input"),
            details: SchemaMessages.details(violations, root: "input"))
    }

    /// A call's outcome, with a successful output checked against the node's output schema in
    /// strict mode: one that does not match becomes an `INVALID_OUTPUT` failure.
    private func checked(_ index: Int, _ outcome: NodeOutcome) -> NodeOutcome {
        guard let schema = outputChecks[index], case .success(let output) = outcome, !schema.isValid(output.json) else {
            return outcome
        }
        let violations = schema.validate(output.json)
        let owner = components[index].schemas?.owner ?? components[index].nodeID
        return .failure(StepError(
            code: "INVALID_OUTPUT",
            message: "the output of step '\(flow.steps[index].id)' does not match the output schema of \(owner): "
                + SchemaMessages.describe(violations, root: "output"),
            details: SchemaMessages.details(violations, root: "output")))
    }

    private func loop() async {
        applySeed()
        machine.begin()
        var iterator = signals.makeAsyncIterator()
        var inlineCalls = 0
        while true {
            if !machine.stopping, options.cancellation?.isCancelled == true || Task.isCancelled { machine.cancel() }
            if !machine.draining, options.drain?.isCancelled == true { machine.drain() }
            performActions(inlineCalls: &inlineCalls)
            while inlineCalls < Self.inlineBudget, machine.startNext() {
                performActions(inlineCalls: &inlineCalls)
            }
            if inlineCalls >= Self.inlineBudget {
                // Long runs of inline nodes give the cooperative thread back now and then.
                inlineCalls = 0
                await Task.yield()
                continue
            }
            inlineCalls = 0
            if !checkpointsToWrite.isEmpty {
                await writeCheckpoints()
                continue
            }
            if !cacheLookups.isEmpty {
                await lookUpCache()
                continue
            }
            if !cachePuts.isEmpty { await putInCache() }
            if machine.isFinished { break }
            guard let signal = await iterator.next() else {
                // The awaiting task was canceled: stop waiting for anything.
                machine.cancel()
                machine.abandonCalls()
                performActions(inlineCalls: &inlineCalls)
                break
            }
            handle(signal)
        }
    }

    /// Seeds a resumed run: the machine takes the steps' states, the driver their times.
    private func applySeed() {
        guard !seed.isEmpty else { return }
        machine.seed(seed, continuesPausedRun: continuesPausedRun)
        for checkpoint in seed {
            guard let index = flow.stepIndexes[checkpoint.stepID] else { continue }
            let state = machine.slots[index].state
            guard state == .succeeded || state == .failed else { continue }
            times.startedAt[index] = checkpoint.startedAt
            times.endedAt[index] = checkpoint.endedAt
        }
    }

    // MARK: Actions

    /// Performs every action the machine has queued, calling inline nodes as they come.
    private func performActions(inlineCalls: inout Int) {
        while let action = machine.nextAction() {
            switch action {
            case .start(let index, let generation, _):
                if start(index, generation: generation) { inlineCalls += 1 }
            case .report(let index, let report):
                self.report(index, report)
            case .lookUpCache(let index):
                cacheLookups.append(index)
            case .writeCheckpoint(let index):
                checkpointsToWrite.append(index)
            case .putInCache(let index):
                cachePuts.append(index)
            case .armTimer(let timer, let delay):
                arm(timer, after: delay)
            case .stopCall(let index):
                calls[index]?.token?.cancel()
                calls[index]?.task?.cancel()
            case .abandonCall(let index):
                // A pooled call's thread may stay stuck in the plugin, so the pool gets a thread
                // in its place; the stuck one retires when (if) the call returns.
                if let call = calls.removeValue(forKey: index) {
                    call.task?.cancel()
                    if let pooled = call.pooled, pooled.abandon() { pool.replaceStuckThread() }
                }
            case .stopRun:
                cancellation.cancel()
                for call in calls.values { call.task?.cancel() }
            }
        }
    }

    /// Stamps the step's times and tells the run's observers.
    private func report(_ index: Int, _ report: RunStateMachine.Report) {
        switch report {
        case .started:
            if times.startedAt[index] == nil { times.startedAt[index] = Date() }
        case .cached:
            times.startedAt[index] = Date()
        case .retried:
            break
        case .succeeded, .failed, .skipped, .canceled, .paused:
            times.endedAt[index] = Date()
        }
        guard let events else { return }
        let id = flow.steps[index].id
        switch report {
        case .started(let attempt): events.emit(.stepStarted(step: id, attempt: attempt))
        case .cached: events.emit(.stepCached(step: id))
        case .retried(let attempt, let delay, let error): events.emit(.stepRetried(step: id, attempt: attempt, delay: delay, error: error))
        case .succeeded(let attempt):
            let elapsed = times.endedAt[index].map { $0.timeIntervalSince(times.startedAt[index] ?? $0) } ?? 0
            events.emit(.stepSucceeded(
                step: id, attempt: attempt, output: machine.records[index].output?.json ?? .null, duration: .seconds(max(0, elapsed))))
        case .failed(let error): events.emit(.stepFailed(step: id, error: error))
        case .skipped(let reason): events.emit(.stepSkipped(step: id, reason: reason))
        case .canceled: events.emit(.stepCanceled(step: id))
        case .paused(let request): events.emit(.stepPaused(step: id, key: nestingPrefix + request.key, value: request.value))
        }
    }

    /// Starts a step's call. Inline nodes run to completion here (true); others go to the pool
    /// or to tasks of their own.
    private func start(_ index: Int, generation: Int) -> Bool {
        let input = machine.records[index].input!
        if let problem = inputProblem(index, input) {
            // The node is not called; the failure goes through the step's onError as any would.
            machine.callFinished(step: index, generation: generation, outcome: .failure(problem))
            return true
        }
        switch components[index].executor {
        case .native(let node) where runsInline[index]:
            let bytes = input.encodedBytes
            let stepID = flow.steps[index].id
            let outcome = node.serialGate.map { gate in
                gate.runInline {
                    node.call(input: bytes, parsedInput: input.json, stepID: stepID, cancellation: cancellation, events: events, run: callerRun)
                }
            } ?? node.call(input: bytes, parsedInput: input.json, stepID: stepID, cancellation: cancellation, events: events, run: callerRun)
            machine.callFinished(step: index, generation: generation, outcome: checked(index, outcome))
            return true
        case .inline(let body):
            machine.callFinished(step: index, generation: generation, outcome: checked(index, body(input, nodeContext(index))))
            return true
        case .native(let node):
            let bytes = input.encodedBytes
            let stepID = flow.steps[index].id
            let events = events
            let run = callerRun
            startOnPool(index, generation: generation, gate: node.serialGate) { token, callState in
                node.call(
                    input: bytes, parsedInput: input.json, stepID: stepID, cancellation: token, events: events, run: run,
                    abandonment: callState)
            }
        case .pooled(let body):
            let context = nodeContext(index)
            startOnPool(index, generation: generation, gate: nil) { _, _ in body(input, context) }
        case .async(let body):
            startAsync(index, generation: generation, input.json, body)
        case .subflow(let subflow, let subflowComponents):
            startSubflow(index, generation: generation, input.json, subflow, subflowComponents)
        }
        return false
    }

    /// Hands a blocking call to the pool. The call reports back through the signal stream; if it
    /// was abandoned meanwhile, its thread retires (a replacement was started for it).
    private func startOnPool(
        _ index: Int, generation: Int, gate: SerialGate?, _ call: @escaping @Sendable (CancellationToken, PooledCallState) -> NodeOutcome
    ) {
        // A call with a timeout gets a token of its own, so stopping it stops nothing else.
        let token = machine.timeout(of: index) == nil ? cancellation : CancellationToken(parent: cancellation)
        let callState = PooledCallState()
        calls[index] = InFlightCall(token: token, task: nil, pooled: callState)
        let sink = signalSink
        let job: @Sendable () -> Bool = {
            let outcome = call(token, callState)
            let abandoned = !callState.finish()
            sink.yield(.finished(step: index, generation: generation, outcome: outcome))
            return abandoned
        }
        if let gate { gate.submit(job, on: pool) } else { pool.submitRetiring(job) }
    }

    private func startAsync(_ index: Int, generation: Int, _ json: JSON, _ body: @escaping SwiftNode) {
        let context = nodeContext(index)
        let sink = signalSink
        let cancellation = cancellation
        let task = Task {
            let outcome: NodeOutcome
            do {
                outcome = .success(Payload(json: try await body(json, context)))
            } catch let error as StepError {
                outcome = .failure(error)
            } catch let interrupt as Interrupt {
                outcome = .paused(PauseRequest(key: context.stepID, value: interrupt.value))
            } catch is CancellationError {
                // Only a stop the run asked for (a cancel, a failure elsewhere, the step's
                // timeout) is a cancel; a node that throws CancellationError on its own has failed,
                // as a native node that returns NODAL_CANCELLED unasked does.
                if Task.isCancelled || cancellation.isCancelled {
                    outcome = .canceled
                } else {
                    outcome = .failure(StepError(
                        code: "UNEXPECTED_CANCEL",
                        message: "node \(context.component) threw CancellationError, but nothing cancelled the call (the run was not canceled and no timeout passed)"))
                }
            } catch {
                outcome = .failure(StepError(code: "NODE_FAILED", message: String(describing: error)))
            }
            sink.yield(.finished(step: index, generation: generation, outcome: outcome))
        }
        calls[index] = InFlightCall(token: nil, task: task, pooled: nil)
    }

    /// Runs a sub-flow step's flow as part of this run: same id, store, clock and cancellation;
    /// its checkpoints and resume keys are prefixed with this step's id, and on a resume it gets
    /// the checkpoints and answers under that prefix.
    private func startSubflow(_ index: Int, generation: Int, _ input: JSON, _ subflow: Flow, _ subflowComponents: [ResolvedComponent]) {
        let prefix = flow.steps[index].id + "."
        let childSeed = seed.compactMap { checkpoint -> StepCheckpoint? in
            guard checkpoint.stepID.hasPrefix(prefix) else { return nil }
            var inner = checkpoint
            inner.stepID = String(checkpoint.stepID.dropFirst(prefix.count))
            return inner
        }
        var childValues: [String: JSON] = [:]
        for (key, value) in resumeValues where key.hasPrefix(prefix) { childValues[String(key.dropFirst(prefix.count))] = value }
        var childOptions = options
        childOptions.runID = runID
        childOptions.cancellation = cancellation
        childOptions.onEvent = nil
        childOptions.stepOverrides = [:]
        for (id, override) in options.stepOverrides where id.hasPrefix(prefix) { childOptions.stepOverrides[String(id.dropFirst(prefix.count))] = override }
        let nesting = (prefix: nestingPrefix + prefix, events: events?.nested(prefix: prefix))
        let pool = pool
        let clock = clock
        let sink = signalSink
        let continuesPausedRun = continuesPausedRun
        let task = Task {
            let child = FlowRun(
                flow: subflow, components: subflowComponents, pool: pool, clock: clock, input: input, options: childOptions,
                seed: childSeed, continuesPausedRun: continuesPausedRun, resumeValues: childValues, nesting: nesting)
            let result = await child.execute()
            sink.yield(.subflowFinished(step: index, generation: generation, result: result))
        }
        calls[index] = InFlightCall(token: nil, task: task, pooled: nil)
    }

    /// Arms a timer on the engine's clock: its signal comes back through the stream.
    private func arm(_ timer: RunStateMachine.Timer, after delay: Duration) {
        let sink = signalSink
        let clock = clock
        let delay = delay.clampedForTimer
        timers.append(Task {
            do {
                try await clock.sleep(for: delay)
            } catch {
                return  // Canceled: the run ended.
            }
            sink.yield(.timer(timer))
        })
    }

    private func nodeContext(_ index: Int) -> NodeContext {
        let id = flow.steps[index].id
        return NodeContext(
            runID: runID, stepID: id, component: flow.steps[index].component, store: options.store, flowFile: flow.file,
            resumeKey: nestingPrefix + id, resumeValue: resumeValues[id], canPause: options.allowsInterrupts,
            nesting: flow.nesting, strictOutputs: options.strictOutputs)
    }

    // MARK: Signals

    private func handle(_ signal: Signal) {
        // A call may report that it stopped for a cancel before the cancel's own signal arrives:
        // stop first, so its readers are not started (or skipped) as if it had just failed.
        if !machine.stopping, options.cancellation?.isCancelled == true { machine.cancel() }
        switch signal {
        case .finished(let index, let generation, let outcome):
            if calls[index] != nil, generation == Int(machine.slots[index].generation) { calls[index] = nil }
            machine.callFinished(step: index, generation: generation, outcome: checked(index, outcome))
        case .subflowFinished(let index, let generation, let result):
            if calls[index] != nil, generation == Int(machine.slots[index].generation) { calls[index] = nil }
            machine.subflowFinished(step: index, generation: generation, result: result)
        case .timer(let timer):
            machine.timerFired(timer)
        case .cancelRequested:
            machine.cancel()
        case .drainRequested:
            machine.drain()
        }
    }

    // MARK: The store

    /// Records the run as started. False (and the run fails) when the store cannot.
    private func recordStart(at started: Date) async -> Bool {
        // A sub-flow's run is part of its parent's record.
        guard options.store != nil, !isNested else { return true }
        guard let store = options.storage else {
            machine.storeFailed(StepError(code: "STORE_UNSUPPORTED", message: "the run's store (\(type(of: options.store!))) is not one of Nodal's stores, so it cannot hold checkpoints; use InMemoryRunStore or SQLiteRunStore"))
            return false
        }
        let record = RunRecord(
            id: runID, flowName: flow.name ?? flow.file.map(FileSystem.baseName) ?? "flow",
            // As given (made absolute), not symlink-resolved: a resume re-reads it from the same
            // folder, so its sub-flow paths resolve as they did.
            flowPath: flow.file.map { $0.hasPrefix("/") ? $0 : FileSystem.join(FileSystem.currentDirectory, $0) },
            flowHash: flow.sourceHash,
            input: runInput, status: .running, createdAt: started, parentRunID: options.parentRunID, rootRunID: options.rootRunID)
        do {
            if try await store.run(id: runID) != nil {
                guard resuming else {
                    // Its checkpoints would mix with this run's on a later resume.
                    machine.storeFailed(StepError(code: "RUN_EXISTS", message: "the store already has a run '\(runID)'; resume it, or give this run another id"))
                    return false
                }
                try await store.updateRun(id: runID, status: .running, result: nil, updatedAt: started)
            } else {
                try await store.putRun(record)
            }
            return true
        } catch {
            machine.storeFailed(StepError(code: "STORE_ERROR", message: "could not record the run: \(error)"))
            return false
        }
    }

    private func recordEnd(_ result: RunResult) async {
        guard let store = options.storage, machine.storeFailure == nil else { return }
        // A run whose lease another process took (this one stalled past it) is that process's
        // now: writing this end would overwrite what the new owner records.
        if let ownership = options.ownership, await !ownership.confirm() { return }
        if let pause = result.pause {
            try? await store.putPause(PauseRecord(runID: runID, resumeKey: pause.key, stepID: pause.step, value: pause.value, createdAt: result.endedAt))
        }
        try? await store.updateRun(id: runID, status: RunRecord.Status(result.status), result: result.json, updatedAt: result.endedAt)
    }

    /// Waits for checkpoints the store writes behind the run; a failed one fails the run.
    private func flushCheckpoints() async {
        guard let store = options.storage, machine.storeFailure == nil else { return }
        do {
            try await store.flushCheckpoints(runID: runID)
        } catch {
            machine.storeFailed(StepError(code: "STORE_ERROR", message: "could not write the checkpoints of run '\(runID)': \(error)"))
        }
    }

    /// Writes the checkpoints of steps that finished, then lets their readers go.
    private func writeCheckpoints() async {
        let finished = checkpointsToWrite
        checkpointsToWrite.removeAll()
        if options.storage != nil, machine.storeFailure == nil, let ownership = options.ownership, await !ownership.confirm() {
            // Another process took the run over: its checkpoints are not this process's to write,
            // and the steps that read these must not start here.
            machine.storeFailed(StepError(code: "LEASE_LOST", message: "run '\(runID)' was taken over by another process"))
        }
        // Steps that finished together are written together: one commit for all of them, where
        // the store can (SQLite's), before any of their readers starts.
        if let store = options.storage, machine.storeFailure == nil, !finished.isEmpty {
            let checkpoints = finished.map { index in
                let slot = machine.slots[index]
                let record = machine.records[index]
                return StepCheckpoint(
                    runID: runID, stepID: nestingPrefix + flow.steps[index].id,
                    status: slot.outcome == .succeeded ? StepStatus.success.rawValue : StepStatus.failed.rawValue,
                    input: record.input?.json, output: record.output?.json, error: record.error?.json,
                    attempts: Int(slot.attempts), startedAt: times.startedAt[index], endedAt: times.endedAt[index])
            }
            do {
                try await store.putCheckpoints(checkpoints)
            } catch {
                let steps = finished.map { "'\(flow.steps[$0].id)'" }.joined(separator: ", ")
                let what = finished.count == 1 ? "the checkpoint of step \(steps)" : "the checkpoints of steps \(steps)"
                machine.storeFailed(StepError(code: "STORE_ERROR", message: "could not write \(what): \(error)"))
            }
        }
        for index in finished { machine.checkpointWritten(step: index) }
    }

    /// The cache key of a step's call: its route, the node's identity and version, and the
    /// SHA-256 of its input's canonical JSON.
    private func cacheKey(_ index: Int) -> String {
        let component = components[index]
        var identity = component.nodeID
        if case .native(let node) = component.executor { identity += "@" + node.info.version }
        return "step/v1|\(flow.steps[index].component)|\(identity)|\(ContentHash.sha256Hex(of: machine.records[index].input?.json ?? .null))"
    }

    /// Looks cacheable steps up; the machine decides what a hit or a miss means.
    private func lookUpCache() async {
        let lookups = cacheLookups
        cacheLookups.removeAll()
        for index in lookups {
            let key = cacheKey(index)
            cacheKeys[index] = key
            let entry = try? await options.store?.cachedResult(key: key)
            machine.cacheLookedUp(step: index, hit: entry?.value)
        }
    }

    /// Best effort: a result that cannot be cached is simply not reused later.
    private func putInCache() async {
        let puts = cachePuts
        cachePuts.removeAll()
        for index in puts {
            guard let key = cacheKeys[index], let output = machine.records[index].output else { continue }
            try? await options.storage?.putCachedResult(key: key, value: output.json)
        }
    }
}
