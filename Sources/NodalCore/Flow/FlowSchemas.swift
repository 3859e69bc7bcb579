import NodalJSON
import Synchronization

/// Compiled schemas by their JSON document. A flow's input and output schemas are compiled the
/// first time a run (or a check) needs them and found here afterwards: once per flow, not once
/// per run, batch item or sub-flow step. Bounded: when it holds `capacity` documents it starts over.
///
/// Documents are told apart by their exact JSON text, not by `JSON`'s `==`: two schemas equal as
/// JSON values may still compile differently. Key order decides the order defaults are filled in
/// (and so the keys of a run's input and the blob ids made of it), a schema compares strings by
/// code point (`"é"` and `"e\u{301}"` are different constants, though equal to Swift), and an
/// integer is not a double that rounds to it. A document holding a number JSON cannot write (an
/// infinity or NaN from YAML) is compiled each time instead.
enum SchemaCache {
    static let capacity = 256
    private static let compiled = Mutex<[[UInt8]: Result<JSONSchema, JSONSchemaError>]>([:])

    static func schema(for document: JSON) -> Result<JSONSchema, JSONSchemaError> {
        let compile = { Result { () throws(JSONSchemaError) in try JSONSchema(document) } }
        guard !holdsNonFiniteNumber(document) else { return compile() }
        let key = document.serializedBytes()
        if let found = compiled.withLock({ $0[key] }) { return found }
        let result = compile()
        compiled.withLock { cache in
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[key] = result
        }
        return result
    }

    /// Whether `value` holds an infinity or NaN, which its JSON text writes as null.
    private static func holdsNonFiniteNumber(_ value: JSON) -> Bool {
        var stack = [value]
        while let next = stack.popLast() {
            switch next {
            case .double(let number) where !number.isFinite: return true
            case .array(let elements): stack.append(contentsOf: elements)
            case .object(let object): for entry in object.entries { stack.append(entry.value) }
            default: continue
            }
        }
        return false
    }
}

extension Flow {
    /// The flow's input schema, compiled; nil when it has none or it admits every value.
    /// Throws a `FlowError` (field `inputSchema`) when it is not a valid JSON Schema.
    func compiledInputSchema() throws(FlowError) -> JSONSchema? {
        try Self.compiled(inFlowSchemas(inputSchema, as: "input"), field: "inputSchema", file: file)
    }

    /// The flow's output schema, compiled, as `compiledInputSchema()`.
    func compiledOutputSchema() throws(FlowError) -> JSONSchema? {
        try Self.compiled(inFlowSchemas(outputSchema, as: "output"), field: "outputSchema", file: file)
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
        switch SchemaCache.schema(for: document) {
        case .success(let schema): return schema.admitsEverything ? nil : schema
        case .failure(let error):
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
