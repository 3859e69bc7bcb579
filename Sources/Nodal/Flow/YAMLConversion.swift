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

    static func scalarJSON(_ scalar: Node.Scalar, node: Node) -> JSON {
        switch node.tag.rawValue {
        case Tag.Name.null.rawValue: return .null
        case Tag.Name.bool.rawValue: return node.bool.map(JSON.bool) ?? .string(scalar.string)
        case Tag.Name.int.rawValue:
            if let int = node.int { return .int(int) }
            return node.float.map(JSON.double) ?? .string(scalar.string)
        case Tag.Name.float.rawValue: return node.float.map(JSON.double) ?? .string(scalar.string)
        default: return .string(scalar.string)
        }
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
        do { text = try FileSystem.readText(path) } catch { throw FlowError(file: path, error.description) }
        if path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
            guard let node = try YAMLConversion.compose(text, file: path) else { self = .null; return }
            self = try YAMLConversion.json(node, file: path)
        } else {
            do { self = try JSON(parsing: text) } catch { throw FlowError(file: path, "malformed JSON: \(error)") }
        }
    }
}
