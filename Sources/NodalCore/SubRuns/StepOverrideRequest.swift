import NodalJSON

/// A request's `overrides` (Stepflow's: step id to `{timeoutSecs?, onError?}`), read against the
/// flow it applies to. Shared by the runs extension's `submit` and the run service's `POST /runs`,
/// so both accept and refuse the same overrides with the same words.
package enum StepOverrideRequest {
    /// What an override may change: what Nodal's `StepOverride` holds.
    package static let keys = ["timeoutSecs", "onError"]

    /// Why an override was refused: `field` is its path (`overrides.fetch.timeoutSecs`) and the
    /// message reads `'<field>'` followed by `text`.
    package struct Refusal: Error, Sendable, Hashable {
        package var field: String
        package var text: String

        /// `'overrides.a' must be an object ...`.
        package var message: String { "'\(field)'\(text)" }
    }

    /// The overrides as a run takes them, by step id. A step the flow does not have, a key Nodal
    /// cannot override, or a value the flow format would refuse is refused, naming the override.
    /// `prefix` is where the overrides sit in the request.
    package static func parse(_ overrides: [(step: String, value: JSON)], for flow: Flow, prefix: String = "overrides") throws(Refusal)
        -> [String: StepOverride]
    {
        var result: [String: StepOverride] = [:]
        for (step, value) in overrides {
            let field = "\(prefix).\(RunsExtension.shown(step))"
            // A step of a sub-flow step is named after it: `review.decision`.
            let outer = String(step.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)[0])
            guard flow.stepIndexes[step] != nil || (step.contains(".") && flow.stepIndexes[outer].map({ flow.steps[$0].subflow != nil }) == true) else {
                throw Refusal(field: field, text: ": the flow has no step '\(RunsExtension.shown(step))' (steps: \(flow.stepIDs.prefix(20).map { DisplayText.escaped($0) }.joined(separator: ", ")))")
            }
            guard case .object(let object) = value else {
                throw Refusal(field: field, text: " must be an object {timeoutSecs?, onError?}, not \(value.typeName)")
            }
            for key in object.keys where !keys.contains(key) {
                throw Refusal(field: "\(field).\(RunsExtension.shown(key))", text: " cannot be overridden: Nodal overrides a step's timeoutSecs and onError only")
            }
            // Read as a one-step flow reads them, so the checks and messages are the flow format's.
            var document: JSONObject = ["id": .string(step), "component": "/builtin/noop"]
            if let timeout = object["timeoutSecs"] { document["timeout"] = timeout }
            if let onError = object["onError"] { document["onError"] = onError }
            let parsed: FlowStep
            do {
                parsed = try Flow(document: ["steps": .array([.object(document)]), "output": .null]).steps[0]
            } catch {
                let key = error.field.map { $0 == "timeout" ? "timeoutSecs" : $0 } ?? ""
                throw Refusal(field: field + (key.isEmpty ? "" : "." + key), text: ": \(error.message)")
            }
            result[step] = StepOverride(
                timeout: parsed.timeout.map { .clampedSeconds($0) },
                onError: object["onError"] == nil ? nil : parsed.onError)
        }
        return result
    }
}
