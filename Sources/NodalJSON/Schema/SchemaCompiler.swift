// Compiling a schema document into `SchemaNode`s.
//
// Nothing here recurses: every subschema met is given a node index at once and queued, and the
// queue is drained in a loop, so a deeply nested schema cannot overflow the stack. `$ref`s are
// resolved after everything reachable through keywords has been seen (so every `$id` and
// `$anchor` is known); a reference into a place no keyword reaches (`#/definitions/x`, or any
// other pointer) compiles that place on demand, and the loop runs until nothing is left.

struct SchemaCompiler {
    /// The base URI of a document whose root has no `$id`.
    static let defaultBase = URIReference("nodal:///schema.json")
    /// Subschemas nested deeper than this (in JSON pointer tokens) are refused.
    static let maximumPointerLength = 2 * JSONSchema.maximumDepth

    let document: JSON
    private var nodes: [SchemaNode] = []
    /// Per node: its base URI, and its place in the document as pointer tokens.
    private var bases: [URIReference] = []
    private var pointers: [[String]] = []
    private var nodeAtPointer: [String: Int] = [:]
    private var pending: [(node: Int, schema: JSON)] = []
    /// Schema resources (`$id`s and the root) by absolute URI without fragment.
    private var resources: [String: Int] = [:]
    /// Anchors by resource URI + "#" + name.
    private var anchors: [String: Int] = [:]
    /// `$ref`s waiting for resolution: the node, the keyword's index in it, and the reference.
    private var references: [(node: Int, keyword: Int, reference: String)] = []

    init(document: JSON) {
        self.document = document
    }

    mutating func compile() throws(JSONSchemaError) -> [SchemaNode] {
        _ = try node(for: document, at: [], parentBase: Self.defaultBase)
        while !pending.isEmpty {
            while let (index, schema) = pending.popLast() {
                try compileNode(index, schema)
            }
            let waiting = references
            references = []
            for reference in waiting {
                let target = try resolve(reference.reference, from: reference.node)
                nodes[reference.node].keywords[reference.keyword] = .ref(target: target)
            }
        }
        return nodes
    }

    // MARK: Nodes and locations

    private func failure(_ node: Int, _ keyword: String..., reason: String) -> JSONSchemaError {
        var text = nodes[node].location
        for token in keyword { text += "/" + SchemaText.escapedToken(token) }
        return JSONSchemaError(schemaLocation: text, reason: reason)
    }

    /// The node for the subschema `schema` at `tokens` in the document: the existing one, or a new
    /// one queued for compiling. Registers the subschema's `$id` and `$anchor` right away.
    private mutating func node(for schema: JSON, at tokens: [String], parentBase: URIReference)
        throws(JSONSchemaError) -> Int
    {
        let pointer = SchemaText.pointer(tokens)
        if let existing = nodeAtPointer[pointer] { return existing }
        let index = nodes.count
        let location = "#" + pointer
        guard tokens.count <= Self.maximumPointerLength else {
            throw JSONSchemaError(
                schemaLocation: String(location.prefix(200)) + "…",
                reason: "subschemas are nested more than \(Self.maximumPointerLength) levels deep")
        }
        var base = parentBase
        if case .object(let object) = schema {
            if let id = object["$id"] {
                guard case .string(let text) = id else {
                    throw JSONSchemaError(
                        schemaLocation: location + "/$id", reason: "$id must be a string, got \(id.typeName)")
                }
                let reference = URIReference(text)
                guard reference.fragment == nil || reference.fragment == "" else {
                    throw JSONSchemaError(
                        schemaLocation: location + "/$id",
                        reason: "$id '\(text)' has a fragment; name a place in the schema with $anchor instead")
                }
                base = reference.resolved(against: parentBase).withoutFragment
                try register(base.text, in: \.resources, index, location + "/$id", what: "$id '\(text)'")
            }
            for keyword in ["$anchor", "$dynamicAnchor"] {
                guard let anchor = object[keyword] else { continue }
                guard case .string(let name) = anchor, Self.isAnchorName(name) else {
                    throw JSONSchemaError(
                        schemaLocation: location + "/" + keyword,
                        reason:
                            "\(keyword) must be a name (a letter or '_', then letters, digits, '-', '_', '.'), got \(anchor.shortDescription(limit: 60))"
                    )
                }
                // `$dynamicAnchor` is also a plain anchor for `$ref`; `$dynamicRef` itself is not supported.
                let key = base.text + "#" + name
                if anchors[key] != index {
                    try register(key, in: \.anchors, index, location + "/" + keyword, what: "anchor '\(name)'")
                }
            }
        }
        if tokens.isEmpty && resources[base.text] == nil {
            resources[base.text] = index
        }
        nodes.append(SchemaNode(location: location))
        bases.append(base)
        pointers.append(tokens)
        nodeAtPointer[pointer] = index
        pending.append((index, schema))
        return index
    }

