import NodalJSON
/// Stepflow's `/builtin/iterate`: runs a flow again and again, each output feeding the next run,
/// until it returns a result.
///
/// Input: `{flow | workflow | flow_id | workflow_id, initial_input, max_iterations?: n >= 1}`
/// (default 1000; the flow as in `BuiltinSubFlow`). Each run's output must be an object with
/// exactly one of `next` (run again with that input) or `result` (stop); other keys are ignored.
/// Output: `{result, iterations}`, `iterations` counting every run of the flow.
///
/// The step fails when an iteration fails (with that iteration's error code), when an output has
/// neither or both keys (`INVALID_OUTPUT`), or after `max_iterations` runs without a result
/// (`MAX_ITERATIONS`). Inner runs are like `eval`'s; their ids are `<run>.<step>.<iteration>`.
enum BuiltinIterate {
    static let defaultMaxIterations = 1000

    static func run(_ input: JSON, engine: some BuiltinHost, context: NodeContext) async throws -> JSON {
        let flow = try await BuiltinSubFlow.flow(from: input, builtin: "iterate", engine: engine, context: context)
        guard var value = input["initial_input"] else {
            throw StepError(code: "INVALID_INPUT", message: "iterate needs 'initial_input': the input of the first run of the flow")
        }
        var maxIterations = defaultMaxIterations
        if let raw = input["max_iterations"], !raw.isNull {
            guard let limit = raw.intValue, limit >= 1 else {
                throw StepError(code: "INVALID_INPUT", message: "iterate: 'max_iterations' must be an integer >= 1, not \(raw)")
            }
            maxIterations = limit
        }
        for iteration in 1...maxIterations {
            try Task.checkCancellation()
            let result = await engine.run(flow, input: value, options: .innerRun(id: "\(context.runID).\(context.stepID).\(iteration)"))
            try Task.checkCancellation()
            guard result.status == .success else {
                throw StepError(
                    code: result.error?.code ?? result.status.rawValue.uppercased(),
                    message: "iterate: iteration \(iteration) failed: \(result.error?.message ?? "the flow ended \(result.status.rawValue)")")
            }
            let output = result.output ?? .null
            let next = output["next"], final = output["result"]
            guard case .object = output, (next == nil) != (final == nil) else {
                let problem = next != nil ? "has both 'next' and 'result'" : "has neither 'next' nor 'result'"
                throw StepError(code: "INVALID_OUTPUT", message: "iterate: the output of iteration \(iteration) \(problem); it must be {next: <input of the next run>} or {result: <final value>}, got \(abbreviated(output))")
            }
            if let final { return ["result": final, "iterations": .int(iteration)] }
            // A flow that wraps its input once per run would build a value deeper than anything
            // can print or store; refuse it as the parsers refuse such text.
            if next!.nestsDeeper(than: Limits.valueDepth) {
                throw StepError(code: "INVALID_OUTPUT", message: "iterate: the 'next' value of iteration \(iteration) nests deeper than \(Limits.valueDepth) levels")
            }
            value = next!
        }
        throw StepError(code: "MAX_ITERATIONS", message: "iterate: the flow returned {next} \(maxIterations) times without {result} (max_iterations: \(maxIterations)); last value: \(abbreviated(value))")
    }

    /// The value's JSON, cut to about `limit` characters.
    static func abbreviated(_ value: JSON, limit: Int = 200) -> String {
        let text = value.serialized()
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "... (\(text.utf8.count) bytes)"
    }
}
