public import NodalJSON
internal import CYaml
internal import Yams

/// Reading YAML (and JSON, which Yams also reads) into `JSON`.
///
/// Every document goes through `compose`, which bounds what a document can cost before anything
/// walks it: nesting at most `Limits.valueDepth` levels, and aliases expanding it to at most
/// `Limits.aliasExpansion(forBytes:)` nodes (a 645-byte "billion laughs" document would otherwise
/// expand to billions). Errors name the line and column, never the text of the document.
enum YAMLConversion {
    /// Parses a whole YAML document into a `Yams.Node`, naming the file in errors. A UTF-8 byte
    /// order mark at the start is skipped.
    static func compose(_ text: String, file: String?) throws(FlowError) -> Node? {
        let text = TextInput.droppingByteOrderMark(text)
        // Aliases need a '*'; without one the document cannot expand, and Yams' own nesting limit
        // (1000) keeps composing it safe. With one, measure the expansion on libyaml's events
        // first: composing hashes mapping keys, so an alias bomb used as keys costs time there.
        if text.utf8.contains(UInt8(ascii: "*")) {
            try AliasMeasure.check(text, file: file)
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw FlowError(file: file, malformedYAML(error))
        }
        if let node { try checkShape(node, textBytes: text.utf8.count, file: file) }
        return node
    }

    /// A parse error as "malformed YAML at line L, column C: problem", without the snippet of the
    /// document Yams' own description shows (the document may be a file that is not a flow).
    static func malformedYAML(_ error: any Error) -> String {
        guard let error = error as? YamlError else { return "malformed YAML" }
        func place(_ mark: Mark) -> String { "line \(mark.line), column \(mark.column)" }
        func described(_ problem: String, _ mark: Mark, _ context: YamlError.Context?) -> String {
            let problem = problem.contains("Maximum nesting level")
                ? "the document nests deeper than \(Limits.valueDepth) levels"
                : problem
            var text = "malformed YAML at \(place(mark)): \(problem)"
            if let context { text += " (\(context.text) at \(place(context.mark)))" }
            return text
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            return described(problem, mark, context)
        case .reader(let problem, let offset, _, _):
            return "malformed YAML" + (offset.map { " at byte \($0)" } ?? "") + ": \(problem)"
        case .duplicatedKeysInMapping(_, let context):
            return "malformed YAML at \(place(context.mark)): a mapping has the same key twice"
        case .memory:
            return "malformed YAML: out of memory while parsing"
        default:
            return "malformed YAML"
        }
    }

    /// Refuses a composed document nesting deeper than `Limits.valueDepth`, or whose aliases
    /// expand it past `Limits.aliasExpansion(forBytes:)` nodes. Iterative: never recurses, and
    /// stops as soon as a limit is passed, so its cost is bounded by the limits.
    static func checkShape(_ root: Node, textBytes: Int, file: String?) throws(FlowError) {
        let budget = Limits.aliasExpansion(forBytes: textBytes)
        var stack: [(node: Node, depth: Int)] = [(root, 1)]
        var count = 0
        while let (node, depth) = stack.popLast() {
            count += 1
            if count > budget {
                throw FlowError(file: file, "YAML aliases expand the document to more than \(budget) nodes (the limit for \(textBytes) bytes of text: \(Limits.aliasExpansionText))")
            }
            if depth > Limits.valueDepth {
                throw FlowError(file: file, "the document nests deeper than \(Limits.valueDepth) levels\(location(node))")
            }
            switch node {
            case .sequence(let sequence):
                for element in sequence { stack.append((element, depth + 1)) }
            case .mapping(let mapping):
                for (key, value) in mapping {
                    stack.append((key, depth + 1))
                    stack.append((value, depth + 1))
                }
            case .scalar, .alias:
                break
            }
        }
    }

    /// Converts a node to JSON. Mapping keys must be scalars; `field` names where, for errors.
    /// The node came from `compose`, so its depth is bounded and the recursion is too.
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
                    // Located by line and column only: the keys around it may be a secret's.
                    throw FlowError(file: file, "mapping keys must be strings\(location(key))")
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

