import NodalJSON
/// Stepflow's `/builtin/eval`: runs a flow once, as a sub-run of the step.
///
/// Input: `{flow | workflow | flow_id | workflow_id, input}` (see `BuiltinSubFlow`).
/// Output, as Stepflow's: `{result: <flow result>, run_id}`, the flow result being
/// `{outcome: "success", result}` or `{outcome: "failed", error: {code, message}}`. A failed inner
/// run does not fail the step (Stepflow's eval succeeds with the failed flow result); an invalid
/// flow or a missing blob does.
///
/// The inner run gets only its input (no variables of the parent) and no store: it is not recorded
/// on its own, and blobs it puts go to the engine's in-memory store. Its id is
/// `<parent run id>.<step id>`. Canceling the step (the parent run canceled, a timeout) cancels it.
enum BuiltinEval {
    static func run(_ input: JSON, engine: some BuiltinHost, context: NodeContext) async throws -> JSON {
        let flow = try await BuiltinSubFlow.flow(from: input, builtin: "eval", engine: engine, context: context)
        guard let flowInput = input["input"] else {
            throw StepError(code: "INVALID_INPUT", message: "eval needs 'input': the input of the flow to run (write {} for none)")
        }
        let runID = "\(context.runID).\(context.stepID)"
        let result = await engine.run(flow, input: flowInput, options: .innerRun(id: runID, of: context))
        try Task.checkCancellation()
        return ["result": flowResult(result), "run_id": .string(runID)]
    }

    /// A run's result as Stepflow writes a flow result (what `test: cases:` expect too).
    static func flowResult(_ result: RunResult) -> JSON {
        switch result.status {
        case .success:
            return ["outcome": "success", "result": result.output ?? .null]
        default:
            var error: JSONObject = [
                "code": .string(result.error?.code ?? result.status.rawValue.uppercased()),
                "message": .string(result.error?.message ?? "the flow ended \(result.status.rawValue)"),
            ]
            // Stepflow's flow error carries the failed step's `data` too (a mock's error data,
            // a plugin's details), which expected results may match.
            if let details = result.error?.details, !details.isNull { error["data"] = details }
            return ["outcome": "failed", "error": .object(error)]
        }
    }
}
