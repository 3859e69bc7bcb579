import NodalCore
import Synchronization

/// The step checkpoints waiting to be committed, and who commits them: the group commit of the
/// SQLite store. `putCheckpoints` adds to the queue; one writer at a time commits everything
/// queued in one transaction, again and again until the queue is empty. Checkpoints are
/// committed in the order they were queued, so what the file holds is always a prefix of what
/// was written.
///
/// With ``SQLiteRunStore/Durability/grouped`` the caller returns once its checkpoints are queued
/// and a writer task commits them. Otherwise the caller waits for its own: the first to come
/// while no writer runs becomes the writer on its own thread (a chain's steps pay no thread hop),
/// and callers that come meanwhile (other runs' steps) wait and are committed together with what
/// else is queued by then.
///
/// A failed write is kept for its run (a batch that fails is written again one checkpoint at a
/// time, so one run's failure is not another's) and thrown by that run's next `add` or `flush`.
final class CheckpointQueue: Sendable {
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

    /// What `add` tells its caller: the sequence number of its last checkpoint, and whether it
    /// must be (or start) the writer.
    struct Ticket {
        let sequence: Int
        let mustWrite: Bool
    }

    /// Queues `checkpoints`. Throws a failure kept for one of their runs (and forgets it: the run
    /// is told once).
    func add(_ checkpoints: [StepCheckpoint]) throws(RunStoreError) -> Ticket {
        try state.withLock { state throws(RunStoreError) in
            for checkpoint in checkpoints {
                if let failure = state.failures.removeValue(forKey: checkpoint.runID) { throw failure }
            }
            state.pending += checkpoints
            state.queued += checkpoints.count
            let mustWrite = !state.writing
            state.writing = true
            return Ticket(sequence: state.queued, mustWrite: mustWrite)
        }
    }

    /// For the writer: everything queued, or nil (and the writer stops) when nothing is. A run
    /// whose checkpoint failed gets no later one written: `skipped` of them are left out (the
    /// writer counts them as written, not committed), so the file keeps a prefix of that run's
    /// checkpoints, no step recorded past the one that is missing.
    func take() -> (batch: [StepCheckpoint], skipped: Int)? {
        state.withLock { state in
            guard !state.pending.isEmpty else {
                state.writing = false
                return nil
            }
            defer { state.pending.removeAll(keepingCapacity: true) }
            if state.failures.isEmpty { return (state.pending, 0) }
            let kept = state.pending.filter { state.failures[$0.runID] == nil }
            return (kept, state.pending.count - kept.count)
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

    /// Whether checkpoints up to `sequence` are written, and whether more are queued after them.
    func progress(through sequence: Int) -> (done: Bool, morePending: Bool) {
        state.withLock { ($0.written >= sequence, !$0.pending.isEmpty) }
    }

    /// Waits until the checkpoints up to `sequence` (default: every one queued before this call)
    /// are committed or failed. Then, with `runID`, throws the failure kept for that run.
    func flush(through sequence: Int? = nil, runID: String? = nil) async throws(RunStoreError) {
        let target = sequence ?? state.withLock { $0.queued }
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
