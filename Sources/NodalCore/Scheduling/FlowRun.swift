import NodalJSON
import FoundationEssentials
import Synchronization

/// One run of a flow: the scheduler.
///
/// Demand-driven, as Stepflow's lazy evaluation needs: the output (and every `mustExecute` step)
/// is demanded first; a demanded step demands the steps its input reads, and starts once they
/// have settled. `$if` and `$coalesce` only demand the steps of the branch they take. All
/// bookkeeping is arrays indexed by step, so a run costs O(steps + edges).
///
/// Non-blocking native nodes and builtins run inline on the scheduler's task. Pooled native calls
/// and async Swift nodes report back through one stream of signals, as do timers (retry waits,
/// timeouts, grace periods). Because nothing structured waits for a call, a call that overruns
/// its timeout or ignores cancellation can be abandoned: the run goes on without it.
///
/// Confined to the task that calls `execute()`; closures it hands out capture only Sendable values.
final class FlowRun {
    enum State: UInt8 {
        case idle, waiting, runnable, running, succeeded, failed, canceled, skipped
        /// Waiting for outside input (an interrupt); not settled, so its readers keep waiting.
        case paused
    }

    enum Signal: Sendable {
        case finished(step: Int, generation: Int, outcome: NodeOutcome)
        /// A sub-flow step's run ended.
        case subflowFinished(step: Int, generation: Int, result: RunResult)
        case retryDue(step: Int)
        case timeoutReached(step: Int, generation: Int)
        /// A stopped call's grace period is over (`step` nil: the whole run's, after a stop).
        case graceOver(step: Int?, generation: Int)
        case cancelRequested
    }

    let flow: Flow
    let components: [ResolvedComponent]
    let pool: BlockingCallPool
    let options: RunOptions
    let runID: String
    let runInput: JSON
    /// Raised when the run stops early (a failure or a cancel), so plugins stop too.
    let cancellation: CancellationToken
    let events: EventSink?

    private let signals: AsyncStream<Signal>
    private let signalSink: AsyncStream<Signal>.Continuation

    private let stepCount: Int
    /// Index of the output pseudo-step (evaluated like a step, never run).
    private var outputIndex: Int { stepCount }
    private var state: [State]
    private var demanded: [Bool]
    private var pendingCount: [Int32]
    private var waiters: [[Int32]]
    private var outputs: [Payload?]
    private var inputs: [Payload?]
    private var errors: [StepError?]
    private var skipReasons: [String?]
    private var attempts: [Int32]
    private var startedAt: [Date?]
    private var endedAt: [Date?]
    /// Bumped when a call is abandoned, so its late answer is recognised and dropped.
    private var generation: [Int]
    private var timedOut: [Bool]
    private var calls: [Int: InFlightCall] = [:]

    private var demandQueue: [Int] = []
    private var runnable: [Int] = []
    private var runnableHead = 0
    private var running = 0
    private var pendingRetries = 0
    private var timers: [Task<Void, Never>] = []
    private var failedSteps: [Int] = []
    private var continuedFailures: [Int] = []
    private var outputFailure: StepError?
    private var outputValue: JSON?
    private var stopping = false
    private var canceled = false

    /// What the scheduler holds on to for a call it may have to stop or abandon.
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
    /// Steps that paused for outside input, in the order they paused.
    private var pausedSteps: [(index: Int, request: PauseRequest)] = []
    /// The step results of sub-flow steps' runs.
    private var childSteps: [Int: [StepResult]] = [:]
    /// Steps whose outcome is recorded but whose checkpoint is not written yet; their readers
    /// start only once it is (durability before progress).
    private var unwrittenCheckpoints: [(index: Int, state: State)] = []
    private var storeFailure: StepError?
    /// Cacheable steps waiting for a cache lookup, and results waiting to be put in the cache.
    private var cacheLookups: [Int] = []
    private var cacheChecked: Set<Int> = []
    private var cacheKeys: [Int: String] = [:]
    private var cacheHits: Set<Int> = []
    private var cachePuts: [(key: String, value: JSON)] = []

    init(
        flow: Flow, components: [ResolvedComponent], pool: BlockingCallPool, input: JSON, options: RunOptions,
        eventStream: AsyncStream<RunEvent>.Continuation? = nil, seed: [StepCheckpoint] = [],
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
        self.options = options
        self.runID = options.runID ?? UUID().uuidString.lowercased()
        self.runInput = input
        self.cancellation = CancellationToken(parent: options.cancellation)
        if let nesting {
            self.events = nesting.events
        } else {
            self.events = EventSink(runID: runID, callback: options.onEvent, stream: eventStream)
        }
        (signals, signalSink) = AsyncStream.makeStream(of: Signal.self)
        stepCount = flow.steps.count
        let slots = stepCount + 1
        state = Array(repeating: .idle, count: slots)
        demanded = Array(repeating: false, count: slots)
        pendingCount = Array(repeating: 0, count: slots)
        waiters = Array(repeating: [], count: slots)
        outputs = Array(repeating: nil, count: stepCount)
        inputs = Array(repeating: nil, count: stepCount)
        errors = Array(repeating: nil, count: stepCount)
        skipReasons = Array(repeating: nil, count: stepCount)
        attempts = Array(repeating: 0, count: stepCount)
        startedAt = Array(repeating: nil, count: stepCount)
        endedAt = Array(repeating: nil, count: stepCount)
        generation = Array(repeating: 0, count: stepCount)
        timedOut = Array(repeating: false, count: stepCount)
    }

