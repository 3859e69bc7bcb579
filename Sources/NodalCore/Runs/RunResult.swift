public import NodalJSON
public import FoundationEssentials

/// How a run ended.
public enum RunStatus: String, Sendable, Hashable {
    case success, failed, canceled
    /// Waiting for outside input: `RunResult.pause` says for what; `Engine.resume` goes on.
    case paused
}

/// How a step ended.
public enum StepStatus: String, Sendable, Hashable {
    /// The node ran and produced output (or its failure was replaced by `onError: useDefault`).
    case success
    /// The node failed.
    case failed
    /// The step was not needed: on a branch not taken, or nothing reads its output.
    case skipped
    /// The step was running when the run was canceled or failed.
    case canceled
    /// The step was needed but the run stopped before it could start.
    case notRun
    /// The step asked for outside input (an interrupt) and the run paused there.
    case paused
}

/// What a paused run waits for.
public struct RunPause: Sendable, Hashable {
    /// The key to resume with: the paused step's id, after the ids of the sub-flow steps it is
    /// nested in (`review.decision`).
    public var key: String
    /// The paused step, as a path of step ids (the same as `key`).
    public var step: String
    /// What the step shows to whoever answers.
    public var value: JSON

    var json: JSON { ["key": .string(key), "step": .string(step), "value": value] }
}

/// Everything known about one step after a run.
public struct StepResult: Sendable {
    public var id: String
    public var component: String
    public var status: StepStatus
    /// The input the node was called with, once its expressions were evaluated.
    public var input: JSON?
    public var output: JSON?
    public var error: StepError?
    /// Why a `skipped` step did not run.
    public var skipReason: String?
    /// Calls made, retries included (0 when the result came from the cache).
    public var attempts: Int
    /// The output came from the result cache (`cache: true` on the step).
    public var cached: Bool = false
    public var startedAt: Date?
    public var endedAt: Date?
    /// For a sub-flow step (`flow: FILE`): the sub-flow's steps.
    public var steps: [StepResult]? = nil
}

/// A step whose failure made the run fail.
public struct FailedStep: Sendable, Hashable {
    public var id: String
    public var component: String
    public var code: String
    public var message: String
}

/// Why a run did not succeed.
///
/// When a step failed the run (`onError: fail`, or retries ran out), `code`, `message` and
/// `details` are that step's own error, unchanged, as in Stepflow's flow result
/// (`{outcome: failed, error: {code, message, data}}`), and `step` names the step.
public struct RunFailure: Sendable {
    public var code: String
    public var message: String
    public var steps: [FailedStep]
    /// The step whose error this is: its id, after the ids of the sub-flow steps it is nested in
    /// (`review.decision`); nil when the run failed for another reason (canceled, the store, the
    /// output expression, several steps under `continue`).
    public var step: String? = nil
    /// The failed step's details (Stepflow's `data`), when it gave any.
    public var details: JSON? = nil
}

/// The result of a run. `Engine.run` returns one whether steps failed or not; it never throws.
public struct RunResult: Sendable {
    public var runID: String
    public var status: RunStatus
    public var input: JSON
    public var output: JSON?
    public var error: RunFailure?
    /// Every step of the flow, in the flow's order.
    public var steps: [StepResult]
    public var startedAt: Date
    public var endedAt: Date
    public var duration: Duration
    /// For a dry run: what the run would do.
    public var plan: RunPlan?
    /// For a paused run: the interrupt it waits for.
    public var pause: RunPause? = nil

    /// The step with this id; a dotted path (`review.decision`) reaches into sub-flow steps.
    public func step(_ id: String) -> StepResult? {
        if let step = steps.first(where: { $0.id == id }) { return step }
        var level = steps
        var found: StepResult?
        for part in id.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = level.first(where: { $0.id == part }) else { return nil }
            found = next
            level = next.steps ?? []
        }
        return found
    }

    /// The result as JSON: what `nodal run --format json` prints.
    public var json: JSON {
        var object: JSONObject = [
            "runId": .string(runID),
            "status": .string(status.rawValue),
            "input": input,
            "output": output ?? .null,
        ]
        if let error {
            var failure: JSONObject = ["code": .string(error.code), "message": .string(error.message)]
            if let details = error.details { failure["details"] = details }
            if let step = error.step { failure["step"] = .string(step) }
            failure["steps"] = .array(error.steps.map {
                ["id": .string($0.id), "component": .string($0.component), "code": .string($0.code), "message": .string($0.message)]
            })
            object["error"] = .object(failure)
        }
        object["startedAt"] = .string(startedAt.nodalTimestamp)
        object["endedAt"] = .string(endedAt.nodalTimestamp)
        object["durationMs"] = .double(duration.milliseconds)
        object["steps"] = .array(steps.map(\.json))
        if let plan { object["plan"] = plan.json }
        if let pause { object["pause"] = pause.json }
        return .object(object)
    }
}

extension StepResult {
    var json: JSON {
        var object: JSONObject = [
            "id": .string(id),
            "component": .string(component),
            "status": .string(status.rawValue),
            "attempts": .int(attempts),
        ]
        if let input { object["input"] = input }
        if let output { object["output"] = output }
        if let error { object["error"] = error.json }
        if let skipReason { object["skipReason"] = .string(skipReason) }
        if cached { object["cached"] = true }
        if let startedAt { object["startedAt"] = .string(startedAt.nodalTimestamp) }
        if let endedAt { object["endedAt"] = .string(endedAt.nodalTimestamp) }
        if let steps { object["steps"] = .array(steps.map(\.json)) }
        return .object(object)
    }
}

extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}

extension Date {
    /// ISO 8601 in UTC with milliseconds, e.g. 2026-11-21T01:46:01.123Z.
    var nodalTimestamp: String {
        formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

extension RunResult {
    /// The result of a run that could not start: its flow did not resolve.
    static func invalid(flow: Flow, input: JSON, options: RunOptions, error: any Error) -> RunResult {
        let now = Date()
        let code = error is PluginLoadError ? "PLUGIN_UNAVAILABLE" : "INVALID_FLOW"
        return RunResult(
            runID: options.runID ?? UUID().uuidString.lowercased(), status: .failed, input: input, output: nil,
            error: RunFailure(code: code, message: String(describing: error), steps: []),
            steps: flow.steps.map {
                StepResult(id: $0.id, component: $0.component, status: .notRun, input: nil, output: nil, error: nil, skipReason: nil, attempts: 0, startedAt: nil, endedAt: nil)
            },
            startedAt: now, endedAt: now, duration: .zero, plan: nil)
    }
}
