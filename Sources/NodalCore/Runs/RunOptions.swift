public import NodalJSON
/// How one run goes: its id, how much runs at once, its variables, how to cancel and observe it.
public struct RunOptions: Sendable {
    /// The run's id; a new UUID when nil.
    public var runID: String?
    /// The most steps running at once on the pool or as async tasks. Non-blocking nodes and
    /// builtins run inline and do not count. Values below 1 count as 1.
    public var maxConcurrency: Int
    /// Values for `{$variable: name}`.
    public var variables: [String: JSON]
    /// Raise it from any thread to cancel the run (it may be shared by several runs).
    public var cancellation: CancellationToken?
    /// Raise it from any thread to stop the run at its next checkpoint, as a server shutting down
    /// does (it may be shared by every run of the engine). From then on no step starts; steps
    /// already running finish, and their checkpoints are written as usual. Then the run ends: as
    /// it would have if nothing was left to start, else `canceled` with error code `DRAINED`,
    /// and `Engine.resume` goes on from its checkpoints. A retry waiting for its delay is not
    /// waited for (the resume runs it again). A sub-flow step's run drains too, and the step is
    /// run again on the resume (its finished inner steps are not); the runs of `map`, `iterate`
    /// and `eval` steps are not drained: their steps finish. A call that never returns holds the
    /// drain up: raise `cancellation` to stop at once (it wins over a drain).
    public var drain: CancellationToken?
    /// Called for every event of the run, on the scheduler's or a plugin's thread: keep it quick.
    public var onEvent: (@Sendable (RunEvent) -> Void)?
    /// Changes to single steps for this run only, by step id.
    public var stepOverrides: [String: StepOverride]
    /// How long a call that was told to stop (timeout, cancellation, a failed run) may take to
    /// return before the run stops waiting for it. Measured, like retry waits and step timeouts,
    /// on the engine's clock (`Engine(clock:)`).
    public var gracePeriod: Duration
    /// Execute nothing: `run` returns at once with `RunResult.plan` describing what would run.
    public var dryRun: Bool
    /// Where the run is recorded: the run when it starts and ends, and each step's checkpoint
    /// when it finishes (before the steps that read it start), so `Engine.resume` can go on from
    /// there. Nil: nothing is recorded.
    public var store: (any RunStore)?
    /// Check outputs against their schemas too: each step's output against its node's output
    /// schema after the call (a mismatch fails the step with `INVALID_OUTPUT`, and `onError`
    /// applies), and the flow's output against the flow's output schema (a mismatch fails the run
    /// with `INVALID_OUTPUT`). Off by default: a node's input is always checked before its call,
    /// and the run's input before the run, but outputs are the nodes' own business unless asked.
    /// Sub-flow steps' runs inherit it; the runs `map`, `eval` and `iterate` start do not.
    public var strictOutputs: Bool
    /// False for runs that cannot be resumed step by step (map, iterate and eval runs, batch
    /// items): an interrupt in them fails its step with `INTERRUPT_NOT_ALLOWED`.
    var allowsInterrupts = true
    /// The lease this run holds in its store, when it has one: its checkpoints and its end are
    /// written only while the lease is still this run's (`LeaseConfirmation`, `RunOwnership`).
    var ownership: (any LeaseConfirmation)?
    /// The engine running the run, which the blobs and runs extensions of its native calls reach
    /// (set by the engine as the run starts).
    var extensionHost: (any ExtensionHost)?
    /// For an item of a sub-run: the run whose step submitted it (recorded with the run).
    var parentRunID: String?
    /// For an item of a sub-run: the root of the chain of parents (recorded with the run); the
    /// run's own id is its root when nil.
    var rootRunID: String?
    /// How many sub-runs deep the run is (0 for a run started from outside): submitting is
    /// refused past `Limits.nesting`.
    var subRunDepth = 0

    public init(
        runID: String? = nil, maxConcurrency: Int = 64, variables: [String: JSON] = [:],
        cancellation: CancellationToken? = nil, onEvent: (@Sendable (RunEvent) -> Void)? = nil,
        stepOverrides: [String: StepOverride] = [:], gracePeriod: Duration = .milliseconds(500),
        dryRun: Bool = false, store: (any RunStore)? = nil, strictOutputs: Bool = false, drain: CancellationToken? = nil
    ) {
        self.runID = runID
        self.maxConcurrency = maxConcurrency
        self.variables = variables
        self.cancellation = cancellation
        self.onEvent = onEvent
        self.stepOverrides = stepOverrides
        self.gracePeriod = gracePeriod
        self.dryRun = dryRun
        self.store = store
        self.strictOutputs = strictOutputs
        self.drain = drain
    }
}

extension RunOptions {
    /// For the runs a builtin makes (eval, iterate): recorded nowhere, and unable to pause.
    /// The options of a run an `eval`, `map` or `iterate` step makes: no interrupts, and outputs
    /// checked when the step's own run checks them.
    static func innerRun(id: String, of context: NodeContext) -> RunOptions {
        var options = RunOptions(runID: id)
        options.allowsInterrupts = false
        options.strictOutputs = context.strictOutputs
        return options
    }
}

/// A change to one step for one run: a different timeout or error policy.
public struct StepOverride: Sendable {
    /// How long a pooled or async call may run before it is told to stop.
    public var timeout: Duration?
    public var onError: ErrorPolicy?

    public init(timeout: Duration? = nil, onError: ErrorPolicy? = nil) {
        self.timeout = timeout
        self.onError = onError
    }
}
