// Checking a value that does not exist yet: what a flow's step will be given, known only in part
// before the run (some members constants, others read from the run's input or another step's
// output, of which only a schema is known).
//
// The check reports only what must fail: a constant that fails the schema, a member the schema
// requires that the object expression does not have, a member whose declared schema admits no type
// the target schema allows. What depends on values not known yet (`enum` of a reference, `anyOf`
// over parts, numeric bounds of a referenced number) is left to the check at run time.

/// What is known of a value before it exists.
package indirect enum StaticValue: Sendable {
    /// All of it: a constant.
    case known(JSON)
    /// An object with these members (each known to some degree) and no others.
    case object([(key: String, value: StaticValue)])
    /// An array with these elements.
    case array([StaticValue])
    /// Some value valid under a subschema (of the flow's input schema, of a node's output schema),
    /// from `origin`.
    case described(Subschema, origin: StaticOrigin)
    /// Nothing.
    case unknown
}

/// Where a described value comes from, for messages: `$.user.age in the flow's input schema`.
package struct StaticOrigin: Sendable {
    /// What the schema is, for people: "the flow's input schema", "the output schema of step 'fetch'".
    package var schema: String
    var segments: [SchemaEvaluation.PathSegment] = []

    package init(schema: String) { self.schema = schema }

    /// At `path` in a value described by `schema` (wildcards are left out: `Subschema.descendant`
    /// does not follow them, so a described value never has one on its path).
    package init(schema: String, path: JSONPath) {
        self.schema = schema
        segments = path.segments.compactMap { segment in
            switch segment {
            case .field(let name): .key(name)
            case .index(let index): .index(index)
            case .wildcard: nil
            }
        }
    }

    /// The place in the described value, as a JSONPath (`$`, `$.user.age`).
    package var path: String { SchemaEvaluation.location(of: segments) }

    func appending(_ segment: SchemaEvaluation.PathSegment) -> StaticOrigin {
        var origin = self
        origin.segments.append(segment)
        return origin
    }

    var description: String { "\(path) in \(schema)" }
}

/// One subschema of a compiled schema: what values at some place in a valid instance are valid under.
package struct Subschema: Sendable {
    let program: SchemaProgram
    let node: Int

    /// Where it is written in its schema (`#/properties/user`).
    package var location: String { program.locations[node] }

    /// Whether no value is valid here (`false`, or `type`, `const` and `enum` that exclude each other).
    package var admitsNothing: Bool { possibleTypes.isEmpty }

    /// The subschema a valid instance's value at `path` is valid under, or nil when the schema does
    /// not say (then any value may be there). Follows `properties`, `patternProperties`,
    /// `additionalProperties`, `prefixItems` and `items`, through `$ref` and `allOf`; a wildcard
    /// segment (`[*]`) is not followed.
    package func descendant(_ path: [JSONPath.Segment]) -> Subschema? {
        var current = self
        for segment in path {
            let next: Int?
            switch segment {
            case .field(let name): next = current.member(name)
            case .index(let index): next = current.element(index)
            case .wildcard: next = nil
            }
            guard let next else { return nil }
            current = Subschema(program: program, node: next)
        }
        return current
    }

    /// The node for member `name` of an object valid here: nil when the schema does not say.
    func member(_ name: String) -> Int? {
        let group = program.appliedTogether(node)
        for index in group {
            for keyword in program.keywords(of: index) {
                if case .properties(let table) = keyword, let found = table.node(for: name) { return found }
            }
        }
        for index in group {
            for keyword in program.keywords(of: index) {
                if case .patternProperties(let entries) = keyword,
                    let found = entries.first(where: { $0.pattern.matches(name) })
                {
                    return found.node
                }
            }
        }
        for index in group {
            for keyword in program.keywords(of: index) {
                if case .additionalProperties(let schema, let known, let patterns) = keyword,
                    known.node(for: name) == nil, !patterns.contains(where: { $0.matches(name) })
                {
                    return schema
                }
            }
        }
        return nil
    }

    /// The node for element `position` of an array valid here: nil when the schema does not say.
    func element(_ position: Int) -> Int? {
        for index in program.appliedTogether(node) {
            for keyword in program.keywords(of: index) {
                switch keyword {
                case .prefixItems(let schemas) where position < schemas.count: return schemas[position]
                case .items(let schema, let start) where position >= start: return schema
                default: continue
                }
            }
        }
        return nil
    }

    /// The kinds of value valid here (`PossibleTypes`): fewer than all when `type`, `const` or
    /// `enum` (here or through `$ref` and `allOf`) say so; none for a `false` schema.
    var possibleTypes: PossibleTypes {
        var possible = PossibleTypes.all
        for index in program.appliedTogether(node) {
            if program.nodes[index].isFalse { return [] }
            for keyword in program.keywords(of: index) {
                switch keyword {
                case .type(let types): possible.formIntersection(PossibleTypes(types))
                case .constant(let value): possible.formIntersection(PossibleTypes(of: value))
                case .enumeration(let values, _):
                    possible.formIntersection(values.reduce(into: PossibleTypes()) { $0.formUnion(PossibleTypes(of: $1)) })
                default: continue
                }
            }
        }
        return possible
    }

    /// Whether no valid object can have member `name` (`additionalProperties: false` without it).
    func forbids(_ name: String) -> Bool {
        guard let member = member(name) else { return false }
        return program.nodes[member].isFalse
    }
}

