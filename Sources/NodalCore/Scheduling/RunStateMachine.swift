import NodalJSON
/// The state of one run of a flow, without the means to run it.
///
/// Demand-driven, as Stepflow's lazy evaluation needs: the output (and every `mustExecute` step)
/// is demanded first; a demanded step demands the steps its input reads, and becomes runnable once
/// they have settled. `$if` and `$coalesce` only demand the steps of the branch they take.
///
/// It does no I/O, starts no task and reads no clock. The driver (`FlowRun`) tells it what
/// happened (a call finished, a timer is due, a checkpoint is written, the run was canceled) and
/// performs the actions it queues in answer (`nextAction()`): report a step's progress, write a
/// checkpoint, arm a timer, stop or abandon a call. What to start next it asks with `startNext()`,
/// so steps not yet started stay unstarted when the run stops. Bookkeeping is arrays indexed by
/// step, so a run costs O(steps + references).
struct RunStateMachine {
    enum State: UInt8 {
        case idle, waiting, runnable, running
        /// Has its outcome (`Slot.outcome`) but not its checkpoint yet: its readers wait.
        case recording
        case succeeded, failed, canceled, skipped
        /// Waiting for outside input (an interrupt); not settled, so its readers keep waiting.
        case paused

        var isSettled: Bool {
            switch self {
            case .succeeded, .failed, .canceled, .skipped: true
            default: false
            }
        }
    }

    /// How the driver runs a step's node: inline (on its own task, to completion, before anything
    /// else happens) or as a call in flight (the pool, a task), which counts against the cap.
    enum Execution: UInt8 {
        case inline, inFlight
    }

    /// A timer the machine asked for; the driver hands it back to `timerFired` when it is due.
    enum Timer: Sendable, Hashable {
        /// The wait before a step's next attempt is over.
        case retry(step: Int)
        /// A call has run for its step's timeout.
        case timeout(step: Int, generation: Int)
        /// A call told to stop after its timeout did not return within the grace period.
        case stepGrace(step: Int, generation: Int)
        /// Calls told to stop when the run stopped did not return within the grace period.
        case runGrace
    }

    /// What a step's observers hear; the driver turns these into events and timestamps.
    enum Report {
        case started(attempt: Int)
        case succeeded(attempt: Int)
        case failed(StepError)
        case retried(attempt: Int, delay: Duration, error: StepError)
        case skipped(reason: String)
        case cached
        case canceled
        case paused(PauseRequest)
    }

    enum Action {
        /// Call the step's node (its `report(.started)` comes just before). Inline steps are
        /// answered with `callFinished` before the driver asks for anything else; the others
        /// report back through `callFinished` or `subflowFinished` with this generation.
        case start(step: Int, generation: Int, execution: Execution)
        /// Look the step up in the cache; answer with `cacheLookedUp`.
        case lookUpCache(step: Int)
        /// Something observers hear of happened to a step.
        case report(step: Int, Report)
        /// Write the step's checkpoint; answer with `checkpointWritten` (or `storeFailed`).
        case writeCheckpoint(step: Int)
        /// Put the step's output in the cache, best effort (no answer).
        case putInCache(step: Int)
        /// Arm a timer; hand it to `timerFired` once `delay` has passed on the run's clock.
        case armTimer(Timer, delay: Duration)
        /// Tell one call to stop (its timeout passed); it may still answer.
        case stopCall(step: Int)
        /// Stop waiting for a call: its answer, if it ever comes, is dropped.
        case abandonCall(step: Int)
        /// The run is ending early: tell every call in flight to stop.
        case stopRun
    }

    struct Settings {
        var runInput: JSON
        var variables: [String: JSON] = [:]
        var maxConcurrency = 64
        var stepOverrides: [String: StepOverride] = [:]
        var gracePeriod: Duration = .milliseconds(500)
        /// The run has a store: finished steps are checkpointed before their readers start, and
        /// cacheable steps are looked up.
        var hasStore = false
        /// Steps answered by a resume (their interrupt's value), by step id: not looked up in the
        /// cache and not cached.
        var answeredSteps: Set<String> = []
    }

