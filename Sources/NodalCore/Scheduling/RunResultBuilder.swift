import NodalJSON
import FoundationEssentials

/// When each step started and ended: the driver stamps them (the state machine reads no clock).
struct StepTimes {
    var startedAt: [Date?]
    var endedAt: [Date?]

    init(steps: Int) {
        startedAt = Array(repeating: nil, count: steps)
        endedAt = Array(repeating: nil, count: steps)
    }
}

/// Builds a run's `RunResult` from its state machine once the run has ended.
enum RunResultBuilder {
    static func result(
        of machine: RunStateMachine, times: StepTimes, runID: String, started: Date, ended: Date, duration: Duration
    ) -> RunResult {
        let flow = machine.flow
        var branchSteps: Set<Int>?
        var steps: [StepResult] = []
        steps.reserveCapacity(machine.stepCount)
        for (index, step) in flow.steps.enumerated() {
            let slot = machine.slots[index]
            let record = machine.records[index]
            let status: StepStatus
            var reason = record.skipReason
            switch slot.state {
            case .succeeded: status = .success
            case .failed: status = .failed
            case .canceled, .running, .recording: status = .canceled
            case .skipped: status = .skipped
            case .paused: status = .paused
            case .idle, .waiting, .runnable:
                if slot.demanded {
                    status = .notRun
                } else {
                    status = .skipped
                    if branchSteps == nil { branchSteps = Self.branchSteps(of: flow) }
                    reason = branchSteps!.contains(index)
                        ? "on a branch not taken"
                        : "not needed: no step that ran and not the output reads it"
                }
            }
            steps.append(StepResult(
                id: step.id, component: step.component, status: status,
                input: record.input?.json, output: record.output?.json, error: record.error,
                skipReason: reason, attempts: Int(slot.attempts),
                cached: slot.cached,
                startedAt: times.startedAt[index], endedAt: times.endedAt[index], steps: machine.childSteps[index]))
        }
        let runStatus: RunStatus
        var failure: RunFailure?
        var pause: RunPause?
        let mustExecuteDone = flow.steps.indices.allSatisfy { !flow.steps[$0].mustExecute || machine.slots[$0].state == .succeeded }
        func failedStep(_ index: Int) -> FailedStep {
            let error = machine.records[index].error
            return FailedStep(
                id: flow.steps[index].id, component: flow.steps[index].component,
                code: error?.code ?? "FAILED", message: error?.message ?? "")
        }
        let failedSteps = machine.failedSteps
        let continuedFailures = machine.continuedFailures
        if let storeFailure = machine.storeFailure {
            runStatus = .failed
            failure = RunFailure(code: storeFailure.code, message: storeFailure.message, steps: [])
        } else if !failedSteps.isEmpty || machine.outputFailure != nil {
            runStatus = .failed
            let failed = failedSteps.map(failedStep)
            if let first = failed.first {
                // The step's own error, unprefixed, as Stepflow's flow result holds it; the step
                // is named in `step` (and `steps`), and the CLI prints it beside the message.
                let index = failedSteps[0]
                failure = RunFailure(
                    code: first.code, message: first.message, steps: failed,
                    step: Self.failedStepPath(steps[index]), details: machine.records[index].error?.details)
            } else if let outputFailure = machine.outputFailure {
                failure = RunFailure(code: outputFailure.code, message: outputFailure.message, steps: [])
            }
        } else if machine.canceled {
            runStatus = .canceled
            failure = RunFailure(code: "CANCELED", message: "the run was canceled", steps: [])
        } else if machine.drained {
            runStatus = .canceled
            failure = RunFailure(code: RunStateMachine.drainedCode, message: RunStateMachine.drainedMessage, steps: [])
        } else if let first = machine.pausedSteps.min(by: { $0.index < $1.index }) {
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
        } else if machine.outputValue != nil && mustExecuteDone {
            runStatus = .success
        } else {
            runStatus = .failed
            failure = RunFailure(code: "INCOMPLETE", message: "the run ended before its output could be evaluated", steps: [])
        }
        // After `continue`, the output is whatever could be built (null where it reads skipped steps).
        let partial = !continuedFailures.isEmpty && failedSteps.isEmpty && !machine.canceled && !machine.drained
        let output = runStatus == .success || partial ? machine.outputValue : nil
        return RunResult(
            runID: runID, status: runStatus, input: machine.runInput, output: output, error: failure, steps: steps,
            startedAt: started, endedAt: ended, duration: duration, plan: nil, pause: pause)
    }

    /// The id of a failed step, followed into a failed sub-flow step down to the step that
    /// failed there (`review.decision`).
    static func failedStepPath(_ step: StepResult) -> String {
        guard let inner = step.steps?.first(where: { $0.status == .failed }) else { return step.id }
        return step.id + "." + failedStepPath(inner)
    }

    /// Steps referenced from inside `$if`/`$switch`/`$coalesce` branches, to explain why they
    /// did not run.
    static func branchSteps(of flow: Flow) -> Set<Int> {
        var steps: [Int] = []
        flow.output.collectBranchSteps(into: &steps)
        for step in flow.steps { step.input.collectBranchSteps(into: &steps) }
        return Set(steps)
    }

    /// The step results a finished sub-flow left in its checkpoints (`prefix` + step id).
    static func recordedSteps(of flow: Flow, checkpoints: [StepCheckpoint], prefix: String) -> [StepResult] {
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

    /// A dry run: the plan, and every step `notRun`.
    static func dryRun(flow: Flow, components: [ResolvedComponent], input: JSON, options: RunOptions, runID: String) -> RunResult {
        let now = Date()
        let plan = RunPlan(flow: flow, components: components, input: input, variables: options.variables)
        var result = RunResult.invalid(flow: flow, input: input, options: options, error: StepError(code: "DRY_RUN", message: ""))
        result.runID = runID
        result.status = .success
        result.error = nil
        result.plan = plan
        result.startedAt = now
        result.endedAt = now
        return result
    }
}
