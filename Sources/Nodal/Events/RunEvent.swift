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
        case stepStarted(step: String, attempt: Int)
        case stepSucceeded(step: String, attempt: Int)
        case stepFailed(step: String, error: StepError)
        /// The step failed and will be tried again after `delay` seconds.
        case stepRetried(step: String, attempt: Int, delay: Double, error: StepError)
        case stepSkipped(step: String, reason: String)
        /// The step's result came from the cache: the node was not called.
        case stepCached(step: String)
        case stepCanceled(step: String)
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
        case .stepStarted(let step, let attempt): set("step.started", ["step": .string(step), "attempt": .int(attempt)])
        case .stepSucceeded(let step, let attempt): set("step.succeeded", ["step": .string(step), "attempt": .int(attempt)])
        case .stepFailed(let step, let error): set("step.failed", ["step": .string(step), "error": error.json])
        case .stepRetried(let step, let attempt, let delay, let error):
            set("step.retried", ["step": .string(step), "attempt": .int(attempt), "delaySeconds": .double(delay), "error": error.json])
        case .stepSkipped(let step, let reason): set("step.skipped", ["step": .string(step), "reason": .string(reason)])
        case .stepCached(let step): set("step.cached", ["step": .string(step)])
        case .stepCanceled(let step): set("step.canceled", ["step": .string(step)])
        case .progress(let step, let fraction, let message):
            set("step.progress", ["step": .string(step), "fraction": fraction.map(JSON.double) ?? .null, "message": message.map(JSON.string) ?? .null])
        case .log(let step, let level, let message):
            set("step.log", ["step": .string(step), "level": .string(level), "message": .string(message)])
        }
        return .object(object)
    }
}

/// Where a run's events go: the callback in `RunOptions` and, for `Engine.start`, the handle's
/// stream. Called from the scheduler and, for progress and log lines, from plugin threads.
final class EventSink: Sendable {
    let runID: String
    private let callback: (@Sendable (RunEvent) -> Void)?
    private let stream: AsyncStream<RunEvent>.Continuation?

    init?(runID: String, callback: (@Sendable (RunEvent) -> Void)?, stream: AsyncStream<RunEvent>.Continuation?) {
        if callback == nil && stream == nil { return nil }
        self.runID = runID
        self.callback = callback
        self.stream = stream
    }

    func emit(_ kind: RunEvent.Kind) {
        let event = RunEvent(runID: runID, time: Date(), kind: kind)
        callback?(event)
        stream?.yield(event)
    }

    func finish() { stream?.finish() }
}
