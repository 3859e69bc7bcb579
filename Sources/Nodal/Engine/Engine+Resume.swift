/// Why a run could not be resumed (not a step failure: those come back in the `RunResult`).
public struct ResumeError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case notFound, noFlowFile, flowChanged, alreadySucceeded, flow }
    public var kind: Kind
    public var message: String
    public var description: String { message }
}

extension Engine {
    /// Goes on with a run recorded in `store`: steps whose checkpoint says they succeeded keep
    /// their output and are not run again; the rest run as if the run had not stopped. Works for
    /// runs that failed, were canceled, or whose process was killed.
    ///
    /// The flow is read again from the file the run was started from. If that file changed since
    /// (its SHA-256 differs), the resume is refused unless `allowChangedFlow` is set.
    public func resume(
        runID: String, store: any RunStore, options: RunOptions = RunOptions(), allowChangedFlow: Bool = false
    ) async throws -> RunResult {
        guard let record = try await store.run(id: runID) else {
            throw ResumeError(kind: .notFound, message: "no run '\(runID)' in the store")
        }
        if record.status == RunStatus.success.rawValue {
            throw ResumeError(kind: .alreadySucceeded, message: "run '\(runID)' already succeeded; there is nothing to resume")
        }
        guard let path = record.flowPath else {
            throw ResumeError(kind: .noFlowFile, message: "run '\(runID)' was not started from a flow file, so it cannot be read again to resume")
        }
        let flow: Flow
        do { flow = try Flow(contentsOfFile: path) } catch {
            throw ResumeError(kind: .flow, message: "cannot resume run '\(runID)': \(error)")
        }
        if let recorded = record.flowHash, recorded != flow.sourceHash, !allowChangedFlow {
            throw ResumeError(kind: .flowChanged, message: "the flow \(path) changed since run '\(runID)' started; resuming could mix two versions of it (allow it explicitly to go on anyway)")
        }
        let checkpoints = try await store.checkpoints(runID: runID)
        var options = options
        options.runID = runID
        options.store = store
        let components: [ResolvedComponent]
        do {
            components = try resolve(flow)
        } catch {
            return RunResult.invalid(flow: flow, input: record.input, options: options, error: error)
        }
        let run = FlowRun(flow: flow, components: components, pool: pool, input: record.input, options: options, seed: checkpoints)
        return await run.execute()
    }
}