    func execute() async -> RunResult {
        if options.dryRun { return dryRun() }
        let started = Date()
        let clockStart = ContinuousClock.now
        if !isNested { events?.emit(.runStarted(steps: stepCount)) }
        let sink = signalSink
        let handlerKey = options.cancellation?.onCancel { sink.yield(.cancelRequested) }
        let token = cancellation
        if await recordStart(at: started) {
            await withTaskCancellationHandler {
                await loop()
            } onCancel: {
                token.cancel()
                sink.yield(.cancelRequested)
            }
        }
        if let handlerKey { options.cancellation?.removeHandler(handlerKey) }
        for timer in timers { timer.cancel() }
        signalSink.finish()

        let result = result(started: started, duration: ContinuousClock.now - clockStart)
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

    private func loop() async {
        applySeed()
        demand(outputIndex)
        for (index, step) in flow.steps.enumerated() where step.mustExecute { demand(index) }
        var iterator = signals.makeAsyncIterator()
        while true {
            if !stopping, options.cancellation?.isCancelled == true || Task.isCancelled {
                beginStop(canceled: true)
            }
            processDemands()
            if startRunnable() == .yielding {
                // Long runs of inline nodes give the cooperative thread back now and then.
                await Task.yield()
                continue
            }
            if !unwrittenCheckpoints.isEmpty {
                await writeCheckpoints()
                continue
            }
            if !cacheLookups.isEmpty {
                await lookUpCache()
                continue
            }
            if !cachePuts.isEmpty { await putInCache() }
            if !demandQueue.isEmpty { continue }
            if !stopping, runnableHead < runnable.count, running < options.maxConcurrency { continue }
            if running == 0 && (pendingRetries == 0 || stopping) { break }
            guard let signal = await iterator.next() else {
                // The awaiting task was canceled: stop waiting for anything.
                beginStop(canceled: true)
                abandonAll()
                break
            }
            handle(signal)
        }
    }

    // MARK: Demand

    private func demand(_ index: Int) {
        // A step seeded by a resume has settled already: demanding it must not run it again.
        guard !demanded[index], index == outputIndex || !isSettled(index) else { return }
        demanded[index] = true
        demandQueue.append(index)
    }

    private func processDemands() {
        while let index = demandQueue.popLast() {
            guard !stopping else { demandQueue.removeAll(); return }
            let dependencies = index == outputIndex ? outputEagerDependencies : flow.steps[index].eagerDependencies
            var waitingOn: Int32 = 0
            for dependency in dependencies where !isSettled(dependency) {
                demand(dependency)
                waiters[dependency].append(Int32(index))
                waitingOn += 1
            }
            if waitingOn == 0 {
                inputReady(index)
            } else {
                state[index] = .waiting
                pendingCount[index] = waitingOn
            }
        }
    }

    /// Steps referenced from inside `$if`/`$switch`/`$coalesce` branches, to explain why they
    /// did not run.
    private lazy var branchSteps: Set<Int> = {
        var steps: [Int] = []
        flow.output.collectBranchSteps(into: &steps)
        for step in flow.steps { step.input.collectBranchSteps(into: &steps) }
        return Set(steps)
    }()

    private lazy var outputEagerDependencies: [Int] = {
        var steps: [Int] = []
        flow.output.collectEagerSteps(into: &steps)
        return uniqued(steps)
    }()

    private func isSettled(_ index: Int) -> Bool {
        switch state[index] {
        case .succeeded, .failed, .canceled, .skipped: true
        default: false
        }
    }

    /// Everything the input eagerly reads has settled: evaluate it, which either yields the input
    /// or names further steps a lazy branch needs.
    private func inputReady(_ index: Int) {
        let isOutput = index == outputIndex
        let expression = isOutput ? flow.output : flow.steps[index].input
        // Fast path: the input is another step's whole output; hand its bytes on untouched.
        if case .step(let source, _, let path) = expression, path.isRoot, state[source] == .succeeded, let payload = outputs[source] {
            markRunnable(index, input: payload)
            return
        }
        var context = self
        let evaluation: Evaluation
        do {
            evaluation = try expression.evaluate(in: &context, unavailableAsNull: isOutput)
        } catch {
            if let unavailable = error.unavailableStep, !isOutput {
                skip(index, reason: "it reads step '\(flow.steps[unavailable].id)', which has no output")
            } else {
                failInput(index, message: error.message)
            }
            return
        }
        switch evaluation {
        case .value(let value):
            markRunnable(index, input: Payload(json: value))
        case .needs(let steps):
            var waitingOn: Int32 = 0
            for dependency in uniqued(steps) where !isSettled(dependency) {
                demand(dependency)
                waiters[dependency].append(Int32(index))
                waitingOn += 1
            }
            state[index] = .waiting
            pendingCount[index] = waitingOn
        }
    }

    private func markRunnable(_ index: Int, input: Payload) {
        if index == outputIndex {
            outputValue = input.json
            state[index] = .succeeded
            return
        }
        inputs[index] = input
        state[index] = .runnable
        runnable.append(index)
    }

    private func failInput(_ index: Int, message: String) {
        if index == outputIndex {
            outputFailure = StepError(code: "OUTPUT_ERROR", message: "the flow's output cannot be evaluated: \(message)")
            beginStop(canceled: false)
            return
        }
        let error = StepError(code: "INPUT_ERROR", message: message)
        errors[index] = error
        events?.emit(.stepFailed(step: flow.steps[index].id, error: error))
        failedSteps.append(index)
        beginStop(canceled: false)
        settle(index, as: .failed)
    }

    private func skip(_ index: Int, reason: String) {
        skipReasons[index] = reason
        events?.emit(.stepSkipped(step: flow.steps[index].id, reason: reason))
        settle(index, as: .skipped)
    }

    // MARK: Starting steps

    enum StartOutcome { case done, yielding }

    /// Inline calls made before the scheduler yields its thread to other tasks.
    static let inlineBudget = 1024

    /// Starts what can start: inline nodes run to completion here, others go to the pool or to
    /// tasks of their own, up to the concurrency cap.
    private func startRunnable() -> StartOutcome {
        var inlineCalls = 0
        while runnableHead < runnable.count {
            if stopping { return .done }
            if inlineCalls >= Self.inlineBudget { return .yielding }
            let index = runnable[runnableHead]
            let component = components[index]
            // A step answered by a resume is not looked up: the answer is this run's alone.
            if flow.steps[index].cache, options.store != nil, !cacheChecked.contains(index), resumeValues[flow.steps[index].id] == nil {
                runnableHead += 1
                cacheLookups.append(index)
                continue
            }
            switch component.executor {
            case .native(let node) where node.runsInline:
                runnableHead += 1
                begin(index)
                let input = inputs[index]!.encodedBytes
                let stepID = flow.steps[index].id
                let outcome = node.serialGate.map { gate in
                    gate.runInline { node.call(input: input, stepID: stepID, cancellation: cancellation, events: events) }
                } ?? node.call(input: input, stepID: stepID, cancellation: cancellation, events: events)
                complete(index, outcome)
                processDemands()
                inlineCalls += 1
            case .inline(let body):
                runnableHead += 1
                begin(index)
                complete(index, body(inputs[index]!, nodeContext(index)))
                processDemands()
                inlineCalls += 1
            case .native(let node):
                guard running < options.maxConcurrency else { return .done }
                runnableHead += 1
                begin(index)
                startPooled(index, node)
            case .pooled(let body):
                guard running < options.maxConcurrency else { return .done }
                runnableHead += 1
                begin(index)
                startPooled(index, body)
            case .async(let body):
                guard running < options.maxConcurrency else { return .done }
                runnableHead += 1
                begin(index)
                startAsync(index, body)
            case .subflow(let subflow, let subflowComponents):
                guard running < options.maxConcurrency else { return .done }
                runnableHead += 1
                begin(index)
                startSubflow(index, subflow, subflowComponents)
            }
        }
        if runnableHead > 4096 && runnableHead == runnable.count {
            runnable.removeAll(keepingCapacity: true)
            runnableHead = 0
        }
        return .done
    }

    private func timeout(of index: Int) -> Double? {
        options.stepOverrides[flow.steps[index].id]?.timeout ?? flow.steps[index].timeout
    }

    private func errorPolicy(of index: Int) -> ErrorPolicy {
        options.stepOverrides[flow.steps[index].id]?.onError ?? flow.steps[index].onError
    }

    private func startPooled(_ index: Int, _ node: NativeNode) {
        let bytes = inputs[index]!.encodedBytes
        let stepID = flow.steps[index].id
        let events = events
        startOnPool(index, gate: node.serialGate) { token in
            node.call(input: bytes, stepID: stepID, cancellation: token, events: events)
        }
    }

    private func startPooled(_ index: Int, _ body: @escaping @Sendable (Payload, NodeContext) -> NodeOutcome) {
        let input = inputs[index]!
        let context = nodeContext(index)
        startOnPool(index, gate: nil) { _ in body(input, context) }
    }

    /// Hands a blocking call to the pool. The call reports back through the signal stream; if it
    /// was abandoned meanwhile, its thread retires (a replacement was started for it).
    private func startOnPool(_ index: Int, gate: SerialGate?, _ call: @escaping @Sendable (CancellationToken) -> NodeOutcome) {
        running += 1
        let timeout = timeout(of: index)
        // A call with a timeout gets a token of its own, so stopping it stops nothing else.
        let token = timeout == nil ? cancellation : CancellationToken(parent: cancellation)
        let callState = PooledCallState()
        calls[index] = InFlightCall(token: token, task: nil, pooled: callState)
        let generation = generation[index]
        let sink = signalSink
        let job: @Sendable () -> Bool = {
            let outcome = call(token)
            let abandoned = !callState.finish()
            sink.yield(.finished(step: index, generation: generation, outcome: outcome))
            return abandoned
        }
        if let gate { gate.submit(job, on: pool) } else { pool.submitRetiring(job) }
        if let timeout { startTimer(after: timeout, .timeoutReached(step: index, generation: generation)) }
    }

    private func startAsync(_ index: Int, _ body: @escaping SwiftNode) {
        running += 1
        let context = nodeContext(index)
        let json = inputs[index]!.json
        let generation = generation[index]
        let sink = signalSink
        let task = Task {
            let outcome: NodeOutcome
            do {
                outcome = .success(Payload(json: try await body(json, context)))
            } catch let error as StepError {
                outcome = .failure(error)
            } catch let interrupt as Interrupt {
                outcome = .paused(PauseRequest(key: context.stepID, value: interrupt.value))
            } catch is CancellationError {
                outcome = .canceled
            } catch {
                outcome = .failure(StepError(code: "NODE_FAILED", message: String(describing: error)))
            }
            sink.yield(.finished(step: index, generation: generation, outcome: outcome))
        }
        calls[index] = InFlightCall(token: nil, task: task, pooled: nil)
        if let timeout = timeout(of: index) { startTimer(after: timeout, .timeoutReached(step: index, generation: generation)) }
    }

    /// Runs a sub-flow step's flow as part of this run: same id, store and cancellation; its
    /// checkpoints and resume keys are prefixed with this step's id, and on a resume it gets the
    /// checkpoints and answers under that prefix.
    private func startSubflow(_ index: Int, _ subflow: Flow, _ subflowComponents: [ResolvedComponent]) {
        running += 1
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
        let input = inputs[index]!.json
        let pool = pool
        let generation = generation[index]
        let sink = signalSink
        let continuesPausedRun = continuesPausedRun
        let task = Task {
            let child = FlowRun(
                flow: subflow, components: subflowComponents, pool: pool, input: input, options: childOptions,
                seed: childSeed, continuesPausedRun: continuesPausedRun, resumeValues: childValues, nesting: nesting)
            let result = await child.execute()
            sink.yield(.subflowFinished(step: index, generation: generation, result: result))
        }
        calls[index] = InFlightCall(token: nil, task: task, pooled: nil)
        if let timeout = timeout(of: index) { startTimer(after: timeout, .timeoutReached(step: index, generation: generation)) }
    }

    private func startTimer(after seconds: Double, _ signal: Signal) {
        let sink = signalSink
        timers.append(Task {
            try? await Task.sleep(for: .clampedSeconds(seconds))  // .seconds(Double) traps on 1e300
            if !Task.isCancelled { sink.yield(signal) }
        })
    }

    private func nodeContext(_ index: Int) -> NodeContext {
        let id = flow.steps[index].id
        return NodeContext(
            runID: runID, stepID: id, component: flow.steps[index].component, store: options.store, flowFile: flow.file,
            resumeKey: nestingPrefix + id, resumeValue: resumeValues[id], canPause: options.allowsInterrupts,
            nesting: flow.nesting)
    }

    private func begin(_ index: Int) {
        state[index] = .running
        attempts[index] += 1
        if startedAt[index] == nil { startedAt[index] = Date() }
        events?.emit(.stepStarted(step: flow.steps[index].id, attempt: Int(attempts[index])))
    }

    // MARK: Signals

    private func handle(_ signal: Signal) {
        // A call may report that it stopped for a cancel before the cancel's own signal arrives:
        // stop first, so its readers are not started (or skipped) as if it had just failed.
        if !stopping, options.cancellation?.isCancelled == true { beginStop(canceled: true) }
        switch signal {
        case .finished(let index, let callGeneration, var outcome):
            guard callGeneration == generation[index], state[index] == .running else { return }
            running -= 1
            calls[index] = nil
            if case .canceled = outcome, timedOut[index] { outcome = .failure(timeoutError(index)) }
            complete(index, outcome)
        case .subflowFinished(let index, let callGeneration, let result):
            guard callGeneration == generation[index], state[index] == .running else { return }
            running -= 1
            calls[index] = nil
            childSteps[index] = result.steps
            complete(index, subflowOutcome(index, result))
        case .retryDue(let index):
            pendingRetries -= 1
            guard !stopping else { return }
            state[index] = .runnable
            runnable.append(index)
        case .timeoutReached(let index, let callGeneration):
            guard callGeneration == generation[index], state[index] == .running else { return }
            timedOut[index] = true
            calls[index]?.token?.cancel()
            calls[index]?.task?.cancel()
            startTimer(after: options.gracePeriod.seconds, .graceOver(step: index, generation: callGeneration))
        case .graceOver(let index?, let callGeneration):
            guard callGeneration == generation[index], state[index] == .running else { return }
            abandon(index)
            complete(index, .failure(timeoutError(index)))
        case .graceOver(nil, _):
            abandonAll()
        case .cancelRequested:
            if !stopping { beginStop(canceled: true) }
        }
    }

    /// A sub-flow's run as its step's outcome.
    private func subflowOutcome(_ index: Int, _ result: RunResult) -> NodeOutcome {
        let step = flow.steps[index]
        switch result.status {
        case .success:
            return .success(Payload(json: result.output ?? .null))
        case .paused:
            let pause = result.pause!
            return .paused(PauseRequest(key: step.id + "." + pause.key, value: pause.value))
        case .canceled:
            return timedOut[index] ? .failure(timeoutError(index)) : .canceled
        case .failed:
            let error = result.error
            return .failure(StepError(
                code: error?.code ?? "FAILED",
                message: "sub-flow \(step.subflow?.path ?? step.component) failed: \(error?.message ?? "")"))
        }
    }

    private func timeoutError(_ index: Int) -> StepError {
        let seconds = timeout(of: index) ?? 0
        return StepError(code: "TIMEOUT", message: "step '\(flow.steps[index].id)' ran longer than its timeout of \(seconds)s")
    }

    /// Stops waiting for a call. A pooled call's thread may stay stuck in the plugin, so the pool
    /// gets a thread in its place; the stuck one retires when (if) the call returns.
    private func abandon(_ index: Int) {
        generation[index] += 1
        running -= 1
        if let call = calls.removeValue(forKey: index) {
            call.task?.cancel()
            if let pooled = call.pooled, pooled.abandon() { pool.replaceStuckThread() }
        }
    }

    private func abandonAll() {
        for index in calls.keys.sorted() where state[index] == .running {
            abandon(index)
            complete(index, .canceled)
        }
    }

    // MARK: Completing steps

    private func complete(_ index: Int, _ outcome: NodeOutcome) {
        let id = flow.steps[index].id
        switch outcome {
        case .success(let payload):
            outputs[index] = payload
            errors[index] = nil
            if let key = cacheKeys[index], !cacheHits.contains(index), resumeValues[id] == nil { cachePuts.append((key, payload.json)) }
            events?.emit(.stepSucceeded(step: id, attempt: Int(attempts[index])))
            finish(index, as: .succeeded)
        case .canceled:
            errors[index] = StepError(code: "CANCELED", message: "the step was canceled")
            events?.emit(.stepCanceled(step: id))
            finish(index, as: .canceled)
        case .paused(let request):
            // Not settled: the steps that read it wait, and the run ends `paused` once nothing
            // else can run. It is not checkpointed, so a resume calls it again with the answer.
            state[index] = .paused
            endedAt[index] = Date()
            pausedSteps.append((index, request))
            events?.emit(.stepPaused(step: id, key: nestingPrefix + request.key, value: request.value))
        case .failure(let error):
            errors[index] = error
            if stopping {
                // The run is already ending; record what happened, decide nothing more.
                events?.emit(.stepFailed(step: id, error: error))
                finish(index, as: .failed)
                return
            }
            switch errorPolicy(of: index) {
            case .fail:
                events?.emit(.stepFailed(step: id, error: error))
                failedSteps.append(index)
                beginStop(canceled: false)
                finish(index, as: .failed)
            case .useDefault(let value):
                events?.emit(.stepFailed(step: id, error: error))
                outputs[index] = Payload(json: value)
                finish(index, as: .succeeded)
            case .continue:
                events?.emit(.stepFailed(step: id, error: error))
                continuedFailures.append(index)
                finish(index, as: .failed)
            case .retry(let policy):
                let retriesSoFar = Int(attempts[index]) - 1
                if retriesSoFar < policy.maxRetries {
                    let delay = policy.delay(beforeRetry: retriesSoFar + 1)
                    events?.emit(.stepRetried(step: id, attempt: Int(attempts[index]), delay: delay, error: error))
                    timedOut[index] = false
                    if delay <= 0 {
                        state[index] = .runnable
                        runnable.append(index)
                    } else {
                        state[index] = .waiting
                        pendingRetries += 1
                        startTimer(after: delay, .retryDue(step: index))
                    }
                } else {
                    events?.emit(.stepFailed(step: id, error: error))
                    failedSteps.append(index)
                    beginStop(canceled: false)
                    finish(index, as: .failed)
                }
            }
        }
    }

    /// A step has its outcome. With a store, a success or failure is checkpointed before anything
    /// that reads the step may start; the step stays `running` until then.
    private func finish(_ index: Int, as newState: State) {
        guard options.store != nil, newState == .succeeded || newState == .failed else {
            settle(index, as: newState)
            return
        }
        endedAt[index] = Date()
        unwrittenCheckpoints.append((index, newState))
    }

    private func settle(_ index: Int, as newState: State) {
        state[index] = newState
        if endedAt[index] == nil || newState != .succeeded && newState != .failed { endedAt[index] = Date() }
        let waiting = waiters[index]
        waiters[index] = []
        for waiter in waiting {
            let w = Int(waiter)
            pendingCount[w] -= 1
            if pendingCount[w] == 0 && !stopping { inputReady(w) }
        }
    }

    /// The run ends early: no new steps start, calls in flight are told to stop and, after the
    /// grace period, abandoned.
    private func beginStop(canceled: Bool) {
        guard !stopping else { return }
        stopping = true
        self.canceled = canceled
        cancellation.cancel()
        for call in calls.values { call.task?.cancel() }
        if running > 0 { startTimer(after: options.gracePeriod.seconds, .graceOver(step: nil, generation: 0)) }
    }

    // MARK: The store

    /// Records the run as started. False (and the run fails) when the store cannot.
    private func recordStart(at started: Date) async -> Bool {
        // A sub-flow's run is part of its parent's record.
        guard options.store != nil, !isNested else { return true }
        guard let store = options.storage else {
            storeFailure = StepError(code: "STORE_UNSUPPORTED", message: "the run's store (\(type(of: options.store!))) is not one of Nodal's stores, so it cannot hold checkpoints; use InMemoryRunStore or SQLiteRunStore")
            return false
        }
        let record = RunRecord(
            id: runID, flowName: flow.name ?? flow.file.map(FileSystem.baseName) ?? "flow",
            // As given (made absolute), not symlink-resolved: a resume re-reads it from the same
            // folder, so its sub-flow paths resolve as they did.
            flowPath: flow.file.map { $0.hasPrefix("/") ? $0 : FileSystem.join(FileSystem.currentDirectory, $0) },
            flowHash: flow.sourceHash,
            input: runInput, status: "running", createdAt: started)
        do {
            if try await store.run(id: runID) != nil {
                guard resuming else {
                    // Its checkpoints would mix with this run's on a later resume.
                    storeFailure = StepError(code: "RUN_EXISTS", message: "the store already has a run '\(runID)'; resume it, or give this run another id")
                    return false
                }
                try await store.updateRun(id: runID, status: "running", result: nil, updatedAt: started)
            } else {
                try await store.putRun(record)
            }
            return true
        } catch {
            storeFailure = StepError(code: "STORE_ERROR", message: "could not record the run: \(error)")
            return false
        }
    }

    private func recordEnd(_ result: RunResult) async {
        guard let store = options.storage, storeFailure == nil else { return }
        if let pause = result.pause {
            try? await store.putPause(PauseRecord(runID: runID, resumeKey: pause.key, stepID: pause.step, value: pause.value, createdAt: result.endedAt))
        }
        try? await store.updateRun(id: runID, status: result.status.rawValue, result: result.json, updatedAt: result.endedAt)
    }

    /// Writes the checkpoints of steps that finished, then lets their readers go.
    private func writeCheckpoints() async {
        let finished = unwrittenCheckpoints
        unwrittenCheckpoints.removeAll()
        for (index, newState) in finished {
            if let store = options.storage, storeFailure == nil {
                do {
                    try await store.putCheckpoint(StepCheckpoint(
                        runID: runID, stepID: nestingPrefix + flow.steps[index].id,
                        status: newState == .succeeded ? StepStatus.success.rawValue : StepStatus.failed.rawValue,
                        input: inputs[index]?.json, output: outputs[index]?.json, error: errors[index]?.json,
                        attempts: Int(attempts[index]), startedAt: startedAt[index], endedAt: endedAt[index]))
                } catch {
                    storeFailure = StepError(code: "STORE_ERROR", message: "could not write the checkpoint of step '\(flow.steps[index].id)': \(error)")
                    beginStop(canceled: false)
                }
            }
            settle(index, as: newState)
        }
    }

    /// The cache key of a step's call: its route, the node's identity and version, and the
    /// SHA-256 of its input's canonical JSON.
    private func cacheKey(_ index: Int) -> String {
        let component = components[index]
        var identity = component.nodeID
        if case .native(let node) = component.executor { identity += "@" + node.info.version }
        return "step/v1|\(flow.steps[index].component)|\(identity)|\(ContentHash.sha256Hex(of: inputs[index]?.json ?? .null))"
    }

    /// Looks cacheable steps up: a hit completes the step without calling its node, a miss sends
    /// it back to run (and its result to the cache).
    private func lookUpCache() async {
        let lookups = cacheLookups
        cacheLookups.removeAll()
        for index in lookups {
            cacheChecked.insert(index)
            let key = cacheKey(index)
            cacheKeys[index] = key
            if let entry = try? await options.store?.cachedResult(key: key), !stopping {
                cacheHits.insert(index)
                state[index] = .running
                startedAt[index] = Date()
                events?.emit(.stepCached(step: flow.steps[index].id))
                complete(index, .success(Payload(json: entry.value)))
            } else {
                runnable.append(index)
            }
        }
    }

    /// Best effort: a result that cannot be cached is simply not reused later.
    private func putInCache() async {
        let puts = cachePuts
        cachePuts.removeAll()
        for put in puts { try? await options.storage?.putCachedResult(key: put.key, value: put.value) }
    }

    /// A resumed run: steps whose checkpoint says they succeeded keep their output and do not run.
    /// Going on after a pause, steps that failed (under `onError: continue`) stay failed too: the
    /// run is continuing, not retrying.
    private func applySeed() {
        for checkpoint in seed where checkpoint.status == StepStatus.failed.rawValue && continuesPausedRun {
            guard let index = flow.stepIndexes[checkpoint.stepID] else { continue }
            state[index] = .failed
            inputs[index] = checkpoint.input.map { Payload(json: $0) }
            errors[index] = checkpoint.error.flatMap(StepError.init(json:)) ?? StepError(code: "FAILED", message: "")
            attempts[index] = Int32(clamping: checkpoint.attempts)  // a store holds any Int
            startedAt[index] = checkpoint.startedAt
            endedAt[index] = checkpoint.endedAt
            continuedFailures.append(index)
        }
        for checkpoint in seed where checkpoint.status == StepStatus.success.rawValue {
            guard let index = flow.stepIndexes[checkpoint.stepID] else { continue }
            state[index] = .succeeded
            outputs[index] = Payload(json: checkpoint.output ?? .null)
            inputs[index] = checkpoint.input.map { Payload(json: $0) }
            errors[index] = checkpoint.error.flatMap(StepError.init(json:))
            attempts[index] = Int32(clamping: checkpoint.attempts)  // a store holds any Int
            startedAt[index] = checkpoint.startedAt
            endedAt[index] = checkpoint.endedAt
        }
        // A sub-flow step that finished before: its steps as their checkpoints recorded them.
        for (index, step) in flow.steps.enumerated() where state[index] == .succeeded || state[index] == .failed {
            if let subflow = step.subflow {
                childSteps[index] = Self.recordedSteps(of: subflow.flow, checkpoints: seed, prefix: step.id + ".")
            }
        }
    }

    /// The step results a finished sub-flow left in its checkpoints (`prefix` + step id).
    private static func recordedSteps(of flow: Flow, checkpoints: [StepCheckpoint], prefix: String) -> [StepResult] {
        let recorded = Dictionary(checkpoints.filter { $0.stepID.hasPrefix(prefix) }.map { ($0.stepID, $0) }, uniquingKeysWith: { _, last in last })
        return flow.steps.map { step in
            guard let checkpoint = recorded[prefix + step.id] else {
                return StepResult(
                    id: step.id, component: step.component, status: .skipped, input: nil, output: nil, error: nil,
                    skipReason: "did not run when the sub-flow ran (no checkpoint)", attempts: 0, startedAt: nil, endedAt: nil)
            }
            return StepResult(
                id: step.id, component: step.component, status: StepStatus(rawValue: checkpoint.status) ?? .failed,
                input: checkpoint.input, output: checkpoint.output, error: checkpoint.error.flatMap(StepError.init(json:)),
                skipReason: nil, attempts: checkpoint.attempts, startedAt: checkpoint.startedAt, endedAt: checkpoint.endedAt,
                steps: step.subflow.map { recordedSteps(of: $0.flow, checkpoints: checkpoints, prefix: prefix + step.id + ".") })
        }
    }

    // MARK: Result

    private func result(started: Date, duration: Duration) -> RunResult {
        var steps: [StepResult] = []
        steps.reserveCapacity(stepCount)
        for (index, step) in flow.steps.enumerated() {
            let status: StepStatus
            var reason = skipReasons[index]
            switch state[index] {
            case .succeeded: status = .success
            case .failed: status = .failed
            case .canceled, .running: status = .canceled
            case .skipped: status = .skipped
            case .paused: status = .paused
            case .idle, .waiting, .runnable:
                if demanded[index] {
                    status = .notRun
                } else {
                    status = .skipped
                    reason = branchSteps.contains(index)
                        ? "on a branch not taken"
                        : "not needed: no step that ran and not the output reads it"
                }
            }
            steps.append(StepResult(
                id: step.id, component: step.component, status: status,
                input: inputs[index]?.json, output: outputs[index]?.json, error: errors[index],
                skipReason: reason, attempts: Int(attempts[index]),
                cached: cacheHits.contains(index),
                startedAt: startedAt[index], endedAt: endedAt[index], steps: childSteps[index]))
        }
        let ended = Date()
        let runStatus: RunStatus
        var failure: RunFailure?
        var pause: RunPause?
        let mustExecuteDone = flow.steps.indices.allSatisfy { !flow.steps[$0].mustExecute || state[$0] == .succeeded }
        func failedStep(_ index: Int) -> FailedStep {
            FailedStep(
                id: flow.steps[index].id, component: flow.steps[index].component,
                code: errors[index]?.code ?? "FAILED", message: errors[index]?.message ?? "")
        }
        if let storeFailure {
            runStatus = .failed
            failure = RunFailure(code: storeFailure.code, message: storeFailure.message, steps: [])
        } else if !failedSteps.isEmpty || outputFailure != nil {
            runStatus = .failed
            let failed = failedSteps.map(failedStep)
            if let first = failed.first {
                failure = RunFailure(code: first.code, message: "step '\(first.id)' failed: \(first.message)", steps: failed)
            } else if let outputFailure {
                failure = RunFailure(code: outputFailure.code, message: outputFailure.message, steps: [])
            }
        } else if canceled {
            runStatus = .canceled
            failure = RunFailure(code: "CANCELED", message: "the run was canceled", steps: [])
        } else if let first = pausedSteps.min(by: { $0.index < $1.index }) {
            // Several steps may have paused; the first in the flow's order is asked now, the
            // others are called again on the resume and pause then, one at a time.
            runStatus = .paused
            pause = RunPause(key: first.request.key, step: first.request.key, value: first.request.value)
            if !continuedFailures.isEmpty {
                // Failures under `continue` so far; the run goes on when it is answered.
                let failed = continuedFailures.map(failedStep)
                failure = RunFailure(code: "STEPS_FAILED", message: "\(failed.count) step(s) failed under 'continue' (\(failed.map(\.id).joined(separator: ", "))); the run is paused", steps: failed)
            }
        } else if !continuedFailures.isEmpty {
            runStatus = .failed
            let failed = continuedFailures.map(failedStep)
            failure = RunFailure(
                code: "STEPS_FAILED",
                message: "\(failed.count) step(s) failed under 'continue' (\(failed.map(\.id).joined(separator: ", "))); independent steps ran to the end",
                steps: failed)
        } else if outputValue != nil && mustExecuteDone {
            runStatus = .success
        } else {
            runStatus = .failed
            failure = RunFailure(code: "INCOMPLETE", message: "the run ended before its output could be evaluated", steps: [])
        }
        // After `continue`, the output is whatever could be built (null where it reads skipped steps).
        let output = runStatus == .success || (!continuedFailures.isEmpty && failedSteps.isEmpty && !canceled) ? outputValue : nil
        return RunResult(
            runID: runID, status: runStatus, input: runInput, output: output, error: failure, steps: steps,
            startedAt: started, endedAt: ended, duration: duration, plan: nil, pause: pause)
    }
}

extension FlowRun {
    /// A dry run: the plan, and every step `notRun`.
    func dryRun() -> RunResult {
        let now = Date()
        let plan = RunPlan(flow: flow, components: components, input: runInput, variables: options.variables)
        var result = RunResult.invalid(flow: flow, input: runInput, options: options, error: StepError(code: "DRY_RUN", message: ""))
        result.runID = runID
        result.status = .success
        result.error = nil
        result.plan = plan
        result.startedAt = now
        result.endedAt = now
        return result
    }
}

extension FlowRun: EvaluationContext {
    func variable(_ name: String) -> JSON? { options.variables[name] }

    func stepValue(_ index: Int) throws(EvaluationError) -> StepAvailability {
        switch state[index] {
        case .succeeded: return .ready(outputs[index]!.json)
        case .failed: return .unavailable("it failed")
        case .canceled: return .unavailable("it was canceled")
        case .skipped: return .unavailable("it was skipped")
        default: return .pending
        }
    }
}

/// Decides, once, whether a pooled call finished or was abandoned first.
final class PooledCallState: Sendable {
    private let state = Atomic<UInt8>(0)  // 0 running, 1 finished, 2 abandoned

    /// Called by the pool thread after the plugin returned; false if the call had been abandoned.
    func finish() -> Bool { state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged }

    /// Called by the scheduler; false if the call had already finished.
    func abandon() -> Bool { state.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
