import NodalCore
public import NodalJSON
import FoundationEssentials

/// `GET /runs/{id}/items`, `/steps`, `/steps/{stepId}`, `/flow`: from memory while the run is
/// there, else from the store (the service record, each item's `RunRecord` and checkpoints).
extension RunService {
    public func items(runID: String, order: String?) async throws(ServiceError) -> JSON {
        let byCompletion: Bool
        switch order {
        case nil, "RESULT_ORDER_UNSPECIFIED"?, "RESULT_ORDER_BY_INDEX"?, "byIndex"?: byCompletion = false
        case "RESULT_ORDER_BY_COMPLETION"?, "byCompletion"?: byCompletion = true
        case let other?:
            throw .invalidField("resultOrder", "'resultOrder' must be RESULT_ORDER_BY_INDEX or RESULT_ORDER_BY_COMPLETION, not \"\(RequestFields.shown(other))\"")
        }
        let view = try await view(of: try await findRun(runID))
        return ["results": RunShapes.items(view, byCompletion: byCompletion)]
    }

    public func steps(runID: String, itemIndex: Int?) async throws(ServiceError) -> JSON {
        let view = try await view(of: try await findRun(runID))
        // Past the last item is no item's steps, an empty list, as Stepflow answers it.
        if let itemIndex, itemIndex < 0 {
            throw .invalidField("itemIndex", "'itemIndex' must be 0 or more, not \(itemIndex)")
        }
        let flow = try? await runFlowValue(view.header)
        return ["steps": RunShapes.steps(view, itemIndex: itemIndex, flow: flow)]
    }

    public func step(runID: String, stepID: String, itemIndex: Int?) async throws(ServiceError) -> JSON {
        let view = try await view(of: try await findRun(runID))
        let index: Int
        if let itemIndex {
            try Self.checkItem(itemIndex, of: view)
            index = itemIndex
        } else {
            guard view.items.count == 1 else {
                throw .invalidField("itemIndex", "run \(runID) has \(view.items.count) items: say which one with 'itemIndex'")
            }
            index = 0
        }
        let flow = try? await runFlowValue(view.header)
        if let step = view.items[index].steps.first(where: { $0.id == stepID }) {
            return ["step": RunShapes.stepStatus(step, itemIndex: index, flow: flow)]
        }
        // A step of the flow that has not run (yet): known, with no status.
        if let flow, let position = flow.stepIndexes[stepID] {
            let pending = StepOutcome(id: stepID, component: flow.steps[position].component, status: "pending")
            return ["step": RunShapes.stepStatus(pending, itemIndex: index, flow: flow)]
        }
        throw .notFound("STEP_NOT_FOUND", "run \(runID) has no step \"\(RequestFields.shown(stepID))\"", field: "stepId")
    }

    public func runFlow(runID: String) async throws(ServiceError) -> JSON {
        let header = try await view(of: try await findRun(runID), itemsToo: false).header
        let (flowID, document) = try await flowDocument(header.flowID, field: "flowId")
        return ["flowId": .string(flowID), "flow": document]
    }

    private static func checkItem(_ index: Int, of view: RunView) throws(ServiceError) {
        guard view.items.indices.contains(index) else {
            throw .invalidField("itemIndex", "'itemIndex' must be from 0 to \(view.items.count - 1) (the run has \(view.items.count) items), not \(index)")
        }
    }

    // MARK: Views

    /// The run as the item and step routes show it. A run only in the store is read back item by
    /// item; `itemsToo: false` reads its record only.
    func view(of found: FoundRun, itemsToo: Bool = true) async throws(ServiceError) -> RunView {
        switch found {
        case .live(let run): return run.view
        case .stored(let record):
            let header = RunHeader(record)
            guard itemsToo else { return RunView(header: header, items: [], completionOrder: []) }
            return try await storedView(record)
        }
    }

