/// How much one run service takes on. Every bound is checked where a request reaches it, and a
/// request past one is refused with an error naming the field (README: The run service, "Limits").
public struct ServiceLimits: Sendable, Hashable {
    /// Items in one run (`input` of `POST /runs`, `inputs` of `runs/submit`): 10,000.
    public var maxItemsPerRun: Int
    /// How long a `wait` lasts when the request gives no `timeoutSecs`: 300 s, Stepflow's default.
    public var defaultWait: Duration
    /// The longest `wait` a request may ask for: 3600 s (more is refused, naming `timeoutSecs`).
    public var maxWait: Duration
    /// Items of one run running at once when the request gives no `maxConcurrency`: 16.
    public var maxConcurrentItems: Int
    /// Runs not ended (running or paused, each held in memory) at once; past it a new run is
    /// refused with 503 `TOO_MANY_RUNS`: 1024.
    public var maxLiveRuns: Int
    /// Events kept in a run's journal (older ones are dropped; a client reconnecting past them
    /// starts at the oldest kept): 10,000.
    public var journalEventsPerRun: Int
    /// Finished runs kept in memory for fast reads (older ones are read back from the store): 256.
    public var finishedRunsKept: Int
    /// How long shutdown lets in-flight steps finish and checkpoint before it cancels them: 30 s.
    public var drainTimeout: Duration
    /// Event streams (`GET /runs/{id}/events`) open at once across the server; past it a new one
    /// is refused with 503 `TOO_MANY_EVENT_STREAMS`: 256.
    public var maxEventStreams: Int
    /// Events one stream may have waiting for its reader: 256. A reader further behind is let go
    /// (its stream ends) and reconnects with `Last-Event-ID`, so a reader that never reads holds
    /// at most this many events.
    public var eventStreamBuffer: Int

    public init(
        maxItemsPerRun: Int = 10_000, defaultWait: Duration = .seconds(300), maxWait: Duration = .seconds(3600),
        maxConcurrentItems: Int = 16, maxLiveRuns: Int = 1024, journalEventsPerRun: Int = 10_000,
        finishedRunsKept: Int = 256, drainTimeout: Duration = .seconds(30), maxEventStreams: Int = 256,
        eventStreamBuffer: Int = 256
    ) {
        self.maxEventStreams = max(1, maxEventStreams)
        self.eventStreamBuffer = max(1, eventStreamBuffer)
        self.maxItemsPerRun = max(1, maxItemsPerRun)
        self.defaultWait = max(.zero, defaultWait)
        self.maxWait = max(.zero, maxWait)
        self.maxConcurrentItems = max(1, maxConcurrentItems)
        self.maxLiveRuns = max(1, maxLiveRuns)
        self.journalEventsPerRun = max(1, journalEventsPerRun)
        self.finishedRunsKept = max(0, finishedRunsKept)
        self.drainTimeout = max(.zero, drainTimeout)
    }

    public static let `default` = ServiceLimits()
}
