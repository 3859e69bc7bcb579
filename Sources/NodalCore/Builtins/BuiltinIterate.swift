import NodalJSON
/// Stepflow's `/builtin/iterate`: runs a flow again and again, each output feeding the next run,
/// until it returns a result.
///
/// Input: `{flow | workflow | flow_id | workflow_id, initial_input, max_iterations?: n >= 0}`
/// (default 1000; the flow as in `BuiltinSubFlow`). Each run's output must be an object with
/// `result` (stop with that value) or `next` (run again with that input); when it has both,
/// `result` wins, as in Stepflow. Other keys are ignored.
/// Output: `{result, iterations, terminated}`. `iterations` counts every run of the flow;
/// `terminated` is true when `max_iterations` runs passed without a result, and `result` is then
/// the last `next` value (the input the next run would have had).
///
/// The step fails when an iteration fails (with that iteration's error code) or when an output has
/// neither key (`INVALID_OUTPUT`). Inner runs are like `eval`'s; their ids are
/// `<run>.<step>.<iteration>`.
enum BuiltinIterate {
    static let defaultMaxIterations = 1000
    /// Stepflow reads `max_iterations` as an unsigned 32-bit number.
    static let maxIterationsRange = NumericRange(lowest: 0, highest: Double(UInt32.max), wholeNumbers: true)

    static func run(_ input: JSON, engine: some BuiltinHost, context: NodeContext) async throws -> JSON {
        let flow = try await BuiltinSubFlow.flow(from: input, builtin: "iterate", engine: engine, context: context)
        guard var value = input["initial_input"] else {
            throw StepError(code: "INVALID_INPUT", message: "iterate needs 'initial_input': the input of the first run of the flow")
        }
        var maxIterations = defaultMaxIterations
        if let raw = input["max_iterations"], !raw.isNull {
            guard let limit = maxIterationsRange.check(raw) else {
                throw StepError(code: "INVALID_INPUT", message: "iterate: 'max_iterations' must be \(maxIterationsRange.text()), not \(abbreviated(raw))")
            }
            maxIterations = Int(limit)
        }
        var iteration = 0
        while iteration < maxIterations {
            iteration += 1
            try Task.checkCancellation()
            let result = await engine.run(flow, input: value, options: .innerRun(id: "\(context.runID).\(context.stepID).\(iteration)", of: context))
            try Task.checkCancellation()
            guard result.status == .success else {
                throw StepError(
                    code: result.error?.code ?? result.status.rawValue.uppercased(),
                    message: "iterate: iteration \(iteration) failed: \(result.error?.message ?? "the flow ended \(result.status.rawValue)")")
            }
            let output = result.output ?? .null
            if let final = output["result"] {
                return ["result": final, "iterations": .int(iteration), "terminated": false]
            }
            guard let next = output["next"] else {
                throw StepError(code: "INVALID_OUTPUT", message: "iterate: the output of iteration \(iteration) has neither 'next' nor 'result'; it must be {next: <input of the next run>} or {result: <final value>}, got \(abbreviated(output))")
            }
            // A flow that wraps its input once per run would build a value deeper than anything
            // can print or store; refuse it as the parsers refuse such text.
            if next.nestsDeeper(than: Limits.valueDepth) {
                throw StepError(code: "INVALID_OUTPUT", message: "iterate: the 'next' value of iteration \(iteration) nests deeper than \(Limits.valueDepth) levels")
            }
            value = next
        }
        // Stepflow: running out of iterations is not a failure; the last value is the result.
        return ["result": value, "iterations": .int(iteration), "terminated": true]
    }

    /// The value's JSON, cut to about `limit` characters.
    static func abbreviated(_ value: JSON, limit: Int = 200) -> String {
        let text = value.serialized()
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "... (\(text.utf8.count) bytes)"
    }
}
