import FoundationEssentials

/// One run of a flow: the scheduler.
///
/// Demand-driven, as Stepflow's lazy evaluation needs: the output (and every `mustExecute` step)
/// is demanded first; a demanded step demands the steps its input reads, and starts once they
/// have finished. `$if` and `$coalesce` only demand the steps of the branch they take. All
/// bookkeeping is arrays indexed by step, so a run costs O(steps + edges).
///
/// Confined to the task that calls `execute()`; child tasks see only Sendable copies.
final class FlowRun {
    enum State: UInt8 {
        case idle, waiting, runnable, running, succeeded, failed, canceled
    }

    struct Completion: Sendable {
        var step: Int
        /// nil when this is a retry timer going off rather than a call finishing.
        var outcome: NodeOutcome?
    }

    let flow: Flow
    let components: [ResolvedComponent]
    let pool: BlockingCallPool
    let options: RunOptions
    let runID: String
    let runInput: JSON
    /// Raised when the run stops early (a failure or the caller's token), so plugins stop too.
    let cancellation: CancellationToken

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
    private var attempts: [Int32]
    private var startedAt: [Date?]
    private var endedAt: [Date?]

    private var demandQueue: [Int] = []
    private var runnable: [Int] = []
    private var runnableHead = 0
    private var inFlight = 0
    private var failedSteps: [Int] = []
    private var inputFailure: (step: Int?, error: StepError)?
    private var outputValue: JSON?
    private var stopping = false

    init(flow: Flow, components: [ResolvedComponent], pool: BlockingCallPool, input: JSON, options: RunOptions) {
        self.flow = flow
        self.components = components
        self.pool = pool
        self.options = options
        self.runID = options.runID ?? UUID().uuidString.lowercased()
        self.runInput = input
        self.cancellation = CancellationToken(parent: options.cancellation)
        stepCount = flow.steps.count
        let slots = stepCount + 1
        state = Array(repeating: .idle, count: slots)
        demanded = Array(repeating: false, count: slots)
        pendingCount = Array(repeating: 0, count: slots)
        waiters = Array(repeating: [], count: slots)
        outputs = Array(repeating: nil, count: stepCount)
        inputs = Array(repeating: nil, count: stepCount)
        errors = Array(repeating: nil, count: stepCount)
        attempts = Array(repeating: 0, count: stepCount)
        startedAt = Array(repeating: nil, count: stepCount)
        endedAt = Array(repeating: nil, count: stepCount)
    }

    func execute() async -> RunResult {
        let started = Date()
        let clockStart = ContinuousClock.now
        demand(outputIndex)
        for (index, step) in flow.steps.enumerated() where step.mustExecute { demand(index) }

        await withTaskGroup(of: Completion.self) { group in
            while true {
                processDemands()
                if startRunnable(group: &group) == .yielding {
                    // Long runs of inline nodes give the cooperative thread back now and then.
                    await Task.yield()
                    continue
                }
                if !demandQueue.isEmpty || (runnableHead < runnable.count && inFlight < options.maxConcurrency && !stopping) {
                    continue
                }
                if inFlight == 0 { break }
                if !stopping, options.cancellation?.isCancelled == true { stop() ; group.cancelAll() }
                guard let completion = await group.next() else { break }
                inFlight -= 1
                complete(completion)
                if stopping { group.cancelAll() }
            }
        }

        return result(started: started, duration: ContinuousClock.now - clockStart)
    }

    // MARK: Demand

