public import NodalJSON

/// How `NodalClient.startRun` starts a run (the fields of `POST /runs` beside the inputs).
public struct RunStartOptions: Sendable {
    /// Step id to a JSON Merge Patch applied to that step (Stepflow's `overrides`).
    public var overrides: JSONObject?
    /// Values for the flow's `{$variable: NAME}`.
    public var variables: JSONObject?
    /// The most items run at once.
    public var maxConcurrency: Int?
    /// Have the server answer only once the run ended (or `timeout` passed): the reply then
    /// carries the results too (`RemoteRun.lastResults`).
    public var wait: Bool
    /// With `wait`: the most the server waits (whole seconds, rounded up; the server bounds it
    /// too). Nil: the server's default.
    public var timeout: Duration?

    public init(overrides: JSONObject? = nil, variables: JSONObject? = nil, maxConcurrency: Int? = nil, wait: Bool = false, timeout: Duration? = nil) {
        self.overrides = overrides
        self.variables = variables
        self.maxConcurrency = maxConcurrency
        self.wait = wait
        self.timeout = timeout
    }
}

extension Duration {
    /// Whole seconds, rounded up (a wait of 0.2 s is 1 s, not none).
    var wholeSecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        return max(0, seconds + (attoseconds > 0 ? 1 : 0))
    }
}