    /// Per step (and the output pseudo-step) bookkeeping.
    struct Slot {
        var state: State = .idle
        var demanded = false
        /// The state a `recording` step settles in once its checkpoint is written.
        var outcome: State = .idle
        /// Settled steps its input still waits for.
        var pending: Int32 = 0
        var attempts: Int32 = 0
        /// Bumped when a call is abandoned, so its late answer is recognised and dropped.
        var generation: Int32 = 0
        var timedOut = false
        var cacheChecked = false
        var cached = false
    }

    /// What a step produced.
    struct Record {
        var input: Payload?
        var output: Payload?
        var error: StepError?
        var skipReason: String?
    }

    let flow: Flow
    let settings: Settings
    private let execution: [Execution]
    let stepCount: Int
    /// Index of the output pseudo-step (evaluated like a step, never run).
    var outputIndex: Int { stepCount }

    private(set) var slots: [Slot]
    private(set) var records: [Record]
    private var waiters: [[Int32]]

    private var demandQueue: [Int] = []
    private var runnable: [Int] = []
    private var runnableHead = 0
    private var actions: [Action] = []
    private var actionHead = 0

    /// Calls in flight (not inline ones), against `maxConcurrency`.
    private(set) var inFlight = 0
    private var pendingRetries = 0
    /// Checkpoints and cache lookups asked for and not answered yet.
    private var unrecorded = 0
    private var lookups = 0
    private(set) var stopping = false
    private(set) var canceled = false
    /// Draining (`RunOptions.drain`): nothing new starts, calls in flight finish as usual.
    private(set) var draining = false
    /// Sub-flow steps whose run drained: canceled, not checkpointed, so a resume runs them again
    /// (their inner steps from their own checkpoints).
    private var drainedSubflows = 0
    private(set) var failedSteps: [Int] = []
    private(set) var continuedFailures: [Int] = []
    private(set) var outputValue: JSON?
    private(set) var outputFailure: StepError?
    private(set) var storeFailure: StepError?
    /// Steps that paused for outside input, in the order they paused.
    private(set) var pausedSteps: [(index: Int, request: PauseRequest)] = []
    /// The step results of sub-flow steps' runs.
    private(set) var childSteps: [Int: [StepResult]] = [:]

    init(flow: Flow, execution: [Execution], settings: Settings) {
        precondition(execution.count == flow.steps.count, "one execution per step")
        self.flow = flow
        self.execution = execution
        self.settings = settings
        stepCount = flow.steps.count
        slots = Array(repeating: Slot(), count: stepCount + 1)
        records = Array(repeating: Record(), count: stepCount)
        waiters = Array(repeating: [], count: stepCount + 1)
    }

    // MARK: Events

    /// Seeds a resumed run from its checkpoints: steps that succeeded keep their output and do not
    /// run. Going on after a pause, steps that failed (under `onError: continue`) stay failed too:
    /// the run is continuing, not retrying. Call it before `begin()`.
    mutating func seed(_ checkpoints: [StepCheckpoint], continuesPausedRun: Bool) {
        if continuesPausedRun {
            for checkpoint in checkpoints where checkpoint.status == StepStatus.failed.rawValue {
                guard let index = flow.stepIndexes[checkpoint.stepID] else { continue }
                slots[index].state = .failed
                slots[index].attempts = Int32(clamping: checkpoint.attempts)  // a store holds any Int
                records[index].input = checkpoint.input.map { Payload(json: $0) }
                records[index].error = checkpoint.error.flatMap(StepError.init(json:)) ?? StepError(code: "FAILED", message: "")
                continuedFailures.append(index)
            }
        }
        for checkpoint in checkpoints where checkpoint.status == StepStatus.success.rawValue {
            guard let index = flow.stepIndexes[checkpoint.stepID] else { continue }
            slots[index].state = .succeeded
            slots[index].attempts = Int32(clamping: checkpoint.attempts)  // a store holds any Int
            records[index].output = Payload(json: checkpoint.output ?? .null)
            records[index].input = checkpoint.input.map { Payload(json: $0) }
            records[index].error = checkpoint.error.flatMap(StepError.init(json:))
        }
        // A sub-flow step that finished before: its steps as their checkpoints recorded them.
        for (index, step) in flow.steps.enumerated() where slots[index].state == .succeeded || slots[index].state == .failed {
            if let subflow = step.subflow {
                childSteps[index] = RunResultBuilder.recordedSteps(of: subflow.flow, checkpoints: checkpoints, prefix: step.id + ".")
            }
        }
    }

