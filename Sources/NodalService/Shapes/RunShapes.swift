import NodalCore
import NodalJSON
import FoundationEssentials

/// The REST API's run shapes (Stepflow's `RunSummary`, `ItemResult`, `StepStatus`) and the
/// seed's JSON-RPC run status, from the service's views of a run.
enum RunShapes {
    /// `RunSummary`, with Nodal's `paused` count in `items`. `running` counts every item neither
    /// finished nor paused (started or waiting to start).
    static func summary(_ header: RunHeader) -> JSON {
        let counts = header.counts
        var object: JSONObject = [
            "runId": .string(header.id),
            "flowId": .string(header.flowID),
        ]
        if let name = header.flowName { object["flowName"] = .string(name) }
        object["status"] = .string(WireNames.executionStatus(header.status))
        object["items"] = [
            "total": .int(counts.total),
            "completed": .int(counts.succeeded),
            "running": .int(counts.running + counts.pending),
            "failed": .int(counts.failed),
            "cancelled": .int(counts.canceled),
            "paused": .int(counts.paused),
        ]
        object["createdAt"] = .string(WireNames.timestamp(header.createdAt))
        if let completedAt = header.completedAt { object["completedAt"] = .string(WireNames.timestamp(completedAt)) }
        object["rootRunId"] = .string(header.rootRunID)
        if let parent = header.parentRunID { object["parentRunId"] = .string(parent) }
        return .object(object)
    }

    /// `ItemResult`, with the Noxus client's `executionTimeMs` and `errorDetails` ({code: Nodal's
    /// own, step, details}); a paused item carries Nodal's `pause` {key, step, value}. An item not
    /// finished yet is `{itemIndex, status}` only.
    static func itemResult(_ item: ItemView) -> JSON {
        var object: JSONObject = ["itemIndex": .int(item.index)]
        guard let outcome = item.outcome, item.phase == .finished || item.phase == .paused else {
            object["status"] = .string(WireNames.executionStatus(.running))
            return .object(object)
        }
        object["status"] = .string(WireNames.executionStatus(RunRecord.Status(outcome.status)))
        if outcome.status == .success { object["output"] = outcome.output ?? .null }
        if let error = outcome.error, outcome.status != .success, outcome.status != .paused {
            object["errorMessage"] = .string(error.message)
            object["errorCode"] = .string(WireNames.taskErrorCode(error.code))
        }
        object["completedAt"] = .string(WireNames.timestamp(outcome.endedAt))
        object["executionTimeMs"] = .double(outcome.durationMs)
        if let error = outcome.error, outcome.status != .success, outcome.status != .paused {
            var details: JSONObject = ["code": .string(error.code)]
            if let step = error.step { details["step"] = .string(step) }
            if let more = error.details { details["details"] = more }
            object["errorDetails"] = .object(details)
        }
        if let pause = outcome.pause, outcome.status == .paused {
            object["pause"] = ["key": .string(pause.key), "step": .string(pause.step), "value": pause.value]
        }
        return .object(object)
    }

    /// `StepStatus` of one step of one item, with Nodal's own status word (`nodalStatus`) for the
    /// statuses Stepflow has no name for (skipped, notRun, pending).
    static func stepStatus(_ step: StepOutcome, itemIndex: Int, flow: Flow?) -> JSON {
        var object: JSONObject = ["stepId": .string(step.id)]
        if let index = flow?.stepIndexes[step.id] { object["stepIndex"] = .int(index) }
        object["itemIndex"] = .int(itemIndex)
        object["status"] = .string(WireNames.stepStatus(step.status))
        if WireNames.stepStatus(step.status) == "EXECUTION_STATUS_UNSPECIFIED" { object["nodalStatus"] = .string(step.status) }
        // Checkpoints read back from the store do not name the component; the flow does.
        let component = step.component.isEmpty ? flow?.stepIndexes[step.id].map { flow!.steps[$0].component } ?? "" : step.component
        object["component"] = .string(component)
        if step.status == "success", let output = step.output { object["output"] = output }
        if let message = step.errorMessage { object["errorMessage"] = .string(message) }
        if let code = step.errorCode { object["errorCode"] = .string(WireNames.taskErrorCode(code)) }
        if let startedAt = step.startedAt { object["startedAt"] = .string(WireNames.timestamp(startedAt)) }
        if let endedAt = step.endedAt { object["completedAt"] = .string(WireNames.timestamp(endedAt)) }
        return .object(object)
    }

