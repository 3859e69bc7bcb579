public import NodalJSON
internal import Yams

/// Reading YAML (and JSON, which Yams also reads) into `JSON`.
enum YAMLConversion {
    /// Parses a whole YAML document into a `Yams.Node`, naming the file in errors.
    static func compose(_ text: String, file: String?) throws(FlowError) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch {
            throw FlowError(file: file, "malformed YAML: \(String(describing: error).replacingNewlines)")
        }
    }

    /// Converts a node to JSON. Mapping keys must be scalars; `keyContext` names where, for errors.
    static func json(_ node: Node, file: String?, field: String = "") throws(FlowError) -> JSON {
        switch node {
        case .scalar(let scalar):
            return scalarJSON(scalar, node: node)
        case .sequence(let sequence):
            var array: [JSON] = []
            array.reserveCapacity(sequence.count)
            for (index, element) in sequence.enumerated() {
                array.append(try json(element, file: file, field: "\(field)[\(index)]"))
            }
            return .array(array)
        case .mapping(let mapping):
            var object = JSONObject()
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw FlowError(file: file, field: field, "mapping keys must be strings\(location(key))")
                }
                let name = keyScalar.string
                object[name] = try json(value, file: file, field: field.isEmpty ? name : "\(field).\(name)")
            }
            return .object(object)
        case .alias:
            // Yams resolves aliases while composing; an unresolved one is a document error.
            throw FlowError(file: file, field: field, "unresolved YAML alias\(location(node))")
        }
    }

    /// Any node as JSON, with non-scalar mapping keys allowed (they become part of the key's
    /// own JSON). Used for tables keyed by JSON values, such as mock behaviours.
    static func anyJSON(_ node: Node) -> JSON {
        switch node {
        case .scalar(let scalar): return scalarJSON(scalar, node: node)
        case .sequence(let sequence): return .array(sequence.map(anyJSON))
        case .mapping(let mapping):
            var object = JSONObject()
            for (key, value) in mapping {
                let name = if case .scalar(let s) = key { s.string } else { anyJSON(key).serialized() }
                object[name] = anyJSON(value)
            }
            return .object(object)
        case .alias: return .null
        }
    }

    /// Resolves a scalar with YAML 1.2's core schema, as Stepflow (serde_yaml) does: only
    /// `true`/`false` are booleans, so `yes`, `no`, `on` and `off` stay strings, and `10:30` is not
    /// a base-60 number. Quoted scalars are always strings.
    static func scalarJSON(_ scalar: Node.Scalar, node: Node) -> JSON {
        let text = scalar.string
        guard scalar.style == .plain else { return .string(text) }
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        if let number = coreSchemaNumber(text) { return number }
        return .string(text)
    }

    static func coreSchemaNumber(_ text: String) -> JSON? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first else { return nil }
        if text.hasPrefix("0x"), bytes.count > 2, let value = Int(text.dropFirst(2), radix: 16) { return .int(value) }
        if text.hasPrefix("0o"), bytes.count > 2, let value = Int(text.dropFirst(2), radix: 8) { return .int(value) }
        let isDigit = { (b: UInt8) in b >= 48 && b <= 57 }
        let body = first == UInt8(ascii: "-") || first == UInt8(ascii: "+") ? bytes.dropFirst() : bytes[...]
        guard !body.isEmpty else { return nil }
        if body.allSatisfy(isDigit) {
            if let value = Int(text) { return .int(value) }
            return Double(text).map(JSON.double)
        }
        // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
        var i = body.startIndex
        var mantissaDigits = 0
        while i < body.endIndex, isDigit(body[i]) { i += 1; mantissaDigits += 1 }
        if i < body.endIndex, body[i] == UInt8(ascii: ".") {
            i += 1
            while i < body.endIndex, isDigit(body[i]) { i += 1; mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return nil }
        if i < body.endIndex, body[i] == UInt8(ascii: "e") || body[i] == UInt8(ascii: "E") {
            i += 1
            if i < body.endIndex, body[i] == UInt8(ascii: "-") || body[i] == UInt8(ascii: "+") { i += 1 }
            let exponentStart = i
            while i < body.endIndex, isDigit(body[i]) { i += 1 }
            guard i > exponentStart else { return nil }
        }
        guard i == body.endIndex else { return nil }
        return Double(text).map(JSON.double)
    }

    static func location(_ node: Node) -> String {
        guard let mark = node.mark else { return "" }
        return " (line \(mark.line), column \(mark.column))"
    }
}

extension String {
    var replacingNewlines: String {
        split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

extension JSON {
    /// Reads a JSON file, or a YAML file when the name ends in `.yaml` or `.yml`.
    public init(contentsOfFile path: String) throws(FlowError) {
        let text: String
        do { text = try FileSystem.readText(path) } catch { throw FlowError(file: path, error.reason) }
        if path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
            guard let node = try YAMLConversion.compose(text, file: path) else { self = .null; return }
            self = try YAMLConversion.json(node, file: path)
        } else {
            do { self = try JSON(parsing: text) } catch { throw FlowError(file: path, "malformed JSON: \(error)") }
        }
    }
}
