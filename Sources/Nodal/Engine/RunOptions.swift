/// How one run goes: its id, how much runs at once, its variables and how to cancel it.
public struct RunOptions: Sendable {
    /// The run's id; a new UUID when nil.
    public var runID: String?
    /// The most steps running at once on the pool or as async tasks. Non-blocking nodes and
    /// builtins run inline and do not count.
    public var maxConcurrency: Int
    /// Values for `{$variable: name}`.
    public var variables: [String: JSON]
    /// Raise it from any thread to cancel the run.
    public var cancellation: CancellationToken?

    public init(
        runID: String? = nil, maxConcurrency: Int = 64, variables: [String: JSON] = [:],
        cancellation: CancellationToken? = nil
    ) {
        self.runID = runID
        self.maxConcurrency = maxConcurrency
        self.variables = variables
        self.cancellation = cancellation
    }
}
