import NodalJSON
/// Turns the JSON of an `input:` or `output:` into an `Expression`, checking its shape.
struct ExpressionParser {
    var stepIndexes: [String: Int]
    var file: String?
    var step: String?

    func error(_ field: String, _ message: String) -> FlowError {
        FlowError(file: file, step: step, field: field, message)
    }

    func parse(_ value: JSON, field: String) throws(FlowError) -> Expression {
        try parse(value, field: field, depth: 1)
    }

    /// `depth` counts the arrays and objects around `value`: a document deeper than
    /// `Limits.valueDepth` (one built at run time for `eval`, say) is refused, not recursed into.
    private func parse(_ value: JSON, field: String, depth: Int) throws(FlowError) -> Expression {
        if depth > Limits.valueDepth, value.isContainer {
            throw error(field, "nested deeper than \(Limits.valueDepth) levels")
        }
        switch value {
        case .array(let elements):
            var parsed: [Expression] = []
            parsed.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                parsed.append(try parse(element, field: "\(field)[\(index)]", depth: depth + 1))
            }
            // All constant: fold into one literal (built from the parts, so `$literal` wrappers go).
            if parsed.allSatisfy(\.isLiteral) { return .literal(.array(parsed.map(\.literalValue!))) }
            return .array(parsed)
        case .object(let object):
            if let special = try parseSpecial(object, field: field, depth: depth) { return special }
            var fields: [(key: String, value: Expression)] = []
            fields.reserveCapacity(object.count)
            for (key, element) in object {
                fields.append((key: key, value: try parse(element, field: field.isEmpty ? key : "\(field).\(key)", depth: depth + 1)))
            }
            if fields.allSatisfy({ $0.value.isLiteral }) {
                return .literal(.object(JSONObject(fields.map { (key: $0.key, value: $0.value.literalValue!) })))
            }
            return .object(fields)
        default:
            return .literal(value)
        }
    }

    /// An object whose keys start with `$` is an expression; anything else is a plain object.
    private func parseSpecial(_ object: JSONObject, field: String, depth: Int) throws(FlowError) -> Expression? {
        guard let operatorKey = object.keys.first(where: { $0.hasPrefix("$") }) else { return nil }
        let here = field.isEmpty ? operatorKey : "\(field).\(operatorKey)"
        func allowOnly(_ allowed: Set<String>) throws(FlowError) {
            for key in object.keys where !allowed.contains(key) {
                throw error(here, "unexpected key '\(key)' beside '\(operatorKey)' (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
        // Nodal: `default` beside `$input` or `$step` stands in when the path finds nothing
        // (Stepflow has no such key; without it a missing path is an error, as there).
        func withDefault(_ reference: Expression) throws(FlowError) -> Expression {
            guard let raw = object["default"] else { return reference }
            let defaultValue = try parse(raw, field: field.isEmpty ? "default" : "\(field).default", depth: depth + 1)
            return .withDefault(reference: reference, defaultValue: defaultValue)
        }
        func path(_ key: String = "path") throws(FlowError) -> JSONPath {
            guard let raw = object[key] else { return .root }
            guard case .string(let text) = raw else {
                throw error(field.isEmpty ? key : "\(field).\(key)", "a path must be a string, not \(raw.typeName)")
            }
            do { return try JSONPath(text) } catch { throw self.error(field.isEmpty ? key : "\(field).\(key)", error.description) }
        }
        switch operatorKey {
        case "$literal":
            try allowOnly(["$literal"])
            return .literal(object["$literal"]!)
        case "$input":
            try allowOnly(["$input", "path", "default"])
            let raw = object["$input"]!
            guard case .string(let text) = raw else {
                throw error(here, "'$input' takes a path string such as '$' or 'name', not \(raw.typeName)")
            }
            let base: JSONPath
            do { base = try JSONPath(text) } catch { throw self.error(here, error.description) }
            let extra = try path()
            return try withDefault(.input(JSONPath(segments: base.segments + extra.segments, description: extra.isRoot ? base.description : base.description + extra.description.dropFirst())))
        case "$step":
            try allowOnly(["$step", "path", "default"])
            guard case .string(let id) = object["$step"]! else {
                throw error(here, "'$step' takes a step id string, not \(object["$step"]!.typeName)")
            }
            return try withDefault(try stepReference(id, path: try path(), field: here))
        case "$from":
            // Stepflow's earlier form: {$from: {step: id} | {workflow: input}, path: p}.
            try allowOnly(["$from", "path"])
            let source = object["$from"]!
            if let id = source["step"]?.stringValue { return try stepReference(id, path: try path(), field: here) }
            if source["workflow"] != nil { return .input(try path()) }
            throw error(here, "'$from' takes {step: id} or {workflow: input}")
        case "$variable":
            try allowOnly(["$variable", "default"])
            guard case .string(let name) = object["$variable"]! else {
                throw error(here, "'$variable' takes a variable name string")
            }
            let defaultValue = try object["default"].map { (value) throws(FlowError) in
                try parse(value, field: field.isEmpty ? "default" : "\(field).default", depth: depth + 1)
            }
            return .variable(name: name, defaultValue: defaultValue)
        case "$if":
            try allowOnly(["$if", "then", "else"])
            guard let thenValue = object["then"] else { throw error(here, "'$if' needs a 'then'") }
            let condition = try parse(object["$if"]!, field: here, depth: depth + 1)
            let thenBranch = try parse(thenValue, field: field.isEmpty ? "then" : "\(field).then", depth: depth + 1)
            let elseBranch = try object["else"].map { (value) throws(FlowError) in
                try parse(value, field: field.isEmpty ? "else" : "\(field).else", depth: depth + 1)
            } ?? .literal(.null)
            return .conditional(condition: condition, then: thenBranch, else: elseBranch)
        case "$switch":
            try allowOnly(["$switch", "cases", "default"])
            guard case .object(let cases)? = object["cases"], !cases.isEmpty else {
                throw error(here, "'$switch' needs 'cases': a mapping from values to expressions")
            }
            let value = try parse(object["$switch"]!, field: here, depth: depth + 1)
            var parsed: [(key: String, value: Expression)] = []
            for (key, option) in cases {
                parsed.append((key: key, value: try parse(option, field: field.isEmpty ? "cases.\(key)" : "\(field).cases.\(key)", depth: depth + 1)))
            }
            let defaultCase = try object["default"].map { (value) throws(FlowError) in
                try parse(value, field: field.isEmpty ? "default" : "\(field).default", depth: depth + 1)
            }
            return .choice(value: value, cases: parsed, defaultCase: defaultCase)
        case "$coalesce":
            try allowOnly(["$coalesce"])
            guard case .array(let options) = object["$coalesce"]! else {
                throw error(here, "'$coalesce' takes a list of expressions")
            }
            var parsed: [Expression] = []
            for (index, option) in options.enumerated() { parsed.append(try parse(option, field: "\(here)[\(index)]", depth: depth + 1)) }
            return .coalesce(parsed)
        default:
            throw error(here, "unknown expression '\(operatorKey)' (known: $input, $step, $variable, $literal, $if, $switch, $coalesce, $from; write {$literal: ...} for a plain object with '$' keys)")
        }
    }

    private func stepReference(_ id: String, path: JSONPath, field: String) throws(FlowError) -> Expression {
        guard let index = stepIndexes[id] else {
            let known = stepIndexes.keys.sorted().prefix(10).joined(separator: ", ")
            throw error(field, "reference to unknown step '\(id)'" + (known.isEmpty ? " (the flow has no steps)" : " (steps: \(known))"))
        }
        return .step(index: index, id: id, path: path)
    }
}

extension JSON {
    /// An array or an object.
    fileprivate var isContainer: Bool {
        switch self {
        case .array, .object: true
        default: false
        }
    }
}