/// Kinds of JSON value, with numbers split in two: integers, and numbers with a fraction. A schema
/// of `type: number` admits both; of `type: integer`, only the first.
struct PossibleTypes: OptionSet, Sendable {
    let rawValue: UInt8
    static let null = PossibleTypes(rawValue: 1 << 0)
    static let boolean = PossibleTypes(rawValue: 1 << 1)
    static let integer = PossibleTypes(rawValue: 1 << 2)
    static let fraction = PossibleTypes(rawValue: 1 << 3)
    static let string = PossibleTypes(rawValue: 1 << 4)
    static let array = PossibleTypes(rawValue: 1 << 5)
    static let object = PossibleTypes(rawValue: 1 << 6)
    static let all = PossibleTypes(rawValue: 0x7F)

    /// What a `type` keyword admits.
    init(_ types: SchemaTypes) {
        var kinds = PossibleTypes()
        if types.contains(.null) { kinds.insert(.null) }
        if types.contains(.boolean) { kinds.insert(.boolean) }
        if types.contains(.integer) { kinds.insert(.integer) }
        if types.contains(.number) { kinds.formUnion([.integer, .fraction]) }
        if types.contains(.string) { kinds.insert(.string) }
        if types.contains(.array) { kinds.insert(.array) }
        if types.contains(.object) { kinds.insert(.object) }
        self = kinds
    }

    init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The kind of one value.
    init(of value: JSON) {
        switch value {
        case .null: self = .null
        case .bool: self = .boolean
        case .int: self = .integer
        case .double(let number): self = number.rounded(.towardZero) == number ? .integer : .fraction
        case .string: self = .string
        case .array: self = .array
        case .object: self = .object
        }
    }

    /// For messages: "a string", "a number", "an integer or null".
    var phrase: String {
        var types = SchemaTypes()
        if contains(.null) { types.insert(.null) }
        if contains(.boolean) { types.insert(.boolean) }
        if contains(.fraction) { types.insert(.number) } else if contains(.integer) { types.insert(.integer) }
        if contains(.string) { types.insert(.string) }
        if contains(.array) { types.insert(.array) }
        if contains(.object) { types.insert(.object) }
        return types.phrase
    }
}

extension SchemaProgram {
    /// The node and every node that applies to the same value with it unconditionally (through
    /// `$ref` and `allOf`), each once, nearest first; at most 256.
    func appliedTogether(_ index: Int) -> [Int] {
        var group = [index]
        var position = 0
        while position < group.count, group.count < 256 {
            for keyword in keywords(of: group[position]) {
                switch keyword {
                case .ref(let target):
                    if !group.contains(target) { group.append(target) }
                case .allOf(let schemas):
                    for schema in schemas where !group.contains(schema) { group.append(schema) }
                default:
                    break
                }
            }
            position += 1
        }
        return group
    }
}

extension JSONSchema {
    /// The whole schema as a subschema.
    package var root: Subschema { Subschema(program: program, node: 0) }