    private func demand(_ index: Int) {
        guard !demanded[index] else { return }
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

    private lazy var outputEagerDependencies: [Int] = {
        var steps: [Int] = []
        flow.output.collectEagerSteps(into: &steps)
        return uniqued(steps)
    }()

    private func isSettled(_ index: Int) -> Bool {
        switch state[index] {
        case .succeeded, .failed, .canceled: true
        default: false
        }
    }

    /// Everything the input eagerly reads has settled: evaluate it, which either yields the input
    /// or names further steps a lazy branch needs.
    private func inputReady(_ index: Int) {
        let expression = index == outputIndex ? flow.output : flow.steps[index].input
        // Fast path: the input is another step's whole output; hand its bytes on untouched.
        if case .step(let source, _, let path) = expression, path.isRoot, state[source] == .succeeded, let payload = outputs[source] {
            markRunnable(index, input: payload)
            return
        }
        var context = self
        let evaluation: Evaluation
        do {
            evaluation = try expression.evaluate(in: &context)
        } catch {
            failInput(index, message: error.message)
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
            if waitingOn == 0 { inputReady(index) }
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
        let error = StepError(code: "INPUT_ERROR", message: message)
        if index == outputIndex {
            inputFailure = (nil, StepError(code: "OUTPUT_ERROR", message: "the flow's output cannot be evaluated: \(message)"))
            stop()
            return
        }
        errors[index] = error
        state[index] = .failed
        failedSteps.append(index)
        stop()
    }

    // MARK: Running steps

    enum StartOutcome { case done, yielding }

    /// Inline calls made before the scheduler yields its thread to other tasks.
    static let inlineBudget = 1024

    /// Starts what can start: inline nodes run to completion here, others are handed to the pool
    /// or to child tasks up to the concurrency cap.
    private func startRunnable(group: inout TaskGroup<Completion>) -> StartOutcome {
        var inlineCalls = 0
        for timer in retryTimers {
            inFlight += 1
            let (index, seconds) = timer
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return Completion(step: index, outcome: nil)
            }
        }
        retryTimers.removeAll()
        while runnableHead < runnable.count {
            if stopping { return .done }
            if inlineCalls >= Self.inlineBudget { return .yielding }
            let index = runnable[runnableHead]
            let component = components[index]
            if case .native(let node) = component.executor, node.runsInline {
                runnableHead += 1
                begin(index)
                let input = inputs[index]!.encodedBytes
                let outcome = node.serialGate.map { gate in
                    gate.runInline { node.call(input: input, stepID: flow.steps[index].id, cancellation: cancellation) }
                } ?? node.call(input: input, stepID: flow.steps[index].id, cancellation: cancellation)
                complete(Completion(step: index, outcome: outcome))
                processDemands()
                inlineCalls += 1
                continue
            }
            if case .inline(let body) = component.executor {
                runnableHead += 1
                begin(index)
                complete(Completion(step: index, outcome: body(inputs[index]!, nodeContext(index))))
                processDemands()
                inlineCalls += 1
                continue
            }
            guard inFlight < options.maxConcurrency else { return .done }
            runnableHead += 1
            begin(index)
            inFlight += 1
            let input = inputs[index]!
            let stepID = flow.steps[index].id
            switch component.executor {
            case .native(let node):
                let bytes = input.encodedBytes
                let pool = self.pool, token = cancellation
                group.addTask {
                    let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<NodeOutcome, Never>) in
                        let job: @Sendable () -> Void = {
                            continuation.resume(returning: node.call(input: bytes, stepID: stepID, cancellation: token))
                        }
                        if let gate = node.serialGate { gate.submit(job, on: pool) } else { pool.submit(job) }
                    }
                    return Completion(step: index, outcome: outcome)
                }
            case .async(let body):
                let context = nodeContext(index)
                let json = input.json
                group.addTask {
                    do {
                        let output = try await body(json, context)
                        return Completion(step: index, outcome: .success(Payload(json: output)))
                    } catch let error as StepError {
                        return Completion(step: index, outcome: .failure(error))
                    } catch is CancellationError {
                        return Completion(step: index, outcome: .canceled)
                    } catch {
                        return Completion(step: index, outcome: .failure(StepError(code: "NODE_FAILED", message: String(describing: error))))
                    }
                }
            case .inline:
                break
            }
        }
        if runnableHead > 4096 && runnableHead == runnable.count {
            runnable.removeAll(keepingCapacity: true)
            runnableHead = 0
        }
        return .done
    }

    private func nodeContext(_ index: Int) -> NodeContext {
        NodeContext(runID: runID, stepID: flow.steps[index].id, component: flow.steps[index].component)
    }

    private func begin(_ index: Int) {
        state[index] = .running
        attempts[index] += 1
        if startedAt[index] == nil { startedAt[index] = Date() }
    }

    private func complete(_ completion: Completion) {
        let index = completion.step
        guard let outcome = completion.outcome else {
            // A retry's wait is over.
            state[index] = .runnable
            runnable.append(index)
            return
        }
        switch outcome {
        case .success(let payload):
            outputs[index] = payload
            errors[index] = nil
            settle(index, as: .succeeded)
        case .canceled:
            errors[index] = StepError(code: "CANCELED", message: "the step was canceled")
            settle(index, as: .canceled)
        case .failure(let error):
            errors[index] = error
            switch flow.steps[index].onError {
            case .fail:
                failedSteps.append(index)
                stop()
                settle(index, as: .failed)
            case .useDefault(let value):
                outputs[index] = Payload(json: value)
                settle(index, as: .succeeded)
            case .retry(let policy):
                let retriesSoFar = Int(attempts[index]) - 1
                if retriesSoFar < policy.maxRetries && !stopping {
                    retry(index, after: policy.delay(beforeRetry: retriesSoFar + 1))
                } else {
                    failedSteps.append(index)
                    stop()
                    settle(index, as: .failed)
                }
            }
        }
    }

    private var retryTimers: [(step: Int, seconds: Double)] = []

    private func retry(_ index: Int, after seconds: Double) {
        if seconds <= 0 {
            state[index] = .runnable
            runnable.append(index)
        } else {
            state[index] = .waiting
            retryTimers.append((index, seconds))
        }
    }

    private func settle(_ index: Int, as newState: State) {
        state[index] = newState
        endedAt[index] = Date()
        let waiting = waiters[index]
        waiters[index] = []
        for waiter in waiting {
            let w = Int(waiter)
            pendingCount[w] -= 1
            if pendingCount[w] == 0 && !stopping { inputReady(w) }
        }
    }

    private func stop() {
        guard !stopping else { return }
        stopping = true
        cancellation.cancel()
    }

    // MARK: Result

    private func result(started: Date, duration: Duration) -> RunResult {
        var steps: [StepResult] = []
        steps.reserveCapacity(stepCount)
        for (index, step) in flow.steps.enumerated() {
            let status: StepStatus
            switch state[index] {
            case .succeeded: status = .success
            case .failed: status = .failed
            case .canceled: status = .canceled
            case .running: status = .canceled
            case .idle, .waiting, .runnable: status = demanded[index] ? .notRun : .skipped
            }
            steps.append(StepResult(
                id: step.id, component: step.component, status: status,
                input: inputs[index]?.json, output: outputs[index]?.json, error: errors[index],
                attempts: Int(attempts[index]), startedAt: startedAt[index], endedAt: endedAt[index]))
        }
        let ended = Date()
        let runStatus: RunStatus
        var failure: RunFailure?
        let mustExecuteDone = flow.steps.indices.allSatisfy { !flow.steps[$0].mustExecute || state[$0] == .succeeded }
        if !failedSteps.isEmpty || inputFailure != nil {
            runStatus = .failed
            let failed = failedSteps.map { index in
                FailedStep(
                    id: flow.steps[index].id, component: flow.steps[index].component,
                    code: errors[index]?.code ?? "FAILED", message: errors[index]?.message ?? "")
            }
            if let first = failed.first {
                failure = RunFailure(code: first.code, message: "step '\(first.id)' failed: \(first.message)", steps: failed)
            } else if let inputFailure {
                failure = RunFailure(code: inputFailure.error.code, message: inputFailure.error.message, steps: [])
            }
        } else if options.cancellation?.isCancelled == true && (outputValue == nil || !mustExecuteDone) {
            runStatus = .canceled
            failure = RunFailure(code: "CANCELED", message: "the run was canceled", steps: [])
        } else if outputValue != nil && mustExecuteDone {
            runStatus = .success
        } else {
            runStatus = .failed
            failure = RunFailure(code: "INCOMPLETE", message: "the run ended before its output could be evaluated", steps: [])
        }
        return RunResult(
            runID: runID, status: runStatus, input: runInput,
            output: runStatus == .success ? outputValue : nil, error: failure, steps: steps,
            startedAt: started, endedAt: ended, duration: duration)
    }
}

extension FlowRun: EvaluationContext {
    func variable(_ name: String) -> JSON? { options.variables[name] }

    func stepValue(_ index: Int) throws(EvaluationError) -> StepAvailability {
        switch state[index] {
        case .succeeded: return .ready(outputs[index]!.json)
        case .failed: return .unavailable("it failed")
        case .canceled: return .unavailable("it was canceled")
        default: return .pending
        }
    }
}