    /// The run starts: the output and every `mustExecute` step are demanded.
    mutating func begin() {
        demand(outputIndex)
        for (index, step) in flow.steps.enumerated() where step.mustExecute { demand(index) }
        processDemands()
    }

    /// Queues the actions that start the next runnable step (or look it up in the cache first).
    /// False when nothing can start now: none is runnable, the cap is reached, or the run is
    /// stopping. Asked for one step at a time, so steps not started stay unstarted when the run
    /// stops meanwhile.
    mutating func startNext() -> Bool {
        while runnableHead < runnable.count {
            // Draining, runnable steps stay unstarted: `drained` counts them as work left.
            if stopping || draining { return false }
            let index = runnable[runnableHead]
            if flow.steps[index].cache, settings.hasStore, !slots[index].cacheChecked, !settings.answeredSteps.contains(flow.steps[index].id) {
                runnableHead += 1
                slots[index].cacheChecked = true
                lookups += 1
                actions.append(.lookUpCache(step: index))
                return true
            }
            let execution = execution[index]
            if execution == .inFlight {
                guard inFlight < settings.maxConcurrency else { return false }
                inFlight += 1
            }
            runnableHead += 1
            slots[index].state = .running
            slots[index].attempts += 1
            let generation = Int(slots[index].generation)
            actions.append(.report(step: index, .started(attempt: Int(slots[index].attempts))))
            actions.append(.start(step: index, generation: generation, execution: execution))
            if execution == .inFlight, let timeout = timeout(of: index) {
                actions.append(.armTimer(.timeout(step: index, generation: generation), delay: timeout))
            }
            return true
        }
        if runnableHead > 4096 {
            runnable.removeAll(keepingCapacity: true)
            runnableHead = 0
        }
        return false
    }

    /// The next action to perform, in the order they were decided.
    mutating func nextAction() -> Action? {
        guard actionHead < actions.count else {
            if actionHead > 0 {
                actions.removeAll(keepingCapacity: true)
                actionHead = 0
            }
            return nil
        }
        defer { actionHead += 1 }
        return actions[actionHead]
    }

    /// A step's call ended. An answer for another generation (a call that was abandoned) is dropped.
    mutating func callFinished(step index: Int, generation: Int, outcome: NodeOutcome) {
        guard generation == Int(slots[index].generation), slots[index].state == .running else { return }
        if execution[index] == .inFlight { inFlight -= 1 }
        var outcome = outcome
        if case .canceled = outcome, slots[index].timedOut { outcome = .failure(timeoutError(index)) }
        complete(index, outcome)
        processDemands()
    }

    /// A sub-flow step's run ended.
    mutating func subflowFinished(step index: Int, generation: Int, result: RunResult) {
        guard generation == Int(slots[index].generation), slots[index].state == .running else { return }
        inFlight -= 1
        childSteps[index] = result.steps
        if result.status == .canceled, result.error?.code == Self.drainedCode, !stopping, !slots[index].timedOut {
            // Its run stopped at a checkpoint of its own (the drain token is shared). The step
            // is not finished: canceled without a checkpoint, and its readers are not told, so
            // nothing reads it as missing and a resume runs it again from its inner checkpoints.
            drain()
            drainedSubflows += 1
            records[index].error = StepError(code: Self.drainedCode, message: Self.drainedMessage)
            slots[index].state = .canceled
            actions.append(.report(step: index, .canceled))
            return
        }
        complete(index, subflowOutcome(index, result))
        processDemands()
    }

    /// A cache lookup the machine asked for came back: a hit completes the step without calling
    /// its node, a miss sends it back to run (and its result to the cache).
    mutating func cacheLookedUp(step index: Int, hit: JSON?) {
        lookups -= 1
        if let hit, !stopping {
            slots[index].cached = true
            slots[index].state = .running
            actions.append(.report(step: index, .cached))
            complete(index, .success(Payload(json: hit)))
            processDemands()
        } else {
            runnable.append(index)
        }
    }

    /// A checkpoint the machine asked for is written: the step settles and its readers may start.
    mutating func checkpointWritten(step index: Int) {
        guard slots[index].state == .recording else { return }
        unrecorded -= 1
        settle(index, as: slots[index].outcome)
        processDemands()
    }

