public import NodalJSON

/// One entry of a run's event journal, as `GET /runs/{runId}/events` sends it: the SSE `id` is
/// `sequence`, the SSE `event` is `name` (`run_created`, `step_started`, ...), and the SSE `data`
/// is `data`, a Stepflow `StatusEvent` (`sequenceNumber`, `timestamp` and one of `runCreated`,
/// `stepStarted`, `stepCompleted`, `itemCompleted`, `runCompleted`, ...).
public struct ServiceEvent: Sendable, Hashable {
    /// Increases through a run's journal; a client that reconnects with the last one it saw
    /// (`Last-Event-ID`, or `since`) gets the events after it.
    public var sequence: UInt64
    public var name: String
    public var data: JSON

    public init(sequence: UInt64, name: String, data: JSON) {
        self.sequence = sequence
        self.name = name
        self.data = data
    }
}

/// Which events a subscriber wants: those after `after` (nil: from the start), of the given
/// `StatusEvent` types (`STATUS_EVENT_TYPE_*`; empty: all), with or without step and item results.
public struct EventSubscription: Sendable, Hashable {
    public var after: UInt64?
    public var types: Set<String>
    public var includeSubRuns: Bool
    public var includeResults: Bool

    public init(after: UInt64? = nil, types: Set<String> = [], includeSubRuns: Bool = false, includeResults: Bool = false) {
        self.after = after
        self.types = types
        self.includeSubRuns = includeSubRuns
        self.includeResults = includeResults
    }
}
