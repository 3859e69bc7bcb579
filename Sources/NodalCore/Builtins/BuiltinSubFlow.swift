import NodalJSON
/// The flow a builtin runs (`map`, `eval`, `iterate`), taken from its input: inline under `flow`
/// or `workflow` (an object, normally written under `$literal` so the parent does not evaluate
/// its expressions), or by blob id under `flow_id` or `workflow_id` (a blob stored with
/// `/builtin/put_blob`, looked up as `get_blob` does).
///
/// The flow is read with the parent's flow file (relative paths in it resolve as in the parent)
/// and validated against the engine, so an unknown route fails the step before anything runs.
enum BuiltinSubFlow {
    static let inlineKeys = ["flow", "workflow"]
    static let blobKeys = ["flow_id", "workflow_id"]

    /// - Parameter builtin: the builtin's name, for error messages ("eval", "map", ...).
    /// - Throws: `StepError` `INVALID_INPUT` (no flow, several, not an object, not a valid flow,
    ///   a malformed id), `BLOB_NOT_FOUND`, or `NESTING_TOO_DEEP` when the step's flow is already
    ///   nested `Limits.nesting` deep.
    static func flow(from input: JSON, builtin: String, engine: some BuiltinHost, context: NodeContext) async throws(StepError) -> Flow {
        let given = (inlineKeys + blobKeys).filter { key in input[key].map { !$0.isNull } ?? false }
        guard let key = given.first else {
            throw StepError(code: "INVALID_INPUT", message: "\(builtin) needs the flow to run: inline under 'flow' or 'workflow' (written under $literal), or a blob id from put_blob under 'flow_id' or 'workflow_id'")
        }
        guard given.count == 1 else {
            throw StepError(code: "INVALID_INPUT", message: "\(builtin): give the flow once, not under both \(given.map { "'\($0)'" }.joined(separator: " and "))")
        }
        let document: JSON
        let source: String
        if inlineKeys.contains(key) {
            document = input[key]!
            guard case .object = document else {
                throw StepError(code: "INVALID_INPUT", message: "\(builtin): '\(key)' must be a flow (a mapping with 'steps' and 'output', written under $literal), not \(document.typeName)")
            }
            source = "under '\(key)'"
        } else {
            let id = try BuiltinBlobs.blobID(input, field: key, builtin: builtin)
            document = try await BuiltinBlobs.fetch(id, field: key, builtin: builtin, engine: engine, context: context)
            source = "in blob \(id) (from '\(key)')"
        }
        // The flow runs one level deeper than the step's own: bounded, so a flow that evals
        // itself (or maps, or iterates itself) ends with an error instead of exhausting memory.
        let chain = context.nesting + ["\(builtin) step '\(context.stepID)'"]
        guard context.nesting.count < Limits.nesting else {
            throw StepError(code: "NESTING_TOO_DEEP", message: "\(builtin): \(FlowLoading.tooDeep(chain))",
                details: ["limit": .int(Limits.nesting), "chain": .array(chain.map(JSON.string))])
        }
        do {
            let flow = try FlowLoading.reading(file: context.flowFile, configuration: engine.configuration, nesting: chain) { () throws(FlowError) in
                try Flow(document: document, file: context.flowFile)
            }
            try engine.validate(flow)
            return flow
        } catch {
            throw StepError(code: "INVALID_INPUT", message: "\(builtin): the flow \(source) is not valid: \(error)")
        }
    }
}