    /// The store failed (recording the run, or a checkpoint): the run fails and stops.
    mutating func storeFailed(_ error: StepError) {
        if storeFailure == nil { storeFailure = error }
        beginStop(canceled: false)
    }

    mutating func timerFired(_ timer: Timer) {
        switch timer {
        case .retry(let index):
            pendingRetries -= 1
            guard !stopping else { return }
            slots[index].state = .runnable
            runnable.append(index)
        case .timeout(let index, let generation):
            guard generation == Int(slots[index].generation), slots[index].state == .running else { return }
            slots[index].timedOut = true
            actions.append(.stopCall(step: index))
            actions.append(.armTimer(.stepGrace(step: index, generation: generation), delay: settings.gracePeriod))
        case .stepGrace(let index, let generation):
            guard generation == Int(slots[index].generation), slots[index].state == .running else { return }
            abandon(index)
            complete(index, .failure(timeoutError(index)))
            processDemands()
        case .runGrace:
            abandonCalls()
        }
    }

    /// The run was canceled (its token, or the awaiting task).
    mutating func cancel() {
        beginStop(canceled: true)
    }

    /// The engine is shutting down (`RunOptions.drain`): no step starts from now on, while calls
    /// in flight run to their end and are checkpointed as usual; retries waiting for their delay
    /// are not waited for. The run then ends as it would have (its last steps may have been
    /// running), or, with steps left that it did not start, canceled with `drainedCode`.
    mutating func drain() {
        draining = true
    }

    static let drainedCode = "DRAINED"
    static let drainedMessage = "the engine is shutting down; the run can be resumed"

    /// Whether draining left work undone: steps runnable but not started, retries not waited
    /// for, or sub-flow steps whose runs drained. A cancel or a failure says more, and wins.
    var drained: Bool {
        draining && !stopping && (runnableHead < runnable.count || pendingRetries > 0 || drainedSubflows > 0)
    }

    /// Stops waiting for every call in flight: each is recorded `canceled`.
    mutating func abandonCalls() {
        for index in 0..<stepCount where slots[index].state == .running && execution[index] == .inFlight {
            abandon(index)
            complete(index, .canceled)
        }
    }

    /// Nothing is left to do: no call in flight, no retry to wait for (unless stopping or
    /// draining), nothing startable (unless draining), no action unperformed and no checkpoint or
    /// lookup unanswered.
    var isFinished: Bool {
        guard actionHead == actions.count, demandQueue.isEmpty, unrecorded == 0, lookups == 0 else { return false }
        if !stopping, !draining, runnableHead < runnable.count, inFlight < settings.maxConcurrency { return false }
        return inFlight == 0 && (pendingRetries == 0 || stopping || draining)
    }

    // MARK: Demand

    private mutating func demand(_ index: Int) {
        // A step seeded by a resume has settled already: demanding it must not run it again.
        guard !slots[index].demanded, index == outputIndex || !slots[index].state.isSettled else { return }
        slots[index].demanded = true
        demandQueue.append(index)
    }

    private mutating func processDemands() {
        while let index = demandQueue.popLast() {
            guard !stopping else { demandQueue.removeAll(); return }
            let dependencies = index == outputIndex ? outputEagerDependencies : flow.steps[index].eagerDependencies
            wait(index, for: dependencies)
        }
    }

    /// Makes `index` wait for those of `dependencies` that have not settled (demanding them), or
    /// evaluates its input now when all have.
    private mutating func wait(_ index: Int, for dependencies: [Int]) {
        var waitingOn: Int32 = 0
        for dependency in dependencies where !slots[dependency].state.isSettled {
            demand(dependency)
            waiters[dependency].append(Int32(index))
            waitingOn += 1
        }
        if waitingOn == 0 {
            inputReady(index)
        } else {
            slots[index].state = .waiting
            slots[index].pending = waitingOn
        }
    }

    private var outputEagerDependencies: [Int] {
        var steps: [Int] = []
        flow.output.collectEagerSteps(into: &steps)
        return uniqued(steps)
    }