    /// The ways every value `value` may turn out to be fails the schema: all of a constant's
    /// violations, and for values known in part, what must fail whatever the unknown parts are
    /// (plus, for described parts, where their declared schema and this one disagree on a type).
    /// Locations are in the value, as `validate` gives them.
    package func staticViolations(of value: StaticValue) -> [SchemaViolation] {
        var check = StaticCheck(program: program)
        check.check(0, value)
        return check.violations
    }
}

/// One static check: walks the schema and the value together.
struct StaticCheck {
    let program: SchemaProgram
    private(set) var violations: [SchemaViolation] = []
    private var path: [SchemaEvaluation.PathSegment] = []
    private var depth = 0
    /// A check stops going deeper here: static values are as deep as a flow file's expressions,
    /// so only a `$ref` cycle gets this far.
    static let maximumDepth = 128

    init(program: SchemaProgram) { self.program = program }

    private mutating func report(_ node: Int, _ keyword: String?, _ message: String, property: String? = nil) {
        let location = keyword.map { program.locations[node] + "/" + $0 } ?? program.locations[node]
        var violation = SchemaViolation(
            instanceLocation: SchemaEvaluation.location(of: path), keywordLocation: location, message: message)
        violation.property = property
        violations.append(violation)
    }

    private mutating func check(_ node: Int, _ value: StaticValue, at segment: SchemaEvaluation.PathSegment) {
        path.append(segment)
        check(node, value)
        path.removeLast()
    }

    mutating func check(_ node: Int, _ value: StaticValue) {
        switch value {
        case .unknown:
            return
        case .known(let json):
            var evaluation = SchemaEvaluation(program: program, root: json, collecting: true)
            _ = evaluation.evaluate(node, json)
            let prefix = SchemaEvaluation.location(of: path)
            for var violation in evaluation.result {
                violation.instanceLocation = prefix + violation.instanceLocation.dropFirst()
                violations.append(violation)
            }
            return
        case .described(let source, _):
            // A source that can have no value (a `false` schema: a node that never succeeds) is never read.
            if source.possibleTypes.isEmpty { return }
        case .object, .array:
            break
        }
        if program.nodes[node].isFalse {
            report(node, nil, "no value is allowed here (the schema is false)")
            return
        }
        guard depth < Self.maximumDepth else { return }
        depth += 1
        defer { depth -= 1 }
        for keyword in program.keywords(of: node) {
            apply(keyword, node, value)
        }
    }

