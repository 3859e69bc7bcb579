import FoundationEssentials
import Synchronization

/// Holds a run's lease while the run goes: claims it before the first step, renews it on a
/// heartbeat, and gives it up when the run ends (see `RunLease`).
///
/// Losing the lease (another process took the run after this one stalled past the expiry) raises
/// `token`, which the run was started with, so this process stops running steps another owner now
/// runs.
final class RunOwnership: LeaseConfirmation {
    let runID: String
    let store: any RunStorage
    let owner: LeaseOwner
    /// The run's cancellation: raised when the caller's token is, or when the lease is lost.
    let token: CancellationToken
    private let lost = Atomic<Bool>(false)
    private let heartbeat = Mutex<Task<Void, Never>?>(nil)
    private let callerHandler: (token: CancellationToken, key: Int)?
    let duration: Duration
    /// Until when the store holds the lease for this owner, as far as this owner last wrote it.
    private let heldUntil: Mutex<Date>

    enum Claim {
        case owned(RunOwnership)
        case heldBy(RunLease)
        case failed(any Error)
    }

    private init(runID: String, store: any RunStorage, owner: LeaseOwner, duration: Duration, heldUntil: Date, caller: CancellationToken?) {
        self.runID = runID
        self.store = store
        self.owner = owner
        self.duration = duration
        self.heldUntil = Mutex(heldUntil)
        let token = CancellationToken()
        self.token = token
        callerHandler = caller.map { caller in (caller, caller.onCancel { token.cancel() }) }
    }

    /// Claims `runID` in `store` and starts renewing the lease every third of `duration`.
    static func claim(
        runID: String, store: any RunStorage, owner: LeaseOwner, duration: Duration, clock: any Clock<Duration>,
        caller: CancellationToken?
    ) async -> Claim {
        let now = Date()
        do {
            switch try await store.claim(runID: runID, owner: owner, duration: duration, now: now) {
            case .heldBy(let holder): return .heldBy(holder)
            case .claimed: break
            }
        } catch {
            return .failed(error)
        }
        let ownership = RunOwnership(
            runID: runID, store: store, owner: owner, duration: duration, heldUntil: now.addingTimeInterval(duration.inSeconds),
            caller: caller)
        ownership.startHeartbeat(duration: duration, clock: clock)
        return .owned(ownership)
    }

    /// Whether the run stopped because another owner took it.
    var lostLease: Bool { lost.load(ordering: .acquiring) }

    private func startHeartbeat(duration: Duration, clock: any Clock<Duration>) {
        // A third of the lease, never so short the loop spins, never so long a clock traps.
        let interval = max(duration / 3, .milliseconds(100)).clampedForTimer
        let task = Task { [self] in
            while !Task.isCancelled {
                do { try await clock.sleep(for: interval) } catch { return }
                let renewed: Bool
                let expiry = Date().addingTimeInterval(duration.inSeconds)
                do {
                    renewed = try await store.renewLease(runID: runID, owner: owner.id, expiresAt: expiry)
                } catch {
                    // A store that fails now may answer at the next beat; the lease still has two
                    // thirds of its time.
                    continue
                }
                if !renewed {
                    markLost()
                    return
                }
                heldUntil.withLock { $0 = max($0, expiry) }
            }
        }
        heartbeat.withLock { $0 = task }
    }

    private func markLost() {
        lost.store(true, ordering: .releasing)
        token.cancel()
    }

    /// Whether this owner still holds the run, asked before writing to the run's record (a
    /// checkpoint, the run's end). While the lease has more than a third of its time left nobody
    /// else can have taken it, and the answer is yes without asking the store; past that (this
    /// process stalled, say, stopped with SIGSTOP, and its heartbeat has not run yet) the lease is
    /// renewed now, which fails if another owner took the run meanwhile. Losing it raises `token`.
    func confirm() async -> Bool {
        if lostLease { return false }
        let now = Date()
        let remaining = heldUntil.withLock { $0 }.timeIntervalSince(now)
        if remaining > duration.inSeconds / 3 { return true }
        let expiry = now.addingTimeInterval(duration.inSeconds)
        do {
            guard try await store.renewLease(runID: runID, owner: owner.id, expiresAt: expiry) else {
                markLost()
                return false
            }
        } catch {
            // The write that follows meets the same store and reports its error.
            return true
        }
        heldUntil.withLock { $0 = max($0, expiry) }
        return true
    }

    /// What a run that lost its lease reports: this process stopped, the run is another's now.
    func lostLeaseResult(_ result: RunResult) -> RunResult {
        guard lostLease else { return result }
        var result = result
        result.status = .failed
        result.output = nil
        let message = "run '\(runID)' was taken over by another process: this one held it past its lease (it stalled, or could not reach the store, for longer than \(duration.inSeconds)s), so it stopped running the run and left its record to the new owner"
        result.error = RunFailure(code: "LEASE_LOST", message: message, steps: [])
        return result
    }

    /// Stops the heartbeat and gives the run up (best effort: an unreleased lease expires).
    func release() async {
        heartbeat.withLock { $0?.cancel() }
        if let callerHandler { callerHandler.token.removeHandler(callerHandler.key) }
        try? await store.releaseLease(runID: runID, owner: owner.id)
    }
}

extension Engine {
    /// Runs `body` holding the run's lease when the run has a store: a run another process holds
    /// is refused (`RUN_OWNED`, naming the holder) instead of being run twice.
    func owningRun(
        _ flow: Flow, input: JSON, options: RunOptions, _ body: (RunOptions) async -> RunResult
    ) async -> RunResult {
        guard !options.dryRun, let storage = options.storage else { return await body(options) }
        var options = options
        let runID = options.runID ?? UUID().uuidString.lowercased()
        options.runID = runID
        switch await RunOwnership.claim(
            runID: runID, store: storage, owner: leaseOwner, duration: leaseDuration, clock: clock, caller: options.cancellation)
        {
        case .heldBy(let holder):
            return RunResult.refused(
                flow: flow, input: input, options: options, code: "RUN_OWNED",
                message: "run '\(runID)' is being run by another process: \(holder.holderDescription)")
        case .failed(let error):
            return RunResult.refused(
                flow: flow, input: input, options: options, code: "STORE_ERROR", message: "could not claim run '\(runID)': \(error)")
        case .owned(let ownership):
            options.cancellation = ownership.token
            options.ownership = ownership
            let result = await body(options)
            await ownership.release()
            return ownership.lostLeaseResult(result)
        }
    }
}

extension RunResult {
    /// A run that did not start: every step `notRun`, the run `failed` with `code`.
    static func refused(flow: Flow, input: JSON, options: RunOptions, code: String, message: String) -> RunResult {
        var result = RunResult.invalid(flow: flow, input: input, options: options, error: StepError(code: code, message: message))
        result.error = RunFailure(code: code, message: message, steps: [])
        return result
    }
}