    /// Everything the input eagerly reads has settled: evaluate it, which either yields the input
    /// or names further steps a lazy branch needs.
    private mutating func inputReady(_ index: Int) {
        let isOutput = index == outputIndex
        let expression = isOutput ? flow.output : flow.steps[index].input
        // Fast path: the input is another step's whole output; hand its bytes on untouched.
        if case .step(let source, _, let path) = expression, path.isRoot, slots[source].state == .succeeded, let payload = records[source].output {
            markRunnable(index, input: payload)
            return
        }
        let evaluation: Evaluation
        do {
            evaluation = try expression.evaluate(in: &self, unavailableAsNull: isOutput)
        } catch {
            if let unavailable = error.unavailableStep, !isOutput {
                skip(index, reason: "it reads step '\(flow.steps[unavailable].id)', which has no output")
            } else {
                failInput(index, message: error.message)
            }
            return
        }
        switch evaluation {
        case .value(let value) where settings.hasStore && value.nestsDeeper(than: Limits.valueDepth):
            // A recorded run holds its values to the limit every parser keeps, so that the
            // records holding them (a checkpoint, the run's result) can be read back; an
            // expression may wrap a deep step output in more levels of its own.
            if isOutput {
                outputFailure = StepError(code: "INVALID_OUTPUT", message: "the flow's output \(Self.tooDeep)")
                beginStop(canceled: false)
            } else {
                failInput(index, message: "the input of step '\(flow.steps[index].id)' \(Self.tooDeep)")
            }
        case .value(let value):
            markRunnable(index, input: Payload(json: value))
        case .needs(let steps):
            wait(index, for: uniqued(steps))
        }
    }

    private mutating func markRunnable(_ index: Int, input: Payload) {
        if index == outputIndex {
            outputValue = input.json
            slots[index].state = .succeeded
            return
        }
        records[index].input = input
        slots[index].state = .runnable
        runnable.append(index)
    }

    private mutating func failInput(_ index: Int, message: String) {
        if index == outputIndex {
            outputFailure = StepError(code: "OUTPUT_ERROR", message: "the flow's output cannot be evaluated: \(message)")
            beginStop(canceled: false)
            return
        }
        let error = StepError(code: "INPUT_ERROR", message: message)
        records[index].error = error
        actions.append(.report(step: index, .failed(error)))
        failedSteps.append(index)
        beginStop(canceled: false)
        settle(index, as: .failed)
    }

    private mutating func skip(_ index: Int, reason: String) {
        records[index].skipReason = reason
        actions.append(.report(step: index, .skipped(reason: reason)))
        settle(index, as: .skipped)
    }

    // MARK: Completing steps

    static let tooDeep = "nests deeper than \(Limits.valueDepth) levels (arrays and objects), more than the run's store can record and read back"

    private mutating func complete(_ index: Int, _ outcome: NodeOutcome) {
        switch outcome {
        case .success(let payload) where settings.hasStore && payload.bytes == nil && payload.json.nestsDeeper(than: Limits.valueDepth):
            // Native outputs were parsed within the limit; Swift nodes, builtins and sub-flows
            // hand over values built in memory, which may be deeper than a store reads back.
            complete(index, .failure(StepError(code: "INVALID_OUTPUT", message: "the output of step '\(flow.steps[index].id)' \(Self.tooDeep)")))
        case .success(let payload):
            records[index].output = payload
            records[index].error = nil
            if slots[index].cacheChecked, !slots[index].cached { actions.append(.putInCache(step: index)) }
            actions.append(.report(step: index, .succeeded(attempt: Int(slots[index].attempts))))
            finish(index, as: .succeeded)
        case .canceled:
            records[index].error = StepError(code: "CANCELED", message: "the step was canceled")
            actions.append(.report(step: index, .canceled))
            finish(index, as: .canceled)
        case .paused(let request):
            // Not settled: the steps that read it wait, and the run ends `paused` once nothing
            // else can run. It is not checkpointed, so a resume calls it again with the answer.
            slots[index].state = .paused
            pausedSteps.append((index, request))
            actions.append(.report(step: index, .paused(request)))
        case .failure(let error):
            records[index].error = error
            if stopping {
                // The run is already ending; record what happened, decide nothing more.
                actions.append(.report(step: index, .failed(error)))
                finish(index, as: .failed)
                return
            }
            switch errorPolicy(of: index) {
            case .fail:
                fail(index, error)
            case .useDefault(let value):
                actions.append(.report(step: index, .failed(error)))
                records[index].output = Payload(json: value)
                finish(index, as: .succeeded)
            case .continue:
                actions.append(.report(step: index, .failed(error)))
                continuedFailures.append(index)
                finish(index, as: .failed)
            case .retry(let policy):
                let retriesSoFar = Int(slots[index].attempts) - 1
                guard retriesSoFar < policy.maxRetries else {
                    fail(index, error)
                    return
                }
                let delay = policy.delay(beforeRetry: retriesSoFar + 1)
                actions.append(.report(step: index, .retried(attempt: Int(slots[index].attempts), delay: delay, error: error)))
                slots[index].timedOut = false
                if delay <= .zero {
                    slots[index].state = .runnable
                    runnable.append(index)
                } else {
                    slots[index].state = .waiting
                    pendingRetries += 1
                    actions.append(.armTimer(.retry(step: index), delay: delay))
                }
            }
        }
    }

