import NodalCore
import NodalJSON
import FoundationEssentials
import Synchronization

/// `GET /runs/{id}/events`: the run's journal, then live events until the run ends.
extension RunService {
    public func events(runID: String, _ subscription: EventSubscription) async throws(ServiceError) -> AsyncStream<ServiceEvent> {
        let known = Set(["run_created", "step_started", "step_completed", "item_completed", "run_completed", "sub_run_created", "run_paused", "step_ready", "steps_needed"].map(EventJournal.statusEventType))
        for type in subscription.types.sorted() where !known.contains(type) && type != "STATUS_EVENT_TYPE_UNSPECIFIED" {
            throw .invalidField("eventTypes", "unknown event type \"\(RequestFields.shown(type))\" (known: \(known.sorted().joined(separator: ", ")))")
        }
        var subscription = subscription
        subscription.types.remove("STATUS_EVENT_TYPE_UNSPECIFIED")
        let journal: EventJournal
        switch try await findRun(runID) {
        case .live(let run):
            journal = run.journal
        case .stored(let record):
            journal = try await rebuiltJournal(record)
            journal.finish()
        }
        // Counted until the stream ends, however it ends (the run finished, the reader left or
        // fell too far behind).
        guard openEventStreams.add(1, ordering: .relaxed).newValue <= limits.maxEventStreams else {
            openEventStreams.subtract(1, ordering: .relaxed)
            throw ServiceError(
                status: 503, code: "TOO_MANY_EVENT_STREAMS",
                "\(limits.maxEventStreams) event streams are open already, the most this server serves at once; retry once some ended")
        }
        return journal.subscribe(subscription) { [weak self] in _ = self?.openEventStreams.subtract(1, ordering: .relaxed) }
    }

    /// Event streams open now (for tests and health).
    package var openEventStreamCount: Int { openEventStreams.load(ordering: .relaxed) }

    /// A run's journal as the store lets it be told again: `run_created`, then item by item a
    /// `step_completed` for each checkpoint and an `item_completed` (or `run_paused`) for each item
    /// that finished (or waits), then `run_completed` once the run ended. Numbered so that it ends
    /// at the number the live journal ended at (`StoredRequest.lastSequence`), so the numbers are
    /// the same every time it is rebuilt and a reconnect after the end gets nothing more.
    func rebuiltJournal(_ record: ServiceRunRecord, firstSequence: UInt64? = nil) async throws(ServiceError) -> EventJournal {
        var events: [(name: String, data: JSON)] = []
        events.append(("run_created", StatusEvents.runCreated(runID: record.id, flowID: record.flowID, itemCount: record.itemCount, at: record.createdAt)))
        let flow = try? await loadFlow(record.flowID, field: "flowId").flow
        var endedItems: [(Date, Int, ItemOutcome)] = []
        for index in 0..<record.itemCount {
            let item = try await storedItem(record, index)
            let checkpoints: [StepCheckpoint]
            do {
                checkpoints = try await store.checkpoints(runID: record.itemRunID(index))
            } catch {
                throw Self.storeFailed("read the checkpoints of item \(index) of run \(record.id)", error)
            }
            for checkpoint in checkpoints {
                let outer = String(checkpoint.stepID.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)[0])
                guard let stepIndex = flow?.stepIndexes[outer], checkpoint.status == "success" || checkpoint.status == "failed" else { continue }
                let error = checkpoint.error.map { (code: $0["code"]?.stringValue ?? "FAILED", message: $0["message"]?.stringValue ?? "") }
                events.append(("step_completed", StatusEvents.stepCompleted(
                    runID: record.id, itemIndex: index, stepIndex: stepIndex, stepID: checkpoint.stepID, status: checkpoint.status,
                    output: checkpoint.output, error: checkpoint.status == "failed" ? error : nil,
                    at: checkpoint.endedAt ?? record.createdAt)))
            }
            if let outcome = item.outcome, item.phase == .finished || item.phase == .paused {
                endedItems.append((outcome.endedAt, index, outcome))
            }
        }
        for (date, index, outcome) in endedItems.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            if outcome.status == .paused, let pause = outcome.pause {
                events.append(("run_paused", StatusEvents.runPaused(runID: record.id, itemIndex: index, pause: pause, at: date)))
            } else {
                events.append(("item_completed", StatusEvents.itemCompleted(runID: record.id, itemIndex: index, outcome, at: date)))
            }
        }
        if record.status != .running && record.status != .paused {
            events.append(("run_completed", StatusEvents.runCompleted(runID: record.id, status: record.status, at: record.completedAt ?? record.createdAt)))
        }
        let stored = StoredRequest(json: record.request)
        let first: UInt64
        if let firstSequence {
            first = firstSequence
        } else if let last = stored?.lastSequence, last >= UInt64(events.count) {
            first = last - UInt64(events.count) + 1
        } else {
            first = (stored?.journalBase ?? 0) + 1
        }
        let journal = EventJournal(firstSequence: first, capacity: limits.journalEventsPerRun, bufferLimit: limits.eventStreamBuffer)
        for event in events { journal.append(name: event.name, data: event.data) }
        return journal
    }
}
