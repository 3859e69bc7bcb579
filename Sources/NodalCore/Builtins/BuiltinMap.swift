import NodalJSON
/// Stepflow's `/builtin/map`: runs a flow over `items`, at most `max_concurrency` at once.
///
/// Input: `{workflow: <flow>, items: [...], max_concurrency?: n}` (`flow` is accepted for
/// `workflow`; write the flow under `$literal` so its expressions are not evaluated by the parent),
/// or the flow by blob id under `workflow_id`/`flow_id` (see `BuiltinSubFlow`).
/// Output: `{results: [{outcome: success, result} | {outcome: failed, error}], successful, failed}`,
/// one result per item in item order. A failed item does not fail the step.
enum BuiltinMap {
    static func run(_ input: JSON, engine: some BuiltinHost, context: NodeContext) async throws -> JSON {
        let flow = try await BuiltinSubFlow.flow(from: input, builtin: "map", engine: engine, context: context)
        guard case .array(let items)? = input["items"] else {
            throw StepError(code: "INVALID_INPUT", message: "map needs 'items': a list of inputs, one per run of the flow")
        }
        var maxConcurrency = 8
        if let raw = input["max_concurrency"], !raw.isNull {
            guard let value = raw.intValue, value >= 1 else {
                throw StepError(code: "INVALID_INPUT", message: "map: 'max_concurrency' must be an integer >= 1, not \(raw)")
            }
            maxConcurrency = value
        }
        let batch = await engine.runBatch(flow, inputs: items, options: BatchOptions(
            maxConcurrency: maxConcurrency, order: .input, batchID: "\(context.runID).\(context.stepID)",
            run: .innerRun(id: "\(context.runID).\(context.stepID)", of: context)))
        try Task.checkCancellation()
        let results: [JSON] = batch.items.map { item in
            switch item.result.status {
            case .success:
                return ["outcome": "success", "result": item.result.output ?? .null]
            default:
                // A failed item reads as eval's failed flow result does, `data` included.
                return BuiltinEval.flowResult(item.result)
            }
        }
        return ["results": .array(results), "successful": .int(batch.counts.succeeded), "failed": .int(batch.counts.total - batch.counts.succeeded)]
    }
}
