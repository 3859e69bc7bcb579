/// Where a run service runs the items of its runs.
public enum RunExecution: Sendable, Hashable {
    /// In this process, as runs are started (every store).
    case inProcess
    /// On workers: items are recorded as queued work in the store, and any process running a
    /// `RunWorker` on the same store (`nodal worker`, `nodal serve --workers N`) claims and runs
    /// them. Needs a store that is a work queue (PostgreSQL).
    case queued
}
