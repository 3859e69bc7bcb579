import NodalJSON

/// The schemas a flow step declares itself (`inputSchema`/`outputSchema`, or Stepflow's older
/// `input_schema`/`output_schema`), compiled when the flow is read. A null or absent key declares
/// nothing, and the component's schema applies.
package struct StepSchemas: Sendable {
    package let declaresInput: Bool
    package let declaresOutput: Bool
    package let compiled: NodeSchemas

    /// Nil when the step declares neither. A declared schema that is not a JSON Schema is an error
    /// naming the step and key.
    /// A schema that refers to the flow's shared definitions (`#/schemas/$defs/NAME`) is compiled
    /// in a document laid out as the flow is (`Flow.document(_:at:flowSchemas:)`), the step at
    /// `position` of its `steps`.
    package static func read(
        _ step: JSONObject, id: String, position: Int = 0, flowSchemas: JSON? = nil, file: String?
    ) throws(FlowError) -> StepSchemas? {
        func declared(_ keys: [String]) -> (key: String, schema: JSON)? {
            for key in keys {
                if let value = step[key], !value.isNull {
                    return (key, Flow.document(value, at: ["steps", String(position), key], flowSchemas: flowSchemas))
                }
            }
            return nil
        }
        let input = declared(["inputSchema", "input_schema"]), output = declared(["outputSchema", "output_schema"])
        guard input != nil || output != nil else { return nil }
        for (key, schema) in [input, output].compactMap({ $0 }) {
            do {
                _ = try JSONSchema(schema)
            } catch {
                throw FlowError(file: file, step: id, field: key, "not a valid JSON Schema: \(error)")
            }
        }
        return StepSchemas(
            declaresInput: input != nil, declaresOutput: output != nil,
            compiled: NodeSchemas(owner: "step '\(id)'", input: input?.schema, output: output?.schema))
    }
}

extension NodeSchemas {
    /// The schemas a step is checked against: those it declares itself (its `inputSchema`,
    /// `outputSchema`), each in place of its component's, as a step's own declaration wins in
    /// Stepflow; the component's where it declares none.
    package static func forStep(_ step: String, declared: StepSchemas, component: NodeSchemas?) -> NodeSchemas? {
        let input = declared.declaresInput ? declared.compiled.input : component?.input
        let output = declared.declaresOutput ? declared.compiled.output : component?.output
        let owner = component.map { "step '\(step)' (\($0.owner))" } ?? "step '\(step)'"
        return NodeSchemas(owner: owner, input: input, output: output, problems: component?.problems ?? []).orNil
    }
}