    /// The step failed for good: the run fails.
    private mutating func fail(_ index: Int, _ error: StepError) {
        actions.append(.report(step: index, .failed(error)))
        failedSteps.append(index)
        beginStop(canceled: false)
        finish(index, as: .failed)
    }

    /// A step has its outcome. With a store, a success or failure is checkpointed before anything
    /// that reads the step may start; the step is `recording` until then.
    private mutating func finish(_ index: Int, as newState: State) {
        guard settings.hasStore, newState == .succeeded || newState == .failed else {
            settle(index, as: newState)
            return
        }
        slots[index].state = .recording
        slots[index].outcome = newState
        unrecorded += 1
        actions.append(.writeCheckpoint(step: index))
    }

    private mutating func settle(_ index: Int, as newState: State) {
        slots[index].state = newState
        let waiting = waiters[index]
        waiters[index] = []
        for waiter in waiting {
            let w = Int(waiter)
            slots[w].pending -= 1
            if slots[w].pending == 0 && !stopping { inputReady(w) }
        }
    }

    /// Stops waiting for a call: its generation moves on, so a late answer is dropped.
    private mutating func abandon(_ index: Int) {
        slots[index].generation += 1
        inFlight -= 1
        actions.append(.abandonCall(step: index))
    }

    /// The run ends early: no new steps start, calls in flight are told to stop and, after the
    /// grace period, abandoned.
    private mutating func beginStop(canceled: Bool) {
        guard !stopping else { return }
        stopping = true
        self.canceled = canceled
        actions.append(.stopRun)
        if inFlight > 0 { actions.append(.armTimer(.runGrace, delay: settings.gracePeriod)) }
    }

    // MARK: Step settings

    func timeout(of index: Int) -> Duration? {
        let own = flow.steps[index].timeout.map(Duration.clampedSeconds)
        if settings.stepOverrides.isEmpty { return own }
        return settings.stepOverrides[flow.steps[index].id]?.timeout ?? own
    }

    func errorPolicy(of index: Int) -> ErrorPolicy {
        if settings.stepOverrides.isEmpty { return flow.steps[index].onError }
        return settings.stepOverrides[flow.steps[index].id]?.onError ?? flow.steps[index].onError
    }

    private func timeoutError(_ index: Int) -> StepError {
        let seconds = timeout(of: index)?.inSeconds ?? 0
        return StepError(code: "TIMEOUT", message: "step '\(flow.steps[index].id)' ran longer than its timeout of \(seconds)s")
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
            return slots[index].timedOut ? .failure(timeoutError(index)) : .canceled
        case .failed:
            // The inner failure as it is (code, message, details): the step's component names the
            // sub-flow file, and the run's failure names the inner step (`sub.bad`).
            let error = result.error
            return .failure(StepError(code: error?.code ?? "FAILED", message: error?.message ?? "", details: error?.details))
        }
    }
}

extension RunStateMachine: EvaluationContext {
    var runInput: JSON { settings.runInput }

    func variable(_ name: String) -> JSON? { settings.variables[name] }

    func stepValue(_ index: Int) throws(EvaluationError) -> StepAvailability {
        switch slots[index].state {
        case .succeeded: return .ready(records[index].output!.json)
        case .failed: return .unavailable("it failed")
        case .canceled: return .unavailable("it was canceled")
        case .skipped: return .unavailable("it was skipped")
        default: return .pending
        }
    }
}
