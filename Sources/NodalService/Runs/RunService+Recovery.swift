import NodalCore
import NodalJSON
import FoundationEssentials
import Logging
import Synchronization

/// Picking up, at start, the runs a previous process left going: items that ended keep their
/// results, items that were going resume from their checkpoints, items not started start, and
/// paused runs wait for their answers again.
extension RunService {
    /// Recovers every run the store has as running or paused. Runs once per service.
    func recover() async {
        let first = state.withLock { state -> Bool in
            defer { state.recovered = true }
            return !state.recovered
        }
        guard first else { return }
        defer { recoveryFinished.signal() }
        // Queued runs need no recovery: the queue keeps them, and workers go on with them.
        guard queue == nil else { return }
        var records: [ServiceRunRecord] = []
        for status in [RunRecord.Status.running, .paused] {
            var offset = 0
            while true {
                let page: [ServiceRunRecord]
                do {
                    page = try await store.listServiceRuns(ServiceRunFilter(status: status, limit: 1000, offset: offset))
                } catch {
                    engine.logger.error("run service: could not list the runs to recover: \(error)")
                    break
                }
                records += page
                guard page.count == 1000 else { break }
                offset += page.count
            }
        }
        // Oldest first, as they were started.
        for record in records.reversed() where !isShuttingDown {
            await recover(record)
        }
    }

    private func recover(_ record: ServiceRunRecord) async {
        guard liveRun(record.id) == nil else { return }
        if record.parentRunID != nil {
            // A sub-run's step did not end either: it runs again when its run resumes, and submits
            // the sub-run again. This one is left over.
            await markEnded(record, .canceled, because: "its parent's step is run again after the restart")
            return
        }
        guard var request = StoredRequest(json: record.request), request.items.count == record.itemCount else {
            await markEnded(record, .failed, because: "its stored request cannot be read")
            return
        }
        let flow: Flow
        let overrides: [String: StepOverride]
        do {
            flow = try await loadFlow(record.flowID, field: "flowId").flow
            overrides = try Self.overrides(request.overrides, for: flow)
        } catch {
            await markEnded(record, .failed, because: "its flow \(record.flowID) cannot be run: \(error.message)")
            return
        }
        do {
            // A run that was going has a journal of which nothing past its start is known: this
            // life's numbers start past every number the last one could have used.
            var firstSequence: UInt64? = nil
            if record.status == .running || request.lastSequence == nil {
                request.journalBase = request.journalBase.nextEpoch
                firstSequence = request.journalBase + 1
            }
            var renumbered = record
            renumbered.request = request.json
            let journal = try await rebuiltJournal(renumbered, firstSequence: firstSequence)
            let run = LiveRun(
                id: record.id, flowID: record.flowID, flow: flow, createdAt: record.createdAt, parentRunID: record.parentRunID,
                rootRunID: record.rootRunID, depth: record.depth, request: request, overrides: overrides, journal: journal)
            var resuming = Set<Int>()
            var items: [ItemView] = []
            for index in 0..<record.itemCount {
                let item = try await storedItem(record, index)
                items.append(item)
                if item.phase == .running { resuming.insert(index) }
            }
            // Finished items in the order they finished, so `byCompletion` reads as it did.
            for item in items.sorted(by: { ($0.outcome?.endedAt ?? .distantFuture, $0.index) < ($1.outcome?.endedAt ?? .distantFuture, $1.index) }) {
                run.restore(item.index, phase: item.phase, outcome: item.outcome, steps: item.liveSteps)
            }
            try await store.putServiceRun(run.record(lastSequence: request.lastSequence))
            add(run)
            if run.view.items.contains(where: { $0.phase == .pending }) {
                launch(run, resuming: resuming)
            } else {
                // Nothing to run: paused (or ended before its record said so) now.
                await settle(run)
            }
        } catch let error as ServiceError {
            await markEnded(record, .failed, because: error.message)
        } catch {
            await markEnded(record, .failed, because: "\(error)")
        }
    }

    /// Ends a run that cannot go on, keeping its items as they are.
    private func markEnded(_ record: ServiceRunRecord, _ status: RunRecord.Status, because reason: String) async {
        engine.logger.warning("run service: run \(record.id) is not resumed after the restart (\(status.rawValue)): \(reason)")
        do {
            try await store.updateServiceRun(id: record.id, status: status, counts: record.counts, completedAt: Date())
        } catch {
            engine.logger.error("run service: could not record that run \(record.id) ended: \(error)")
        }
    }
}
