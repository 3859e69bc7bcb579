// The compiled form of a schema: one node per subschema, each a list of keyword checks with
// their arguments already read, converted and validated. Nodes refer to each other by index, so
// `$ref` cycles are just indexes and nothing is looked up by name while validating.

/// The compiled schema as validation reads it: every node's keywords in one array, and nodes
/// that are plain values (a range and a flag), so stepping from node to node copies nothing that
/// is reference counted. What only messages and defaults need is kept beside them. A class, so a
/// schema (and each validation of it) holds one reference, not one per array.
final class SchemaProgram: Sendable {
    struct Node: Sendable {
        var keywords: Range<Int>
        var isFalse: Bool
    }

    let nodes: [Node]
    let keywords: [SchemaKeyword]
    /// Per node: where it is written in the schema (`#/properties/name`), and its `default`.
    let locations: [String]
    let defaults: [JSON?]

    init(_ compiled: [SchemaNode]) {
        var nodes: [Node] = []
        var keywords: [SchemaKeyword] = []
        nodes.reserveCapacity(compiled.count)
        keywords.reserveCapacity(compiled.reduce(0) { $0 + $1.keywords.count })
        for node in compiled {
            let start = keywords.count
            keywords.append(contentsOf: node.keywords)
            nodes.append(Node(keywords: start..<keywords.count, isFalse: node.isFalse))
        }
        self.nodes = nodes
        self.keywords = keywords
        locations = compiled.map(\.location)
        defaults = compiled.map(\.defaultValue)
    }

    func keywords(of node: Int) -> ArraySlice<SchemaKeyword> { keywords[nodes[node].keywords] }
}

/// One subschema as the compiler builds it.
struct SchemaNode: Sendable {
    /// Where the subschema is written, as a URI fragment of the document: `#`, `#/properties/name`.
    var location: String
    var keywords: [SchemaKeyword] = []
    /// The boolean schema `false` (or an object schema compiled to always fail).
    var isFalse = false
    /// The `default` keyword's value, for `applyingDefaults` (validation ignores it).
    var defaultValue: JSON?
}

/// The JSON types of `type`, as bits.
struct SchemaTypes: OptionSet, Sendable {
    let rawValue: UInt8
    static let null = SchemaTypes(rawValue: 1 << 0)
    static let boolean = SchemaTypes(rawValue: 1 << 1)
    static let integer = SchemaTypes(rawValue: 1 << 2)
    static let number = SchemaTypes(rawValue: 1 << 3)
    static let string = SchemaTypes(rawValue: 1 << 4)
    static let array = SchemaTypes(rawValue: 1 << 5)
    static let object = SchemaTypes(rawValue: 1 << 6)

    static let named: [(String, SchemaTypes)] = [
        ("null", .null), ("boolean", .boolean), ("integer", .integer), ("number", .number),
        ("string", .string), ("array", .array), ("object", .object),
    ]

    /// The types for messages, most common first: "a string", "null", "a string or null",
    /// "an integer, a boolean or an object".
    var phrase: String {
        let order: [(String, SchemaTypes)] = [
            ("a string", .string), ("a number", .number), ("an integer", .integer), ("a boolean", .boolean),
            ("an object", .object), ("an array", .array), ("null", .null),
        ]
        var names: [String] = []
        for (name, type) in order where contains(type) {
            names.append(name)
        }
        if names.count == 1 { return names[0] }
        return names.dropLast().joined(separator: ", ") + " or " + names[names.count - 1]
    }

    func admits(_ value: JSON) -> Bool {
        switch value {
        case .null: contains(.null)
        case .bool: contains(.boolean)
        case .int: contains(.integer) || contains(.number)
        case .double(let d): contains(.number) || (contains(.integer) && d.rounded(.towardZero) == d)
        case .string: contains(.string)
        case .array: contains(.array)
        case .object: contains(.object)
        }
    }
}

/// Object property names to subschemas: a short list is searched in order; a long one is hashed.
struct PropertyTable: Sendable {
    var entries: [(name: String, node: Int)]
    private var index: [ExactKey: Int]?

    /// `entries` must not repeat a name (the compiler passes an object's members).
    init(_ entries: [(name: String, node: Int)]) {
        self.entries = entries
        if entries.count > 8 {
            var index: [ExactKey: Int] = [:]
            for entry in entries { index[ExactKey(entry.name)] = entry.node }
            self.index = index
        }
    }

    func node(for name: String) -> Int? {
        if let index { return index[ExactKey(name)] }
        for entry in entries where SchemaEquality.same(entry.name, name) { return entry.node }
        return nil
    }
}

enum SchemaKeyword: Sendable {
    case ref(target: Int)
    case type(SchemaTypes)
    case constant(JSON)
    /// `enum`; long lists also come as a set.
    case enumeration([JSON], Set<ExactJSON>?)
    case minimum(SchemaNumber)
    case maximum(SchemaNumber)
    case exclusiveMinimum(SchemaNumber)
    case exclusiveMaximum(SchemaNumber)
    case multipleOf(SchemaNumber)
    case minLength(Int)
    case maxLength(Int)
    case pattern(SchemaPattern)
    case minItems(Int)
    case maxItems(Int)
    case uniqueItems
    case prefixItems([Int])
    /// `items`, applied from `start` on (the number of `prefixItems`).
    case items(node: Int, start: Int)
    /// `contains` with `minContains` (1 unless given: `explicitMin` says which) and `maxContains`.
    case contains(node: Int, min: Int, explicitMin: Bool, max: Int?)
    case minProperties(Int)
    case maxProperties(Int)
    case required([String])
    case properties(PropertyTable)
    case patternProperties([(pattern: SchemaPattern, node: Int)])
    /// `additionalProperties`, applied to the names neither `properties` nor `patternProperties`
    /// of the same schema object cover.
    case additionalProperties(node: Int, known: PropertyTable, patterns: [SchemaPattern])
    case propertyNames(node: Int)
    case dependentRequired([(name: String, required: [String])])
    case dependentSchemas(PropertyTable)
    case allOf([Int])
    case anyOf([Int])
    case oneOf([Int])
    case not(Int)
    /// `if` with its `then` and `else` (absent ones are nil).
    case conditional(condition: Int, then: Int?, else: Int?)

    /// The keyword as written in the schema, for keyword locations.
    var name: String {
        switch self {
        case .ref: "$ref"
        case .type: "type"
        case .constant: "const"
        case .enumeration: "enum"
        case .minimum: "minimum"
        case .maximum: "maximum"
        case .exclusiveMinimum: "exclusiveMinimum"
        case .exclusiveMaximum: "exclusiveMaximum"
        case .multipleOf: "multipleOf"
        case .minLength: "minLength"
        case .maxLength: "maxLength"
        case .pattern: "pattern"
        case .minItems: "minItems"
        case .maxItems: "maxItems"
        case .uniqueItems: "uniqueItems"
        case .prefixItems: "prefixItems"
        case .items: "items"
        case .contains: "contains"
        case .minProperties: "minProperties"
        case .maxProperties: "maxProperties"
        case .required: "required"
        case .properties: "properties"
        case .patternProperties: "patternProperties"
        case .additionalProperties: "additionalProperties"
        case .propertyNames: "propertyNames"
        case .dependentRequired: "dependentRequired"
        case .dependentSchemas: "dependentSchemas"
        case .allOf: "allOf"
        case .anyOf: "anyOf"
        case .oneOf: "oneOf"
        case .not: "not"
        case .conditional: "if"
        }
    }
}
