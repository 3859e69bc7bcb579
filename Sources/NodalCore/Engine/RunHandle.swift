public import NodalJSON
import FoundationEssentials

/// A run started with `Engine.start`: its events as they happen, and its result when it ends.
public final class RunHandle: Sendable {
    public let runID: String
    /// Every event of the run, in order for each step; the sequence ends when the run does.
    public let events: AsyncStream<RunEvent>
    private let task: Task<RunResult, Never>

    init(runID: String, events: AsyncStream<RunEvent>, task: Task<RunResult, Never>) {
        self.runID = runID
        self.events = events
        self.task = task
    }

    /// The run's result (waits for the run to end).
    public var result: RunResult {
        get async { await task.value }
    }

    /// Cancels the run, as cancelling the task awaiting `Engine.run` would.
    public func cancel() { task.cancel() }
}

extension Engine {
    /// Starts a run and returns at once, with its events as an `AsyncSequence`.
    ///
    /// ```swift
    /// let handle = engine.start(flow, input: input)
    /// for await event in handle.events { print(event.json) }
    /// let result = await handle.result
    /// ```
    public func start(_ flow: Flow, input: JSON, options: RunOptions = RunOptions()) -> RunHandle {
        var options = withExtensions(options)
        let runID = options.runID ?? UUID().uuidString.lowercased()
        options.runID = runID
        let (events, sink) = AsyncStream.makeStream(of: RunEvent.self, bufferingPolicy: .unbounded)
        let task = Task { [self, options] in
            let components: [ResolvedComponent]
            do {
                components = try resolve(flow)
            } catch {
                sink.finish()
                return RunResult.invalid(flow: flow, input: input, options: options, error: error)
            }
            let result = await owningRun(flow, input: input, options: options) { options in
                let run = FlowRun(flow: flow, components: components, pool: pool, clock: clock, input: input, options: options, eventStream: sink)
                return await run.execute()
            }
            sink.finish()
            if result.status == .paused { await keepPausedRun(flow, result, inMemory: options.store == nil) }
            return result
        }
        return RunHandle(runID: runID, events: events, task: task)
    }
}
