import NodalCore
import Synchronization

/// The queue of step checkpoints that ``SQLiteRunStore/Durability/grouped`` writes behind the run:
/// `putCheckpoints` adds to it and returns; one writer at a time commits everything queued in one
/// transaction, again and again until the queue is empty. Checkpoints are committed in the order
/// they were queued, so what the file holds is always a prefix of what was written.
///
/// A failed write is kept for its run (a batch that fails is written again one checkpoint at a
/// time, so one run's failure is not another's) and thrown by that run's next `add` or `flush`.
final class CheckpointWriteBehind: Sendable {
    private struct State {
        var pending: [StepCheckpoint] = []
        /// Whether a writer is running (it took, or will take, `pending`).
        var writing = false
        /// Sequence numbers: of the last checkpoint queued, and of the last one written (committed
        /// or failed).
        var queued = 0
        var written = 0
        var failures: [String: RunStoreError] = [:]
        var waiters: [(upTo: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    /// Queues `checkpoints`; true when the caller must start a writer. Throws a failure kept for
    /// one of their runs (and forgets it: the run is told once).
    func add(_ checkpoints: [StepCheckpoint]) throws(RunStoreError) -> Bool {
        try state.withLock { state throws(RunStoreError) in
            for checkpoint in checkpoints {
                if let failure = state.failures.removeValue(forKey: checkpoint.runID) { throw failure }
            }
            state.pending += checkpoints
            state.queued += checkpoints.count
            if state.writing { return false }
            state.writing = true
            return true
        }
    }

    /// For the writer: everything queued, or nil (and the writer stops) when nothing is.
    func take() -> [StepCheckpoint]? {
        state.withLock { state in
            guard !state.pending.isEmpty else {
                state.writing = false
                return nil
            }
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
    }

    /// For the writer: `count` checkpoints were written (or failed); wakes who waited for them.
    func wrote(_ count: Int, failures: [(runID: String, error: RunStoreError)]) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.written += count
            for failure in failures where state.failures[failure.runID] == nil { state.failures[failure.runID] = failure.error }
            let written = state.written
            let ready = state.waiters.filter { $0.upTo <= written }.map(\.continuation)
            state.waiters.removeAll { $0.upTo <= written }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Waits until every checkpoint queued before this call is committed (or failed). Then, with
    /// `runID`, throws the failure kept for that run.
    func flush(runID: String? = nil) async throws(RunStoreError) {
        let target = state.withLock { $0.queued }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.written >= target { return true }
                state.waiters.append((target, continuation))
                return false
            }
            if now { continuation.resume() }
        }
        guard let runID else { return }
        if let failure = state.withLock({ $0.failures.removeValue(forKey: runID) }) { throw failure }
    }

    /// Whether nothing is queued or being written (a flush would return at once).
    var isIdle: Bool { state.withLock { $0.written >= $0.queued } }
}
