import NodalJSON

/// What the builtins that run flows or keep blobs need from the engine that resolved them. The
/// engine conforms; builtins know nothing else of it, so the Engine folder depends on Builtins
/// and not the other way round.
protocol BuiltinHost: AnyObject, Sendable {
    /// The configuration flows given to `eval`, `map` and `iterate` are read with (its grants).
    var configuration: NodalConfig { get }
    /// What `sleep` waits on: the engine's clock (a test clock in tests).
    var clock: any Clock<Duration> { get }
    /// Where blobs of runs that have no store live.
    var memoryStore: InMemoryRunStore { get }
    /// Resolves every component of a flow given at run time, as at validation.
    func validate(_ flow: Flow) throws
    /// One run of a flow (`eval`, `iterate`).
    func run(_ flow: Flow, input: JSON, options: RunOptions) async -> RunResult
    /// A batch over items (`map`).
    func runBatch(_ flow: Flow, inputs: [JSON], options: BatchOptions) async -> BatchResult
}