    /// The 1-based line of the key or item at each path in a composed document, nil where the path
    /// is not there (a JSON document Yams reads differently, say). Linear in the paths and the
    /// mappings they pass through: each mapping's keys are indexed once, so a flow with thousands
    /// of unknown keys is placed as fast as one with a few (the first of repeated keys counts).
    static func lines(of paths: [[DocumentPathElement]], in root: Node) -> [Int?] {
        var tables: [[DocumentPathElement]: [String: (line: Int?, value: Node)]] = [:]
        return paths.map { path in
            var node = root
            var line = root.mark?.line
            for (depth, element) in path.enumerated() {
                switch (element, node) {
                case (.key(let name), .mapping(let mapping)):
                    let prefix = Array(path[..<depth])
                    let table: [String: (line: Int?, value: Node)]
                    if let known = tables[prefix] {
                        table = known
                    } else {
                        var built: [String: (line: Int?, value: Node)] = [:]
                        for pair in mapping {
                            guard let key = pair.key.scalar?.string, built[key] == nil else { continue }
                            built[key] = (pair.key.mark?.line, pair.value)
                        }
                        tables[prefix] = built
                        table = built
                    }
                    guard let entry = table[name] else { return nil }
                    line = entry.line
                    node = entry.value
                case (.index(let index), .sequence(let sequence)) where index >= 0 && index < sequence.count:
                    node = sequence[index]
                    line = node.mark?.line
                default:
                    return nil
                }
            }
            return line
        }
    }

    static func location(_ node: Node) -> String {
        guard let mark = node.mark else { return "" }
        return " (line \(mark.line), column \(mark.column))"
    }
}

/// Measures, on libyaml's event stream and before Yams composes anything, how many nodes a
/// document's aliases expand it to and how deep it then nests. Linear in the text: each anchor's
/// expanded size and depth are remembered, so an alias costs one lookup however big its node is.
///
/// Why not on the composed `Node`: Yams composes by copying anchored nodes and checks every
/// mapping for duplicate keys by hashing them, so a document whose keys are aliases of huge nodes
/// costs its whole expansion already in `Yams.compose`.
private enum AliasMeasure {
    struct Open {
        var size: Int
        var depth: Int
        var anchor: String?
    }

    static func check(_ text: String, file: String?) throws(FlowError) {
        let budget = Limits.aliasExpansion(forBytes: text.utf8.count)
        var text = text
        let outcome: Result<Void, FlowError> = text.withUTF8 { buffer in
            Result { () throws(FlowError) in try measure(buffer, budget: budget, file: file) }
        }
        try outcome.get()
    }

    private static func measure(_ buffer: UnsafeBufferPointer<UInt8>, budget: Int, file: String?) throws(FlowError) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)

        var anchors: [String: (size: Int, depth: Int)] = [:]
        var open: [Open] = []
        var total = 0
        func anchorName(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: $0) }
        }
        /// Adds a finished node (its expanded size and the depth below it) to its parent.
        func add(size: Int, depth: Int, line: Int, column: Int) throws(FlowError) {
            let level = open.count + depth
            if level > Limits.valueDepth {
                throw FlowError(file: file, "the document nests deeper than \(Limits.valueDepth) levels once its aliases are expanded (line \(line), column \(column))")
            }
            let expanded: Int
            if open.isEmpty {
                total = total.addingSaturated(size)
                expanded = total
            } else {
                open[open.count - 1].size = open[open.count - 1].size.addingSaturated(size)
                open[open.count - 1].depth = max(open[open.count - 1].depth, depth + 1)
                expanded = open[open.count - 1].size
            }
            if expanded > budget {
                throw FlowError(file: file, "YAML aliases expand the document to more than \(budget) nodes (line \(line), column \(column); the limit for \(buffer.count) bytes of text: \(Limits.aliasExpansionText))")
            }
        }
        while true {
            var event = yaml_event_t()
            // A parse error: Yams reports it, with the same line and column, when it composes.
            guard yaml_parser_parse(&parser, &event) == 1 else { return }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1, column = Int(event.start_mark.column) + 1
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return
            case YAML_SCALAR_EVENT:
                if let anchor = anchorName(event.data.scalar.anchor) { anchors[anchor] = (1, 1) }
                try add(size: 1, depth: 1, line: line, column: column)
            case YAML_ALIAS_EVENT:
                let anchored = anchorName(event.data.alias.anchor).flatMap { anchors[$0] } ?? (1, 1)
                try add(size: anchored.size, depth: anchored.depth, line: line, column: column)
            case YAML_SEQUENCE_START_EVENT:
                open.append(Open(size: 1, depth: 1, anchor: anchorName(event.data.sequence_start.anchor)))
            case YAML_MAPPING_START_EVENT:
                open.append(Open(size: 1, depth: 1, anchor: anchorName(event.data.mapping_start.anchor)))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let finished = open.popLast() else { return }
                if let anchor = finished.anchor { anchors[anchor] = (finished.size, finished.depth) }
                try add(size: finished.size, depth: finished.depth, line: line, column: column)
            default:
                continue
            }
        }
    }
}

extension Int {
    /// `self + other`, or `Int.max` where that would overflow (sizes of alias expansions).
    func addingSaturated(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
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
            self = try TextInput.parseJSON(text, file: path)
        }
    }
}
