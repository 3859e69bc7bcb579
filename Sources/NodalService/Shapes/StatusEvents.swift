import NodalCore
import NodalJSON
import FoundationEssentials

/// The `data` of a run's journal events: Stepflow's `StatusEvent` without its `sequenceNumber`
/// (the journal numbers it), one event object each. Results are always put in; the journal
/// leaves them out for subscribers that did not ask for them.
enum StatusEvents {
    static func runCreated(runID: String, flowID: String, itemCount: Int, at date: Date) -> JSON {
        event(at: date, "runCreated", ["runId": .string(runID), "flowId": .string(flowID), "itemCount": .int(itemCount)])
    }

    static func stepStarted(runID: String, itemIndex: Int, stepIndex: Int, stepID: String, attempt: Int, at date: Date) -> JSON {
        event(at: date, "stepStarted", [
            "runId": .string(runID), "itemIndex": .int(itemIndex), "stepIndex": .int(stepIndex), "stepId": .string(stepID),
            "attempt": .int(attempt),
        ])
    }

    /// `status` is a step status (`success`, `failed`, `canceled`); `result` is Stepflow's flow
    /// result: `{outcome: success, result}` or `{outcome: failed, error: {code, message}}`.
    static func stepCompleted(
        runID: String, itemIndex: Int, stepIndex: Int, stepID: String, status: String, output: JSON?,
        error: (code: String, message: String)?, at date: Date
    ) -> JSON {
        var fields: JSONObject = [
            "runId": .string(runID), "itemIndex": .int(itemIndex), "stepIndex": .int(stepIndex), "stepId": .string(stepID),
            "status": .string(WireNames.stepStatus(status)),
        ]
        if let error {
            fields["result"] = ["outcome": "failed", "error": ["code": .string(error.code), "message": .string(error.message)]]
        } else if status == "success" {
            fields["result"] = ["outcome": "success", "result": output ?? .null]
        }
        return event(at: date, "stepCompleted", fields)
    }

    /// With Nodal's `status` beside the spec's fields, so a watcher that asked for no results
    /// still sees how the item ended.
    static func itemCompleted(runID: String, itemIndex: Int, _ outcome: ItemOutcome, at date: Date) -> JSON {
        event(at: date, "itemCompleted", [
            "runId": .string(runID), "itemIndex": .int(itemIndex),
            "status": .string(WireNames.executionStatus(RunRecord.Status(outcome.status))), "result": flowResult(outcome),
        ])
    }

    static func runCompleted(runID: String, status: RunRecord.Status, at date: Date) -> JSON {
        event(at: date, "runCompleted", ["runId": .string(runID), "status": .string(WireNames.executionStatus(status))])
    }

    static func subRunCreated(runID: String, parentRunID: String, flowID: String, itemCount: Int, at date: Date) -> JSON {
        event(at: date, "subRunCreated", [
            "runId": .string(runID), "parentRunId": .string(parentRunID), "flowId": .string(flowID), "itemCount": .int(itemCount),
        ])
    }

    /// Nodal's: an item stopped to wait for an answer under `key`, showing `value`.
    static func runPaused(runID: String, itemIndex: Int, pause: ItemOutcome.Pause, at date: Date) -> JSON {
        event(at: date, "runPaused", [
            "runId": .string(runID), "itemIndex": .int(itemIndex), "stepId": .string(pause.step), "key": .string(pause.key),
            "value": pause.value,
        ])
    }

    /// An item's result as a flow result (Stepflow's `FlowResult`).
    static func flowResult(_ outcome: ItemOutcome) -> JSON {
        switch outcome.status {
        case .success: return ["outcome": "success", "result": outcome.output ?? .null]
        case .failed, .canceled, .paused:
            let error = outcome.error
            return ["outcome": "failed", "error": ["code": .string(error?.code ?? "FAILED"), "message": .string(error?.message ?? "")]]
        }
    }

    private static func event(at date: Date, _ kind: String, _ fields: JSONObject) -> JSON {
        var object: JSONObject = ["timestamp": .string(WireNames.timestamp(date))]
        object[kind] = .object(fields)
        return .object(object)
    }
}
