package import NodalJSON
import Synchronization

/// One run's events in the order they happened, each with a sequence number, the most recent
/// `capacity` of them kept; subscribers get the kept events after the one they last saw, then live
/// ones as they are appended, until the journal is finished (the run ended).
///
/// A subscriber that falls `bufferLimit` events behind is let go: its stream ends early, and the
/// client reconnects with the last id it saw (`Last-Event-ID`) to read on from the journal. So a
/// slow reader costs bounded memory, and the run never waits for it.
package final class EventJournal: Sendable {
    /// The sequence number of the first event; later ones count up from it.
    package let firstSequence: UInt64
    package let capacity: Int
    package let bufferLimit: Int
    private let state: Mutex<State>

    private struct State {
        var events: [ServiceEvent] = []
        /// Index in `events` of the oldest kept event (a ring once `capacity` is reached).
        var head = 0
        var nextSequence: UInt64
        var finished = false
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 0
    }

    private struct Subscriber {
        var subscription: EventSubscription
        var continuation: AsyncStream<ServiceEvent>.Continuation
    }

    package init(firstSequence: UInt64 = 1, capacity: Int = 10_000, bufferLimit: Int = 256) {
        self.firstSequence = firstSequence
        self.capacity = max(1, capacity)
        self.bufferLimit = max(1, bufferLimit)
        state = Mutex(State(nextSequence: firstSequence))
    }

    /// Numbers the event, keeps it and hands it to every subscriber that wants it. `data` is a
    /// `StatusEvent` without its `sequenceNumber`, which is put first. Appending to a finished
    /// journal does nothing and returns nil.
    @discardableResult
    package func append(name: String, data: JSON) -> ServiceEvent? {
        let (event, letGo) = state.withLock { state -> (ServiceEvent?, [AsyncStream<ServiceEvent>.Continuation]) in
            guard !state.finished else { return (nil, []) }
            let sequence = state.nextSequence
            state.nextSequence += 1
            var object: JSONObject = ["sequenceNumber": .string(String(sequence))]
            if case .object(let fields) = data {
                for (key, value) in fields where key != "sequenceNumber" { object[key] = value }
            }
            let event = ServiceEvent(sequence: sequence, name: name, data: .object(object))
            if state.events.count < capacity {
                state.events.append(event)
            } else {
                state.events[state.head] = event
                state.head = (state.head + 1) % capacity
            }
            var letGo: [AsyncStream<ServiceEvent>.Continuation] = []
            // Made once for every subscriber that wants results left out, not once each.
            var withoutResults: ServiceEvent?
            for (key, subscriber) in state.subscribers {
                // A reader that reconnected with an id past this event's has seen it.
                if let after = subscriber.subscription.after, event.sequence <= after { continue }
                let shown: ServiceEvent
                if !subscriber.subscription.types.isEmpty && !subscriber.subscription.types.contains(Self.statusEventType(event.name)) {
                    continue
                } else if subscriber.subscription.includeResults {
                    shown = event
                } else {
                    if withoutResults == nil { withoutResults = Self.shown(event, to: subscriber.subscription) }
                    guard let stripped = withoutResults else { continue }
                    shown = stripped
                }
                switch subscriber.continuation.yield(shown) {
                case .enqueued: break
                case .dropped:
                    letGo.append(subscriber.continuation)
                    state.subscribers[key] = nil
                case .terminated:
                    state.subscribers[key] = nil
                @unknown default: break
                }
            }
            return (event, letGo)
        }
        // Outside the lock: finishing runs the stream's termination handler, which takes it.
        for continuation in letGo { continuation.finish() }
        return event
    }

    /// No more events: every subscriber's stream ends after what it has been given.
    package func finish() {
        let ended = state.withLock { state -> [Subscriber] in
            state.finished = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in ended { subscriber.continuation.finish() }
    }

    package var isFinished: Bool { state.withLock { $0.finished } }

    /// The kept events, oldest first.
    package var events: [ServiceEvent] {
        state.withLock { state in Array(state.events[state.head...] + state.events[..<state.head]) }
    }

    /// The kept events after `subscription.after` that it wants, then the live ones; the stream
    /// ends once the journal is finished (at once, after the kept ones, if it already is). When
    /// `after` is older than the oldest kept event, it starts at the oldest kept one.
    ///
    /// `onEnd` runs once the stream ends for any reason (finished, let go, its reader gone).
    package func subscribe(_ subscription: EventSubscription, onEnd: @escaping @Sendable () -> Void = {}) -> AsyncStream<ServiceEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ServiceEvent.self, bufferingPolicy: .bufferingOldest(bufferLimit))
        let key = state.withLock { state -> Int in
            defer { state.nextSubscriber += 1 }
            return state.nextSubscriber
        }
        // Set before anything is yielded or finished, so every way the stream ends runs it.
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: key) }
            onEnd()
        }
        // Finished outside the lock: finishing runs the termination handler, which takes it.
        let endsNow = state.withLock { state -> Bool in
            let kept = state.events[state.head...] + state.events[..<state.head]
            for event in kept where event.sequence > (subscription.after ?? 0) {
                guard let shown = Self.shown(event, to: subscription) else { continue }
                // More kept events than the buffer holds: the reader reconnects after the last
                // one it got.
                if case .dropped = continuation.yield(shown) { return true }
            }
            guard !state.finished else { return true }
            state.subscribers[key] = Subscriber(subscription: subscription, continuation: continuation)
            return false
        }
        if endsNow { continuation.finish() }
        return stream
    }

    /// The event as `subscription` wants it: nil when its type is filtered out; without step and
    /// item results unless it asked for them.
    private static func shown(_ event: ServiceEvent, to subscription: EventSubscription) -> ServiceEvent? {
        if !subscription.types.isEmpty && !subscription.types.contains(statusEventType(event.name)) { return nil }
        guard !subscription.includeResults, case .object(var object) = event.data else { return event }
        for (key, value) in object {
            guard case .object(var payload) = value, payload["result"] != nil else { continue }
            payload["result"] = nil
            object[key] = .object(payload)
        }
        return ServiceEvent(sequence: event.sequence, name: event.name, data: .object(object))
    }

    /// `step_started` → `STATUS_EVENT_TYPE_STEP_STARTED`, the spec's `eventTypes` values.
    package static func statusEventType(_ name: String) -> String { "STATUS_EVENT_TYPE_" + name.uppercased() }
}