    private mutating func apply(_ keyword: SchemaKeyword, _ node: Int, _ value: StaticValue) {
        switch keyword {
        case .ref(let target):
            check(target, value)
        case .allOf(let schemas):
            for schema in schemas { check(schema, value) }
        case .type(let types):
            let possible = Self.possibleTypes(value)
            if possible.isDisjoint(with: PossibleTypes(types)) {
                report(node, "type", "expected \(types.phrase), got \(Self.describe(value, possible))")
            }
        case .required(let names):
            switch value {
            case .object(let members):
                for name in names where !members.contains(where: { SchemaEquality.same($0.key, name) }) {
                    report(node, "required", "missing required property '\(name)'", property: name)
                }
            case .described(let source, let origin):
                guard source.possibleTypes.contains(.object) else { return }
                for name in names where source.forbids(name) {
                    report(
                        node, "required",
                        "missing required property '\(name)': \(origin.description) allows no such property",
                        property: name)
                }
            default:
                return
            }
        case .properties(let table):
            switch value {
            case .object(let members):
                for (name, schema) in table.entries {
                    if let member = Self.member(members, name) { check(schema, member, at: .key(name)) }
                }
            case .described(let source, let origin):
                guard source.possibleTypes.contains(.object) else { return }
                for (name, schema) in table.entries {
                    guard let declared = source.member(name) else { continue }
                    check(
                        schema, .described(Subschema(program: source.program, node: declared), origin: origin.appending(.key(name))),
                        at: .key(name))
                }
            default:
                return
            }
        case .patternProperties(let entries):
            guard case .object(let members) = value else { return }
            for (name, member) in Self.unique(members) {
                for (pattern, schema) in entries where pattern.matches(name) { check(schema, member, at: .key(name)) }
            }
        case .additionalProperties(let schema, let known, let patterns):
            guard case .object(let members) = value else { return }
            for (name, member) in Self.unique(members)
            where known.node(for: name) == nil && !patterns.contains(where: { $0.matches(name) }) {
                if program.nodes[schema].isFalse {
                    path.append(.key(name))
                    report(node, "additionalProperties", "unexpected property '\(name)'")
                    path.removeLast()
                } else {
                    check(schema, member, at: .key(name))
                }
            }
        case .propertyNames(let schema):
            guard case .object(let members) = value else { return }
            for (name, _) in Self.unique(members) { check(schema, .known(.string(name)), at: .key(name)) }
        case .minProperties(let limit):
            guard case .object(let members) = value else { return }
            let count = Self.unique(members).count
            if count < limit { report(node, "minProperties", "expected at least \(limit) properties, got \(count)") }
        case .maxProperties(let limit):
            guard case .object(let members) = value else { return }
            let count = Self.unique(members).count
            if count > limit { report(node, "maxProperties", "expected at most \(limit) properties, got \(count)") }
        case .dependentRequired(let entries):
            guard case .object(let members) = value else { return }
            for (name, required) in entries where Self.member(members, name) != nil {
                for other in required where Self.member(members, other) == nil {
                    report(
                        node, "dependentRequired", "missing property '\(other)', required when '\(name)' is present",
                        property: other)
                }
            }
        case .dependentSchemas(let table):
            guard case .object(let members) = value else { return }
            for (name, schema) in table.entries where Self.member(members, name) != nil { check(schema, value) }
        case .prefixItems(let schemas):
            guard case .array(let elements) = value else { return }
            for position in 0..<min(schemas.count, elements.count) {
                check(schemas[position], elements[position], at: .index(position))
            }
        case .items(let schema, let start):
            switch value {
            case .array(let elements):
                guard elements.count > start else { return }
                if program.nodes[schema].isFalse {
                    report(node, "items", "expected at most \(start) items, got \(elements.count)")
                    return
                }
                for position in start..<elements.count { check(schema, elements[position], at: .index(position)) }
            case .described(let source, let origin):
                guard source.possibleTypes.contains(.array), let declared = source.element(start),
                    !source.program.nodes[declared].isFalse
                else { return }
                check(
                    schema, .described(Subschema(program: source.program, node: declared), origin: origin.appending(.index(start))),
                    at: .index(start))
            default:
                return
            }
        case .minItems(let limit):
            guard case .array(let elements) = value, elements.count < limit else { return }
            report(node, "minItems", "expected at least \(limit) items, got \(elements.count)")
        case .maxItems(let limit):
            guard case .array(let elements) = value, elements.count > limit else { return }
            report(node, "maxItems", "expected at most \(limit) items, got \(elements.count)")
        case .constant, .enumeration, .minimum, .maximum, .exclusiveMinimum, .exclusiveMaximum, .multipleOf,
            .minLength, .maxLength, .pattern, .uniqueItems, .contains, .anyOf, .oneOf, .not, .conditional:
            // They depend on the parts not known yet: checked when the value exists.
            return
        }
    }

    /// The member named `name` (the last one, as validation reads duplicates).
    private static func member(_ members: [(key: String, value: StaticValue)], _ name: String) -> StaticValue? {
        members.last(where: { SchemaEquality.same($0.key, name) })?.value
    }

    /// Members with duplicate names dropped (the last one counts).
    private static func unique(_ members: [(key: String, value: StaticValue)]) -> [(key: String, value: StaticValue)] {
        var result: [(key: String, value: StaticValue)] = []
        for member in members {
            if let position = result.firstIndex(where: { SchemaEquality.same($0.key, member.key) }) {
                result[position] = member
            } else {
                result.append(member)
            }
        }
        return result
    }

    private static func possibleTypes(_ value: StaticValue) -> PossibleTypes {
        switch value {
        case .known(let json): PossibleTypes(of: json)
        case .object: .object
        case .array: .array
        case .described(let source, _): source.possibleTypes
        case .unknown: .all
        }
    }

    private static func describe(_ value: StaticValue, _ possible: PossibleTypes) -> String {
        switch value {
        case .described(_, let origin): "\(possible.phrase) (\(origin.description))"
        default: possible.phrase
        }
    }
}
