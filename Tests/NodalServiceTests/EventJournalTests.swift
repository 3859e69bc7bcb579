import Synchronization
import NodalJSON
@testable import NodalService
import Testing

@Suite struct EventJournalTests {
    private func collect(_ stream: AsyncStream<ServiceEvent>) async -> [ServiceEvent] {
        var events: [ServiceEvent] = []
        for await event in stream { events.append(event) }
        return events
    }

    @Test func numbersEventsAndPutsTheSequenceFirst() {
        let journal = EventJournal(firstSequence: 100)
        let first = journal.append(name: "run_created", data: ["timestamp": "t", "runCreated": ["runId": "r"]])
        let second = journal.append(name: "run_completed", data: ["runCompleted": ["runId": "r"]])
        #expect(first?.sequence == 100)
        #expect(second?.sequence == 101)
        #expect(first?.data == ["sequenceNumber": "100", "timestamp": "t", "runCreated": ["runId": "r"]])
        #expect(first?.data.objectValue?.keys.first == "sequenceNumber")
    }

    @Test func reconnectingAfterAnIdGetsOnlyLaterEvents() async {
        let journal = EventJournal()
        for index in 0..<5 { journal.append(name: "step_started", data: ["stepStarted": ["stepIndex": .int(index)]]) }
        journal.finish()
        let events = await collect(journal.subscribe(EventSubscription(after: 3)))
        #expect(events.map(\.sequence) == [4, 5])
    }

    @Test func liveEventsFollowTheKeptOnesAndTheStreamEndsWithTheJournal() async {
        let journal = EventJournal()
        journal.append(name: "run_created", data: [:])
        let stream = journal.subscribe(EventSubscription())
        journal.append(name: "step_started", data: [:])
        journal.finish()
        #expect(journal.append(name: "late", data: [:]) == nil)
        let events = await collect(stream)
        #expect(events.map(\.name) == ["run_created", "step_started"])
    }

    @Test func filtersByTypeAndStripsResultsUnlessAsked() async {
        let journal = EventJournal()
        journal.append(name: "step_started", data: ["stepStarted": ["stepId": "a"]])
        journal.append(name: "step_completed", data: ["stepCompleted": ["stepId": "a", "result": 42]])
        journal.finish()
        let completed = await collect(journal.subscribe(EventSubscription(types: ["STATUS_EVENT_TYPE_STEP_COMPLETED"])))
        #expect(completed.map(\.name) == ["step_completed"])
        #expect(completed.first?.data["stepCompleted"] == ["stepId": "a"])
        let withResults = await collect(journal.subscribe(EventSubscription(types: ["STATUS_EVENT_TYPE_STEP_COMPLETED"], includeResults: true)))
        #expect(withResults.first?.data["stepCompleted"]?["result"] == 42)
    }

    @Test func keepsOnlyTheMostRecentEventsAndStartsAtTheOldestKept() async {
        let journal = EventJournal(capacity: 3)
        for _ in 0..<7 { journal.append(name: "e", data: [:]) }
        journal.finish()
        #expect(journal.events.map(\.sequence) == [5, 6, 7])
        let events = await collect(journal.subscribe(EventSubscription(after: 1)))
        #expect(events.map(\.sequence) == [5, 6, 7])
    }

    @Test func aReaderThatFallsBehindIsLetGoInsteadOfGrowingMemory() async {
        let journal = EventJournal(bufferLimit: 2)
        let stream = journal.subscribe(EventSubscription())
        for _ in 0..<5 { journal.append(name: "e", data: [:]) }
        // The stream ended after the two it could hold; the journal still has all five to replay.
        let events = await collect(stream)
        #expect(events.map(\.sequence) == [1, 2])
        journal.finish()
        // A replay is bounded by the same buffer: each reconnect reads on from where it stopped.
        let replay = await collect(journal.subscribe(EventSubscription(after: 2)))
        #expect(replay.map(\.sequence) == [3, 4])
        let rest = await collect(journal.subscribe(EventSubscription(after: 4)))
        #expect(rest.map(\.sequence) == [5])
    }

    /// `onEnd` runs once for every way a stream ends, so the service's count of open streams
    /// (`ServiceLimits.maxEventStreams`) comes back down.
    @Test func onEndRunsOnceHoweverTheStreamEnds() async {
        let ended = Mutex(0)
        let journal = EventJournal(bufferLimit: 2)
        // Let go for falling behind.
        let behind = journal.subscribe(EventSubscription()) { ended.withLock { $0 += 1 } }
        for _ in 0..<3 { journal.append(name: "e", data: [:]) }
        #expect(ended.withLock { $0 } == 1)
        _ = await collect(behind)
        // Dropped by its reader without reading.
        do { _ = journal.subscribe(EventSubscription(after: 3)) { ended.withLock { $0 += 1 } } }
        #expect(ended.withLock { $0 } == 2)
        // Ended with the journal.
        let live = journal.subscribe(EventSubscription(after: 3)) { ended.withLock { $0 += 1 } }
        journal.finish()
        _ = await collect(live)
        #expect(ended.withLock { $0 } == 3)
        // Subscribed after the end: ends at once.
        _ = await collect(journal.subscribe(EventSubscription()) { ended.withLock { $0 += 1 } })
        #expect(ended.withLock { $0 } == 4)
    }

    /// Hostile review: on a live run, `Last-Event-ID: 1000000` still got the next live events,
    /// all numbered below the id the reader sent. A reader is given only events after its id.
    @Test func aReaderPastTheLastEventGetsOnlyLaterOnes() async {
        let journal = EventJournal()
        journal.append(name: "e", data: [:])
        let ahead = journal.subscribe(EventSubscription(after: 3))
        for _ in 0..<4 { journal.append(name: "e", data: [:]) }
        journal.finish()
        #expect(await collect(ahead).map(\.sequence) == [4, 5])
    }

    /// One event goes to every stream of its run: its JSON text is made once and is the same text.
    @Test func anEventIsSerializedOnceForEveryCopy() {
        let event = ServiceEvent(sequence: 1, name: "e", data: ["b": 1, "a": [true]])
        let copy = event
        #expect(copy.serializedData == event.data.serialized())
        #expect(event.serializedData == copy.serializedData)
        var changed = event
        changed.data = ["c": 2]
        #expect(changed.serializedData == #"{"c":2}"#)
        #expect(event.serializedData != changed.serializedData)
    }
}