    /// A run read back from the store: each item from its own run record (its result, or its
    /// checkpoints while it had not ended).
    func storedView(_ record: ServiceRunRecord) async throws(ServiceError) -> RunView {
        var items: [ItemView] = []
        items.reserveCapacity(record.itemCount)
        for index in 0..<record.itemCount {
            items.append(try await storedItem(record, index))
        }
        var header = RunHeader(record)
        // Counts from the items themselves: the record's are as of its last write.
        var counts = ItemCounts(total: record.itemCount)
        for item in items {
            switch item.phase {
            case .pending: counts.pending += 1
            case .running: counts.running += 1
            case .paused: counts.paused += 1
            case .finished: if let outcome = item.outcome { counts.add(outcome.status) }
            }
        }
        header.counts = counts
        let order = items.filter { $0.phase == .finished }.sorted { ($0.outcome?.endedAt ?? .distantPast, $0.index) < ($1.outcome?.endedAt ?? .distantPast, $1.index) }
        return RunView(header: header, items: items, completionOrder: order.map(\.index))
    }

    /// One item as the store has it. In a run that ended, an item left paused or unfinished was
    /// cancelled with it.
    func storedItem(_ record: ServiceRunRecord, _ index: Int) async throws(ServiceError) -> ItemView {
        let itemRunID = record.itemRunID(index)
        let itemRecord: RunRecord?
        let checkpoints: [StepCheckpoint]
        do {
            itemRecord = try await store.run(id: itemRunID)
            checkpoints = itemRecord?.status == .running || itemRecord?.status == .canceled ? try await store.checkpoints(runID: itemRunID) : []
        } catch {
            throw Self.storeFailed("read item \(index) of run \(record.id)", error)
        }
        let runEnded = record.status != .running && record.status != .paused
        guard let itemRecord else {
            if runEnded { return ItemView(index: index, phase: .finished, outcome: .notStarted(at: record.completedAt ?? record.createdAt), liveSteps: []) }
            return ItemView(index: index, phase: .pending, outcome: nil, liveSteps: [])
        }
        let steps = checkpoints.filter { !$0.stepID.contains(".") }.map(Self.stepOutcome)
        if itemRecord.status == .success || itemRecord.status == .failed {
            let outcome = itemRecord.result.flatMap(ItemOutcome.init(json:))
                ?? ItemOutcome(status: RunStatus(itemRecord.status), endedAt: itemRecord.updatedAt)
            return ItemView(index: index, phase: .finished, outcome: outcome, liveSteps: [])
        }
        if itemRecord.status == .paused && !runEnded {
            let outcome = itemRecord.result.flatMap(ItemOutcome.init(json:)) ?? ItemOutcome(status: .paused, endedAt: itemRecord.updatedAt)
            return ItemView(index: index, phase: .paused, outcome: outcome, liveSteps: [])
        }
        if runEnded {
            var outcome = itemRecord.result.flatMap(ItemOutcome.init(json:)) ?? ItemOutcome.notStarted(at: itemRecord.updatedAt)
            if outcome.status != .canceled {
                outcome.status = .canceled
                outcome.error = ItemOutcome.ItemError(code: "CANCELED", message: "the run was cancelled")
            }
            return ItemView(index: index, phase: .finished, outcome: outcome, liveSteps: outcome.steps.isEmpty ? steps : [])
        }
        // Going, or stopped by a shutdown: the next start goes on with it.
        return ItemView(index: index, phase: .running, outcome: nil, liveSteps: steps)
    }

    static func stepOutcome(_ checkpoint: StepCheckpoint) -> StepOutcome {
        StepOutcome(
            id: checkpoint.stepID, component: "", status: checkpoint.status, output: checkpoint.output,
            errorCode: checkpoint.error?["code"]?.stringValue, errorMessage: checkpoint.error?["message"]?.stringValue,
            attempts: checkpoint.attempts, startedAt: checkpoint.startedAt, endedAt: checkpoint.endedAt)
    }
}

extension RunStatus {
    /// How a recorded run ended (a record still `running` reads as failed: it did not end).
    init(_ status: RunRecord.Status) {
        switch status {
        case .success: self = .success
        case .failed, .running: self = .failed
        case .canceled: self = .canceled
        case .paused: self = .paused
        }
    }
}
