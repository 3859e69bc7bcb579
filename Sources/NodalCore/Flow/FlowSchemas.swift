import NodalJSON

/// A flow's input and output schemas, compiled (or why they cannot be), kept on the flow.
struct CompiledFlowSchemas: Sendable {
    var input: Result<JSONSchema?, FlowError> = .success(nil)
    var output: Result<JSONSchema?, FlowError> = .success(nil)
}

extension Flow {
    /// The flow's input schema, compiled; nil when it has none or it admits every value.
    /// Throws a `FlowError` (field `inputSchema`) when it is not a valid JSON Schema.
    func compiledInputSchema() throws(FlowError) -> JSONSchema? { try compiledSchemas.input.get() }

    /// The flow's output schema, compiled, as `compiledInputSchema()`.
    func compiledOutputSchema() throws(FlowError) -> JSONSchema? { try compiledSchemas.output.get() }

    /// Compiles the input and output schemas as they are now. Called when the flow is read and
    /// whenever one of them changes, so runs and batch items never compile or look them up.
    func compilingSchemas() -> CompiledFlowSchemas {
        CompiledFlowSchemas(
            input: Result { () throws(FlowError) in try Self.compiled(inFlowSchemas(inputSchema, as: "input"), field: "inputSchema", file: file) },
            output: Result { () throws(FlowError) in try Self.compiled(inFlowSchemas(outputSchema, as: "output"), field: "outputSchema", file: file) })
    }

    /// The document to compile for `schema`: itself, or, when it refers into the flow's `schemas`
    /// object (`$ref: "#/schemas/$defs/Address"`, Stepflow's shared definitions, whose pointers
    /// start at the flow's root), a document laid out as the flow is, `{schemas: ..., $ref:
    /// "#/schemas/properties/NAME"}`, in which those pointers lead where they lead in the flow.
    private func inFlowSchemas(_ schema: JSON?, as name: String) -> JSON? {
        schema.map { Self.document($0, at: ["schemas", "properties", name], flowSchemas: schemasDocument) }
    }

    /// `schema`, written at `place` in a flow whose `schemas` object is `flowSchemas`, as a
    /// document to compile: itself, unless it refers into the flow's `schemas`
    /// (`#/schemas/$defs/NAME`); then a document laid out as the flow is, holding the flow's
    /// `schemas` and `schema` at `place`, whose root refers to it, so that such pointers (and the
    /// locations messages give) lead where they lead in the flow.
    package static func document(_ schema: JSON, at place: [String], flowSchemas: JSON?) -> JSON {
        guard case .object? = flowSchemas, refersToFlowSchemas(schema), let first = place.first else { return schema }
        func placing(_ value: JSON, in container: JSON?, at tokens: ArraySlice<String>) -> JSON {
            guard let token = tokens.first else { return value }
            var object = container?.objectValue ?? JSONObject()
            object[token] = placing(value, in: object[token], at: tokens.dropFirst())
            return .object(object)
        }
        var root: JSONObject = ["schemas": flowSchemas!]
        root[first] = placing(schema, in: root[first], at: place.dropFirst())
        root["$ref"] = .string("#" + place.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined())
        return .object(root)
    }

    /// Whether `value` holds a `$ref` that starts at the flow's `schemas` (`#/schemas/...`).
    private static func refersToFlowSchemas(_ value: JSON) -> Bool {
        var stack = [value]
        while let next = stack.popLast() {
            switch next {
            case .object(let object):
                if case .string(let reference)? = object["$ref"], reference.hasPrefix("#/schemas/") { return true }
                for entry in object.entries { stack.append(entry.value) }
            case .array(let elements):
                stack.append(contentsOf: elements)
            default:
                continue
            }
        }
        return false
    }

    private static func compiled(_ document: JSON?, field: String, file: String?) throws(FlowError) -> JSONSchema? {
        guard let document else { return nil }
        do {
            let schema = try JSONSchema(document)
            return schema.admitsEverything ? nil : schema
        } catch {
            throw FlowError(file: file, field: field, "not a valid JSON Schema: \(error)")
        }
    }

    /// The run's input with the input schema's defaults filled in, or why it does not match the
    /// schema (`INVALID_INPUT`, naming each field) or the schema cannot be used (`INVALID_FLOW`).
    /// Deterministic: a resumed run gets the same answer for the input it was recorded with (the
    /// filled-in input, on which filling changes nothing).
    func preparedInput(_ input: JSON) -> Result<JSON, StepError> {
        let schema: JSONSchema?
        do { schema = try compiledInputSchema() } catch {
            return .failure(StepError(code: "INVALID_FLOW", message: error.description))
        }
        guard let schema else { return .success(input) }
        let filled = schema.applyingDefaults(to: input)
        if schema.isValid(filled) { return .success(filled) }
        let violations = schema.validate(filled)
        // A default that does not match its own schema: say so, rather than blame the caller for
        // a value they never gave.
        let what = filled != input && schema.isValid(input)
            ? "the run's input matches the flow's input schema, but not with the schema's defaults filled in (a default does not match its own schema): "
            : "the run's input does not match the flow's input schema: "
        return .failure(StepError(
            code: "INVALID_INPUT",
            message: what + SchemaMessages.describe(violations, root: "input"),
            details: SchemaMessages.details(violations, root: "input")))
    }
}