    /// Every step of the items asked for, item by item, in the flow's order within each.
    static func steps(_ view: RunView, itemIndex: Int?, flow: Flow?) -> JSON {
        let items = itemIndex.map { index in view.items.filter { $0.index == index } } ?? view.items
        return .array(items.flatMap { item in item.steps.map { stepStatus($0, itemIndex: item.index, flow: flow) } })
    }

    /// The items in the order asked: by index, or finished ones in the order they finished and
    /// then the others by index.
    static func items(_ view: RunView, byCompletion: Bool) -> JSON {
        guard byCompletion else { return .array(view.items.map(itemResult)) }
        var seen = Set<Int>()
        var ordered: [ItemView] = []
        for index in view.completionOrder where view.items.indices.contains(index) && seen.insert(index).inserted {
            ordered.append(view.items[index])
        }
        for item in view.items where !seen.contains(item.index) { ordered.append(item) }
        return .array(ordered.map(itemResult))
    }

    // MARK: JSON-RPC (seed 002)

    /// The seed's run status: `{runId, flowId, flowName, status, items: {total, pending, running,
    /// success, failed, cancelled}, createdAt, completedAt, results?}`, with Nodal's `paused`
    /// status (its paused items count as running: not finished), and the parent and root of a
    /// sub-run.
    static func rpcStatus(_ view: RunView, includeResults: Bool, byCompletion: Bool) -> JSON {
        let header = view.header
        let counts = header.counts
        var object: JSONObject = ["runId": .string(header.id), "flowId": .string(header.flowID)]
        if let name = header.flowName { object["flowName"] = .string(name) }
        let started = counts.pending < counts.total
        object["status"] = .string(WireNames.rpcStatus(header.status, started: started))
        object["items"] = [
            "total": .int(counts.total),
            "pending": .int(counts.pending),
            "running": .int(counts.running + counts.paused),
            "success": .int(counts.succeeded),
            "failed": .int(counts.failed),
            "cancelled": .int(counts.canceled),
        ]
        object["createdAt"] = .string(WireNames.timestamp(header.createdAt))
        if let completedAt = header.completedAt { object["completedAt"] = .string(WireNames.timestamp(completedAt)) }
        if let parent = header.parentRunID {
            object["parentRunId"] = .string(parent)
            object["rootRunId"] = .string(header.rootRunID)
        }
        if includeResults {
            let finished = view.items.filter { $0.phase == .finished && $0.outcome != nil }.map(\.index)
            let order = byCompletion ? view.completionOrder.filter { view.items.indices.contains($0) && view.items[$0].outcome != nil } : finished
            object["results"] = .array(order.map { index in
                let outcome = view.items[index].outcome!
                return ["itemIndex": .int(index), "result": rpcResult(outcome), "completedAt": .string(WireNames.timestamp(outcome.endedAt))]
            })
        }
        return .object(object)
    }

    /// `{outcome: success, value}`, `{outcome: failed, error: {code, message}}`, or for a cancelled
    /// item `{outcome: cancelled, error}`, as the runs extension answers.
    static func rpcResult(_ outcome: ItemOutcome) -> JSON {
        func error(_ fallback: String) -> JSON {
            ["code": .string(outcome.error?.code ?? fallback), "message": .string(outcome.error?.message ?? "")]
        }
        switch outcome.status {
        case .success: return ["outcome": "success", "value": outcome.output ?? .null]
        case .canceled: return ["outcome": "cancelled", "error": error("CANCELED")]
        case .failed, .paused: return ["outcome": "failed", "error": error("FAILED")]
        }
    }
}