    private mutating func register(
        _ key: String, in table: WritableKeyPath<SchemaCompiler, [String: Int]>, _ index: Int, _ location: String,
        what: String
    ) throws(JSONSchemaError) {
        if let other = self[keyPath: table][key], other != index {
            throw JSONSchemaError(
                schemaLocation: location, reason: "\(what) is already used by the schema at \(nodes[other].location)")
        }
        self[keyPath: table][key] = index
    }

    private static func isAnchorName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII,
            first == "_" || (first.properties.isAlphabetic)
        else { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII
                && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == ".")
        }
    }

    /// The node for a subschema under `parent`, at `parent`'s pointer plus `tokens`.
    private mutating func child(_ parent: Int, _ tokens: String..., schema: JSON) throws(JSONSchemaError) -> Int {
        try node(for: schema, at: pointers[parent] + tokens, parentBase: bases[parent])
    }

    // MARK: $ref

    private mutating func resolve(_ reference: String, from index: Int) throws(JSONSchemaError) -> Int {
        let uri = URIReference(reference).resolved(against: bases[index])
        let resourceKey = uri.withoutFragment.text
        guard let resource = resources[resourceKey] else {
            throw failure(
                index, "$ref",
                reason: "$ref '\(reference)' points outside this schema"
                    + (uri.scheme == Self.defaultBase.scheme ? "" : " (to \(resourceKey))")
                    + "; only references within the document are supported"
            )
        }
        guard let fragment = SchemaText.percentDecoded(uri.fragment ?? "") else {
            throw failure(index, "$ref", reason: "$ref '\(reference)' has a malformed percent-escape")
        }
        if fragment.isEmpty { return resource }
        if !fragment.hasPrefix("/") {
            guard let target = anchors[resourceKey + "#" + fragment] else {
                throw failure(
                    index, "$ref",
                    reason: "$ref '\(reference)': no $anchor '\(fragment)' in \(nodes[resource].location)")
            }
            return target
        }
        guard let tokens = SchemaText.pointerTokens(fragment) else {
            throw failure(
                index, "$ref",
                reason: "$ref '\(reference)' is not a valid JSON pointer ('~' must be followed by 0 or 1)")
        }
        let full = pointers[resource] + tokens
        if let existing = nodeAtPointer[SchemaText.pointer(full)] { return existing }
        guard let schema = SchemaText.value(at: full, in: document) else {
            throw failure(index, "$ref", reason: "$ref '\(reference)' points to nothing in the document")
        }
        // A place no keyword reached (such as `definitions`): its base is the nearest enclosing node's.
        var enclosing = full
        var base = bases[resource]
        while !enclosing.isEmpty {
            enclosing.removeLast()
            if let node = nodeAtPointer[SchemaText.pointer(enclosing)] {
                base = bases[node]
                break
            }
        }
        return try node(for: schema, at: full, parentBase: base)
    }

    // MARK: Keywords

    private mutating func compileNode(_ index: Int, _ schema: JSON) throws(JSONSchemaError) {
        let object: JSONObject
        switch schema {
        case .bool(let value):
            nodes[index].isFalse = !value
            return
        case .object(let o):
            object = o
        default:
            throw JSONSchemaError(
                schemaLocation: nodes[index].location,
                reason:
                    "a schema must be an object or a boolean, got \(schema.typeName) \(schema.shortDescription(limit: 60))"
            )
        }
        var keywords: [SchemaKeyword] = []

        if let reference = object["$ref"] {
            guard case .string(let text) = reference else {
                throw failure(index, "$ref", reason: "$ref must be a string, got \(reference.typeName)")
            }
            references.append((index, keywords.count, text))
            keywords.append(.ref(target: -1))  // patched once every $id and $anchor is known
        }
        if let type = object["type"] {
            keywords.append(.type(try types(type, index)))
        }
        if let value = object["const"] {
            keywords.append(.constant(value))
        }
        if let value = object["enum"] {
            guard case .array(let values) = value else {
                throw failure(index, "enum", reason: "enum must be an array, got \(value.typeName)")
            }
            keywords.append(.enumeration(values, values.count > 16 ? Set(values.map { ExactJSON(value: $0) }) : nil))
        }

        // Numbers
        for (name, make) in [
            ("minimum", SchemaKeyword.minimum), ("maximum", SchemaKeyword.maximum),
            ("exclusiveMinimum", SchemaKeyword.exclusiveMinimum), ("exclusiveMaximum", SchemaKeyword.exclusiveMaximum),
        ] as [(String, (SchemaNumber) -> SchemaKeyword)] {
            guard let value = object[name] else { continue }
            guard let number = SchemaNumber(value) else {
                throw failure(index, name, reason: "\(name) must be a \(Self.finiteNumber(value)), got \(Self.describeNumber(value))")
            }
            keywords.append(make(number))
        }
        if let value = object["multipleOf"] {
            guard let number = SchemaNumber(value), number.isPositive else {
                throw failure(
                    index, "multipleOf",
                    reason: "multipleOf must be a \(Self.finiteNumber(value)) above 0, got \(Self.describeNumber(value))")
            }
            keywords.append(.multipleOf(number))
        }

        // Strings
        if let value = object["minLength"] { keywords.append(.minLength(try count(value, index, "minLength"))) }
        if let value = object["maxLength"] { keywords.append(.maxLength(try count(value, index, "maxLength"))) }
        if let value = object["pattern"] {
            keywords.append(.pattern(try pattern(value, index, "pattern")))
        }

        // Arrays
        if let value = object["minItems"] { keywords.append(.minItems(try count(value, index, "minItems"))) }
        if let value = object["maxItems"] { keywords.append(.maxItems(try count(value, index, "maxItems"))) }
        if let value = object["uniqueItems"] {
            guard case .bool(let unique) = value else {
                throw failure(index, "uniqueItems", reason: "uniqueItems must be a boolean, got \(value.typeName)")
            }
            if unique { keywords.append(.uniqueItems) }
        }
        var prefixCount = 0
        if let value = object["prefixItems"] {
            let prefix = try schemaArray(value, index, "prefixItems")
            prefixCount = prefix.count
            keywords.append(.prefixItems(prefix))
        }
        if let value = object["items"] {
            if case .array = value {
                throw failure(
                    index, "items",
                    reason:
                        "items must be a schema; an array of schemas is the draft-07 tuple form, written prefixItems in draft 2020-12"
                )
            }
            keywords.append(.items(node: try child(index, "items", schema: value), start: prefixCount))
        }
        let minContains = try object["minContains"].map { value throws(JSONSchemaError) in
            try count(value, index, "minContains")
        }
        let maxContains = try object["maxContains"].map { value throws(JSONSchemaError) in
            try count(value, index, "maxContains")
        }
        if let value = object["contains"] {
            keywords.append(
                .contains(
                    node: try child(index, "contains", schema: value), min: minContains ?? 1,
                    explicitMin: minContains != nil, max: maxContains))
        }

        // Objects
        if let value = object["minProperties"] {
            keywords.append(.minProperties(try count(value, index, "minProperties")))
        }
        if let value = object["maxProperties"] {
            keywords.append(.maxProperties(try count(value, index, "maxProperties")))
        }
        if let value = object["required"] {
            keywords.append(.required(try names(value, index, "required")))
        }
        var known = PropertyTable([])
        if let value = object["properties"] {
            let table = PropertyTable(try schemaMap(value, index, "properties"))
            known = table
            keywords.append(.properties(table))
        }
        var patterns: [SchemaPattern] = []
        if let value = object["patternProperties"] {
            guard case .object(let members) = value else {
                throw failure(
                    index, "patternProperties", reason: "patternProperties must be an object, got \(value.typeName)")
            }
            var entries: [(pattern: SchemaPattern, node: Int)] = []
            for (source, subschema) in SchemaEquality.members(of: members) {
                let compiled = try pattern(.string(source), index, "patternProperties", source)
                entries.append((compiled, try child(index, "patternProperties", source, schema: subschema)))
            }
            patterns = entries.map(\.pattern)
            keywords.append(.patternProperties(entries))
        }
        if let value = object["additionalProperties"] {
            keywords.append(
                .additionalProperties(
                    node: try child(index, "additionalProperties", schema: value), known: known, patterns: patterns))
        }
        if let value = object["propertyNames"] {
            keywords.append(.propertyNames(node: try child(index, "propertyNames", schema: value)))
        }
        if let value = object["dependentRequired"] {
            guard case .object(let members) = value else {
                throw failure(
                    index, "dependentRequired", reason: "dependentRequired must be an object, got \(value.typeName)")
            }
            var entries: [(name: String, required: [String])] = []
            for (name, list) in SchemaEquality.members(of: members) {
                entries.append((name, try names(list, index, "dependentRequired", name)))
            }
            keywords.append(.dependentRequired(entries))
        }
        if let value = object["dependentSchemas"] {
            keywords.append(.dependentSchemas(PropertyTable(try schemaMap(value, index, "dependentSchemas"))))
        }

        // Applicators
        if let value = object["allOf"] { keywords.append(.allOf(try schemaArray(value, index, "allOf"))) }
        if let value = object["anyOf"] { keywords.append(.anyOf(try schemaArray(value, index, "anyOf"))) }
        if let value = object["oneOf"] { keywords.append(.oneOf(try schemaArray(value, index, "oneOf"))) }
        if let value = object["not"] { keywords.append(.not(try child(index, "not", schema: value))) }
        // `then` and `else` without `if` do nothing, but are still compiled: they may be $ref
        // targets, and a malformed one is still a malformed schema.
        let thenNode = try object["then"].map { value throws(JSONSchemaError) in try child(index, "then", schema: value)
        }
        let elseNode = try object["else"].map { value throws(JSONSchemaError) in try child(index, "else", schema: value)
        }
        if let value = object["if"] {
            let condition = try child(index, "if", schema: value)
            if thenNode != nil || elseNode != nil {
                keywords.append(.conditional(condition: condition, then: thenNode, else: elseNode))
            }
        }

        // Definitions: only compiled (for their errors, $ids and anchors) and reached by $ref.
        // `definitions` is the draft-07 name, still common in schemas written for older drafts.
        for name in ["$defs", "definitions"] {
            if let value = object[name] { _ = try schemaMap(value, index, name) }
        }

        nodes[index].keywords = keywords
        nodes[index].defaultValue = object["default"]
    }

    // MARK: Keyword arguments

    /// "finite number" for an infinity or NaN (which YAML can write: `.inf`, `1e400`), else "number".
    private static func finiteNumber(_ value: JSON) -> String {
        if case .double(let number) = value, !number.isFinite { return "finite number" }
        return "number"
    }

    /// A keyword's value as messages quote it: `string "3"`, `inf`, `0`.
    private static func describeNumber(_ value: JSON) -> String {
        switch value {
        case .double(let number) where !number.isFinite: "\(number)"
        case .int, .double, .null: value.shortDescription(limit: 60)
        default: "\(value.typeName) \(value.shortDescription(limit: 60))"
        }
    }

    private func types(_ value: JSON, _ index: Int) throws(JSONSchemaError) -> SchemaTypes {
        func named(_ name: JSON) throws(JSONSchemaError) -> SchemaTypes {
            guard case .string(let text) = name, let type = SchemaTypes.named.first(where: { $0.0 == text })?.1 else {
                throw failure(
                    index, "type",
                    reason:
                        "unknown type \(name.shortDescription(limit: 60)); the types are null, boolean, integer, number, string, array and object"
                )
            }
            return type
        }
        switch value {
        case .string:
            return try named(value)
        case .array(let list) where !list.isEmpty:
            var types: SchemaTypes = []
            for name in list {
                let type = try named(name)
                guard !types.contains(type) else {
                    throw failure(index, "type", reason: "type lists \(name.shortDescription(limit: 60)) twice")
                }
                types.insert(type)
            }
            return types
        default:
            throw failure(
                index, "type",
                reason:
                    "type must be a type name or a non-empty array of them, got \(value.shortDescription(limit: 60))")
        }
    }

    /// A non-negative integer argument (`2` or `2.0`); values above `Int.max` are `Int.max`.
    private func count(_ value: JSON, _ index: Int, _ keyword: String) throws(JSONSchemaError) -> Int {
        switch value {
        case .int(let i) where i >= 0:
            return i
        case .double(let d) where d >= 0 && d.isFinite && d.rounded() == d:
            return d < 9.2e18 ? Int(d) : Int.max
        default:
            throw failure(
                index, keyword,
                reason: "\(keyword) must be a non-negative integer, got \(value.shortDescription(limit: 60))")
        }
    }

    private func pattern(_ value: JSON, _ index: Int, _ keyword: String...) throws(JSONSchemaError) -> SchemaPattern {
        var location = nodes[index].location
        for token in keyword { location += "/" + SchemaText.escapedToken(token) }
        guard case .string(let source) = value else {
            throw JSONSchemaError(schemaLocation: location, reason: "pattern must be a string, got \(value.typeName)")
        }
        do {
            return try SchemaPattern(source)
        } catch {
            throw JSONSchemaError(
                schemaLocation: location,
                reason: "pattern '\(source)' is not a valid regular expression: \(error.reason)")
        }
    }

    private func names(_ value: JSON, _ index: Int, _ keyword: String...) throws(JSONSchemaError) -> [String] {
        var location = nodes[index].location
        for token in keyword { location += "/" + SchemaText.escapedToken(token) }
        guard case .array(let list) = value else {
            throw JSONSchemaError(
                schemaLocation: location, reason: "expected an array of property names, got \(value.typeName)")
        }
        var names: [String] = []
        for element in list {
            guard case .string(let name) = element else {
                throw JSONSchemaError(
                    schemaLocation: location,
                    reason:
                        "expected property names (strings), got \(element.typeName) \(element.shortDescription(limit: 60))"
                )
            }
            names.append(name)
        }
        return names
    }

    private mutating func schemaArray(_ value: JSON, _ index: Int, _ keyword: String) throws(JSONSchemaError) -> [Int] {
        guard case .array(let list) = value, !list.isEmpty else {
            throw failure(
                index, keyword,
                reason: "\(keyword) must be a non-empty array of schemas, got \(value.shortDescription(limit: 60))")
        }
        var result: [Int] = []
        result.reserveCapacity(list.count)
        for (position, subschema) in list.enumerated() {
            result.append(try child(index, keyword, String(position), schema: subschema))
        }
        return result
    }

    private mutating func schemaMap(_ value: JSON, _ index: Int, _ keyword: String) throws(JSONSchemaError) -> [(
        name: String, node: Int
    )] {
        guard case .object(let members) = value else {
            throw failure(index, keyword, reason: "\(keyword) must be an object of schemas, got \(value.typeName)")
        }
        var result: [(name: String, node: Int)] = []
        for (name, subschema) in SchemaEquality.members(of: members) {
            result.append((name, try child(index, keyword, name, schema: subschema)))
        }
        return result
    }
}
