public import NodalJSON
public import FoundationEssentials

/// A state change of a run, as callbacks and `RunHandle.events` deliver it. For one step, events
/// arrive in the order they happened.
public struct RunEvent: Sendable {
    public var runID: String
    public var time: Date
    public var kind: Kind

    public enum Kind: Sendable {
        case runStarted(steps: Int)
        case runSucceeded
        case runFailed(code: String, message: String)
        case runCanceled
        /// The run stopped to wait for a value for `key` (resume it with one).
        case runPaused(key: String, value: JSON)
        case stepStarted(step: String, attempt: Int)
        /// `output` is the step's output; `duration` runs from the step's first start to its end
        /// (retries and their waits included), as the step's result times it.
        case stepSucceeded(step: String, attempt: Int, output: JSON, duration: Duration)
        case stepFailed(step: String, error: StepError)
        /// The step failed and will be tried again after `delay` seconds.
        case stepRetried(step: String, attempt: Int, delay: Duration, error: StepError)
        case stepSkipped(step: String, reason: String)
        /// The step's result came from the cache: the node was not called.
        case stepCached(step: String)
        case stepCanceled(step: String)
        /// The step asked for outside input, showing `value`; its answer comes back under `key`.
        case stepPaused(step: String, key: String, value: JSON)
        /// Reported by a plugin through the ABI's `report_progress` (fraction nil when unknown).
        case progress(step: String, fraction: Double?, message: String?)
        /// Written by a plugin through the ABI's `log`.
        case log(step: String, level: String, message: String)
    }

    /// The event as one JSON object, as `nodal run --events` prints it.
    public var json: JSON {
        var object: JSONObject = ["runId": .string(runID), "time": .string(time.nodalTimestamp)]
        func set(_ event: String, _ fields: JSONObject = [:]) {
            object["event"] = .string(event)
            for (key, value) in fields { object[key] = value }
        }
        switch kind {
        case .runStarted(let steps): set("run.started", ["steps": .int(steps)])
        case .runSucceeded: set("run.succeeded")
        case .runFailed(let code, let message): set("run.failed", ["code": .string(code), "message": .string(message)])
        case .runCanceled: set("run.canceled")
        case .runPaused(let key, let value): set("run.paused", ["key": .string(key), "value": value])
        case .stepStarted(let step, let attempt): set("step.started", ["step": .string(step), "attempt": .int(attempt)])
        case .stepSucceeded(let step, let attempt, let output, let duration):
            set("step.succeeded", ["step": .string(step), "attempt": .int(attempt), "durationMs": .double((duration.inSeconds * 1_000_000).rounded() / 1000), "output": output])
        case .stepFailed(let step, let error): set("step.failed", ["step": .string(step), "error": error.json])
        case .stepRetried(let step, let attempt, let delay, let error):
            set("step.retried", ["step": .string(step), "attempt": .int(attempt), "delaySeconds": .double(delay.inSeconds), "error": error.json])
        case .stepSkipped(let step, let reason): set("step.skipped", ["step": .string(step), "reason": .string(reason)])
        case .stepCached(let step): set("step.cached", ["step": .string(step)])
        case .stepCanceled(let step): set("step.canceled", ["step": .string(step)])
        case .stepPaused(let step, let key, let value): set("step.paused", ["step": .string(step), "key": .string(key), "value": value])
        case .progress(let step, let fraction, let message):
            set("step.progress", ["step": .string(step), "fraction": fraction.map(JSON.double) ?? .null, "message": message.map(JSON.string) ?? .null])
        case .log(let step, let level, let message):
            set("step.log", ["step": .string(step), "level": .string(level), "message": .string(message)])
        }
        return .object(object)
    }
}

extension RunEvent.Kind {
    func prefixingStep(_ prefix: String) -> Self {
        switch self {
        case .runStarted, .runSucceeded, .runFailed, .runCanceled, .runPaused: self
        case .stepStarted(let step, let attempt): .stepStarted(step: prefix + step, attempt: attempt)
        case .stepSucceeded(let step, let attempt, let output, let duration):
            .stepSucceeded(step: prefix + step, attempt: attempt, output: output, duration: duration)
        case .stepFailed(let step, let error): .stepFailed(step: prefix + step, error: error)
        case .stepRetried(let step, let attempt, let delay, let error): .stepRetried(step: prefix + step, attempt: attempt, delay: delay, error: error)
        case .stepSkipped(let step, let reason): .stepSkipped(step: prefix + step, reason: reason)
        case .stepCached(let step): .stepCached(step: prefix + step)
        case .stepCanceled(let step): .stepCanceled(step: prefix + step)
        case .stepPaused(let step, let key, let value): .stepPaused(step: prefix + step, key: key, value: value)
        case .progress(let step, let fraction, let message): .progress(step: prefix + step, fraction: fraction, message: message)
        case .log(let step, let level, let message): .log(step: prefix + step, level: level, message: message)
        }
    }
}

/// Where a run's events go: the callback in `RunOptions` and, for `Engine.start`, the handle's
/// stream. Called from the scheduler and, for progress and log lines, from plugin threads.
package final class EventSink: Sendable {
    let runID: String
    private let callback: (@Sendable (RunEvent) -> Void)?
    private let stream: AsyncStream<RunEvent>.Continuation?
    /// For a sub-flow's steps: the ids of the steps they are nested in, dotted (`review.`).
    private let stepPrefix: String

    package init?(runID: String, callback: (@Sendable (RunEvent) -> Void)?, stream: AsyncStream<RunEvent>.Continuation?) {
        if callback == nil && stream == nil { return nil }
        self.runID = runID
        self.callback = callback
        self.stream = stream
        stepPrefix = ""
    }

    private init(_ parent: EventSink, prefix: String) {
        runID = parent.runID
        callback = parent.callback
        stream = parent.stream
        stepPrefix = parent.stepPrefix + prefix
    }

    /// The sink for a sub-flow step's run: the same listeners, step ids under the step's.
    func nested(prefix: String) -> EventSink { EventSink(self, prefix: prefix) }

    func emit(_ kind: RunEvent.Kind) {
        let event = RunEvent(runID: runID, time: Date(), kind: stepPrefix.isEmpty ? kind : kind.prefixingStep(stepPrefix))
        callback?(event)
        stream?.yield(event)
    }

    func finish() { stream?.finish() }
}
