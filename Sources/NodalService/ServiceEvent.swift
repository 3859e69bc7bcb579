public import NodalJSON
import Synchronization

/// One entry of a run's event journal, as `GET /runs/{runId}/events` sends it: the SSE `id` is
/// `sequence`, the SSE `event` is `name` (`run_created`, `step_started`, ...), and the SSE `data`
/// is `data`, a Stepflow `StatusEvent` (`sequenceNumber`, `timestamp` and one of `runCreated`,
/// `stepStarted`, `stepCompleted`, `itemCompleted`, `runCompleted`, ...).
public struct ServiceEvent: Sendable, Hashable {
    /// Increases through a run's journal; a client that reconnects with the last one it saw
    /// (`Last-Event-ID`, or `since`) gets the events after it.
    public var sequence: UInt64
    public var name: String
    public var data: JSON {
        didSet { serialization = SerializedData() }
    }
    /// `data` as JSON text, made by the first reader that asks and shared by every copy of this
    /// event: one event goes to every stream of its run, which would each serialize it again.
    private var serialization = SerializedData()

    public init(sequence: UInt64, name: String, data: JSON) {
        self.sequence = sequence
        self.name = name
        self.data = data
    }

    /// `data.serialized()`, computed once for all copies of the event.
    public var serializedData: String { serialization.text(of: data) }

    public static func == (left: ServiceEvent, right: ServiceEvent) -> Bool {
        left.sequence == right.sequence && left.name == right.name && left.data == right.data
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(sequence)
        hasher.combine(name)
        hasher.combine(data)
    }
}

/// The cache behind `ServiceEvent.serializedData`.
private final class SerializedData: Sendable {
    private let text = Mutex<String?>(nil)

    func text(of data: JSON) -> String {
        if let done = text.withLock({ $0 }) { return done }
        let made = data.serialized()
        text.withLock { $0 = made }
        return made
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
