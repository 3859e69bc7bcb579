// Validating an instance against compiled nodes.
//
// Evaluation recurses once per subschema entered, never deeper than `JSONSchema.maximumDepth`.
// A `$ref` that re-enters a schema already being applied to the same value (the instance
// location only grows along one chain of calls, so "same location" is "same depth") would loop
// forever; it is reported instead. Messages and locations are built only when `collecting`.
//
// Three things end an evaluation early: nesting beyond the depth limit, a `$ref` cycle, and
// running out of steps (a schema can take exponential time: `if` and `then` both recursing
// through the same `$ref` double the work at every level). Each *aborts* the evaluation: from
// then on every subschema fails at once, and the result is that one violation alone. It has to
// be all or nothing, since an abandoned subschema inside `not` would otherwise count as a pass.

struct SchemaEvaluation {
    enum PathSegment {
        case key(String)
        case index(Int)
    }

    let program: SchemaProgram
    /// Whether violations are recorded; when false, evaluation stops at the first failure.
    private(set) var collecting: Bool
    private(set) var violations: [SchemaViolation] = []
    /// Whether a failed `anyOf`/`oneOf`/`propertyNames` may re-run its subschemas to say why. Off
    /// while doing so, which keeps the extra work to one re-run however deep they nest.
    private var explaining = true
    /// Where in the instance the evaluation is, while `collecting` (only messages need it).
    private var path: [PathSegment] = []
    /// How deep in the instance the evaluation is, always (for `$ref` cycles).
    private var level = 0
    private var depth = 0
    /// `$ref` targets being applied, with the instance depth they apply at.
    private var activeReferences: [(node: Int, level: Int)] = []
    /// Why the evaluation stopped early, if it did; then the result is this violation alone.
    private(set) var aborted: SchemaViolation?
    /// `aborted != nil`, as a flag: every subschema entered checks it.
    private(set) var isAborted = false
    /// Subschemas evaluated so far, and how many are allowed (raised once the instance is known
    /// to be large: see `raiseBudget`).
    private var steps = 0
    private var budget = Self.baseBudget
    private var budgetRaised = false
    let root: JSON

    /// Steps any instance may take, and the steps per value of the instance above that.
    static let baseBudget = 1_000_000
    static let budgetPerValue = 256

    init(program: SchemaProgram, root: JSON, collecting: Bool) {
        self.program = program
        self.root = root
        self.collecting = collecting
    }

    /// The violations, or the reason for stopping early alone.
    var result: [SchemaViolation] { aborted.map { [$0] } ?? violations }

    // MARK: Reporting

    /// The instance location in the JSONPath syntax `JSONPath` reads.
    var instanceLocation: String { Self.location(of: path) }

    /// `segments` in the JSONPath syntax `JSONPath` reads: `$`, `$.user.age`, `$.items[2]`, `$['a key']`.
    static func location(of segments: [PathSegment]) -> String {
        var text = "$"
        for segment in segments {
            switch segment {
            case .index(let index):
                text += "[\(index)]"
            case .key(let key):
                if Self.isPlainName(key) {
                    text += "." + key
                } else {
                    text += "['"
                    for character in key {
                        if character == "'" || character == "\\" { text.append("\\") }
                        text.append(character)
                    }
                    text += "']"
                }
            }
        }
        return text
    }

    static func isPlainName(_ key: String) -> Bool {
        guard let first = key.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return key.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z"))
                || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_")
        }
    }

    private mutating func report(_ node: Int, _ keyword: String?, _ message: String, property: String? = nil) {
        let location = keyword.map { program.locations[node] + "/" + $0 } ?? program.locations[node]
        var violation = SchemaViolation(instanceLocation: instanceLocation, keywordLocation: location, message: message)
        violation.property = property
        violations.append(violation)
    }

    /// A value as messages quote it: `number 3`, `string "abc"`, `null`.
    static func describe(_ value: JSON) -> String {
        if case .null = value { return "null" }
        // An infinity or NaN (from YAML) by name, not as the null its JSON text is.
        if case .double(let number) = value, !number.isFinite { return "number \(number)" }
        return value.typeName + " " + value.shortDescription(limit: 60)
    }

    private static func plural(_ count: Int, _ noun: String, _ nouns: String? = nil) -> String {
        count == 1 ? "1 \(noun)" : "\(count) \(nouns ?? noun + "s")"
    }

    // MARK: Evaluation

    /// Applies node `index` to `instance`; true when valid.
    mutating func evaluate(_ index: Int, _ instance: JSON) -> Bool {
        if isAborted { return false }
        let node = program.nodes[index]
        if node.isFalse {
            if collecting { report(index, nil, "no value is allowed here (the schema is false)") }
            return false
        }
        if node.keywords.isEmpty { return true }
        guard depth < JSONSchema.maximumDepth else {
            abort(index, nil, "not checked: the schema nests deeper than \(JSONSchema.maximumDepth) levels here")
            return false
        }
        steps += 1
        if steps > budget, !raiseBudget() {
            abort(
                index, nil,
                "not checked: validation stopped after \(steps - 1) subschema evaluations; the schema does "
                    + "too much work for this value (nested if, allOf or anyOf recursing through the same $ref?)"
            )
            return false
        }
        depth += 1
        defer { depth -= 1 }
        var valid = true
        for position in node.keywords where !check(program.keywords[position], index, instance) {
            valid = false
            if !collecting { break }
        }
        return valid
    }

    /// Stops the evaluation: the result becomes this violation alone.
    private mutating func abort(_ node: Int, _ keyword: String?, _ message: String) {
        guard !isAborted else { return }
        isAborted = true
        let location = keyword.map { program.locations[node] + "/" + $0 } ?? program.locations[node]
        aborted = SchemaViolation(instanceLocation: instanceLocation, keywordLocation: location, message: message)
    }

    /// Raises the step budget once, in proportion to the size of the instance; false when it was
    /// raised already or the instance is too small to deserve more.
    private mutating func raiseBudget() -> Bool {
        guard !budgetRaised else { return false }
        budgetRaised = true
        var values = 0
        var stack = [root]
        while let value = stack.popLast() {
            values += 1
            switch value {
            case .array(let array): stack.append(contentsOf: array)
            case .object(let object): for entry in object.entries { stack.append(entry.value) }
            default: break
            }
        }
        let (raised, overflow) = values.multipliedReportingOverflow(by: Self.budgetPerValue)
        budget = overflow ? Int.max : max(budget, raised)
        return steps <= budget
    }

    /// Applies `index` to `instance` without recording anything: only whether it is valid.
    private mutating func matches(_ index: Int, _ instance: JSON) -> Bool {
        if !collecting { return evaluate(index, instance) }
        collecting = false
        defer { collecting = true }
        return evaluate(index, instance)
    }

    private mutating func matches(_ index: Int, _ instance: JSON, at segment: PathSegment) -> Bool {
        let entered = enter(segment)
        defer { leave(entered) }
        return matches(index, instance)
    }

    /// Steps into `segment` of the instance. Its path is kept only while collecting, so checking
    /// whether a value is valid allocates nothing for it; true when the segment was pushed.
    private mutating func enter(_ segment: PathSegment) -> Bool {
        level += 1
        guard collecting else { return false }
        path.append(segment)
        return true
    }

    private mutating func leave(_ entered: Bool) {
        level -= 1
        if entered { path.removeLast() }
    }

    /// The first violation of `index` by `instance`, when explaining a failed alternative.
    private mutating func firstViolation(_ index: Int, _ instance: JSON) -> SchemaViolation? {
        let saved = violations
        let savedExplaining = explaining
        violations = []
        explaining = false
        _ = evaluate(index, instance)
        let first = violations.first
        violations = saved
        explaining = savedExplaining
        return first
    }

    private mutating func evaluate(_ index: Int, _ instance: JSON, at segment: PathSegment) -> Bool {
        let entered = enter(segment)
        defer { leave(entered) }
        return evaluate(index, instance)
    }

    private mutating func report(_ node: Int, _ keyword: String?, at segment: PathSegment, _ message: String) {
        let entered = enter(segment)
        report(node, keyword, message)
        leave(entered)
    }

    // The applicators recurse, so each has a function of its own with a small frame, and the
    // keywords that do not recurse share one function that is never on the stack twice: in debug
    // builds one big switch would put several kilobytes on the stack per level of nesting.
    private mutating func check(_ keyword: SchemaKeyword, _ node: Int, _ instance: JSON) -> Bool {
        switch keyword {
        case .ref(let target):
            return applyReference(target, node, instance)
        case .prefixItems(let schemas):
            return applyPrefixItems(schemas, node, instance)
        case .items(let schema, let start):
            return applyItems(schema, start, node, instance)
        case .contains(let schema, let minimum, let explicitMinimum, let maximum):
            return applyContains(schema, minimum, explicitMinimum, maximum, node, instance)
        case .properties(let table):
            return applyProperties(table, node, instance)
        case .patternProperties(let entries):
            return applyPatternProperties(entries, node, instance)
        case .additionalProperties(let schema, let known, let patterns):
            return applyAdditionalProperties(schema, known, patterns, node, instance)
        case .propertyNames(let schema):
            return applyPropertyNames(schema, node, instance)
        case .dependentSchemas(let table):
            return applyDependentSchemas(table, node, instance)
        case .allOf(let schemas):
            return applyAllOf(schemas, node, instance)
        case .anyOf(let schemas):
            return applyAnyOf(schemas, node, instance)
        case .oneOf(let schemas):
            return applyOneOf(schemas, node, instance)
        case .not(let schema):
            return applyNot(schema, node, instance)
        case .conditional(let condition, let then, let otherwise):
            return applyConditional(condition, then, otherwise, node, instance)
        case .type, .constant, .enumeration, .minimum, .maximum, .exclusiveMinimum, .exclusiveMaximum, .multipleOf,
            .minLength, .maxLength, .pattern, .minItems, .maxItems, .uniqueItems, .minProperties, .maxProperties,
            .required, .dependentRequired:
            return checkValue(keyword, node, instance)
        }
    }

    @inline(never)
    private mutating func applyReference(_ target: Int, _ node: Int, _ instance: JSON) -> Bool {
        let level = self.level
        var position = activeReferences.count - 1
        while position >= 0, activeReferences[position].level == level {
            if activeReferences[position].node == target {
                abort(
                    node, "$ref",
                    "not checked: $ref cycle, \(program.locations[target]) is re-entered for the same value")
                return false
            }
            position -= 1
        }
        activeReferences.append((target, level))
        defer { activeReferences.removeLast() }
        return evaluate(target, instance)
    }

    @inline(never)
    private mutating func applyPrefixItems(_ schemas: [Int], _ node: Int, _ instance: JSON) -> Bool {
        guard case .array(let array) = instance else { return true }
        var valid = true
        for position in 0..<min(schemas.count, array.count)
        where !evaluate(schemas[position], array[position], at: .index(position)) {
            valid = false
            if !collecting { return false }
        }
        return valid
    }

    @inline(never)
    private mutating func applyItems(_ schema: Int, _ start: Int, _ node: Int, _ instance: JSON) -> Bool {
        guard case .array(let array) = instance, array.count > start else { return true }
        if program.nodes[schema].isFalse {
            if collecting {
                report(
                    node, "items",
                    start == 0
                        ? "expected an empty array, got \(Self.plural(array.count, "item"))"
                        : "expected at most \(Self.plural(start, "item")) (prefixItems), got \(array.count)")
            }
            return false
        }
        var valid = true
        for position in start..<array.count where !evaluate(schema, array[position], at: .index(position)) {
            valid = false
            if !collecting { return false }
        }
        return valid
    }

    @inline(never)
    private mutating func applyContains(
        _ schema: Int, _ minimum: Int, _ explicitMinimum: Bool, _ maximum: Int?, _ node: Int, _ instance: JSON
    ) -> Bool {
        guard case .array(let array) = instance else { return true }
        var count = 0
        for (position, element) in array.enumerated() where matches(schema, element, at: .index(position)) {
            count += 1
            if let maximum, count > maximum, !collecting { return false }
        }
        if count < minimum {
            if collecting {
                report(
                    node, explicitMinimum ? "minContains" : "contains",
                    "expected at least \(Self.plural(minimum, "item")) matching contains, got \(count)")
            }
            return false
        }
        if let maximum, count > maximum {
            if collecting {
                report(
                    node, "maxContains",
                    "expected at most \(Self.plural(maximum, "item")) matching contains, got \(count)")
            }
            return false
        }
        return true
    }

    @inline(never)
    private mutating func applyProperties(_ table: PropertyTable, _ node: Int, _ instance: JSON) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        if table.entries.count * object.count <= 64 {
            for (name, schema) in table.entries {
                guard let value = SchemaEquality.member(object, name) else { continue }
                if !evaluate(schema, value, at: .key(name)) {
                    valid = false
                    if !collecting { return false }
                }
            }
        } else {
            for (name, value) in SchemaEquality.members(of: object) {
                guard let schema = table.node(for: name) else { continue }
                if !evaluate(schema, value, at: .key(name)) {
                    valid = false
                    if !collecting { return false }
                }
            }
        }
        return valid
    }

    @inline(never)
    private mutating func applyPatternProperties(
        _ entries: [(pattern: SchemaPattern, node: Int)], _ node: Int, _ instance: JSON
    ) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for (name, value) in SchemaEquality.members(of: object) {
            for (pattern, schema) in entries where pattern.matches(name) {
                if !evaluate(schema, value, at: .key(name)) {
                    valid = false
                    if !collecting { return false }
                }
            }
        }
        return valid
    }

    @inline(never)
    private mutating func applyAdditionalProperties(
        _ schema: Int, _ known: PropertyTable, _ patterns: [SchemaPattern], _ node: Int, _ instance: JSON
    ) -> Bool {
        guard case .object(let object) = instance else { return true }
        let forbidden = program.nodes[schema].isFalse
        var valid = true
        for (name, value) in SchemaEquality.members(of: object) {
            if known.node(for: name) != nil || patterns.contains(where: { $0.matches(name) }) { continue }
            if forbidden {
                valid = false
                if !collecting { return false }
                report(node, "additionalProperties", at: .key(name), "unexpected property \(Self.quoted(name))")
            } else if !evaluate(schema, value, at: .key(name)) {
                valid = false
                if !collecting { return false }
            }
        }
        return valid
    }

    @inline(never)
    private mutating func applyPropertyNames(_ schema: Int, _ node: Int, _ instance: JSON) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        // A name is checked at its property's location: it is deeper than the object, which
        // keeps a `$ref` back to the object's schema from looking like a cycle.
        for (name, _) in SchemaEquality.members(of: object) where !matches(schema, .string(name), at: .key(name)) {
            valid = false
            if !collecting { return false }
            let entered = enter(.key(name))
            var message = "invalid property name \(Self.quoted(name))"
            if explaining, let reason = firstViolation(schema, .string(name)) { message += ": " + reason.message }
            report(node, "propertyNames", message)
            leave(entered)
        }
        return valid
    }

    @inline(never)
    private mutating func applyDependentSchemas(_ table: PropertyTable, _ node: Int, _ instance: JSON) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for (name, schema) in table.entries
        where SchemaEquality.member(object, name) != nil && !evaluate(schema, instance) {
            valid = false
            if !collecting { return false }
        }
        return valid
    }

    @inline(never)
    private mutating func applyAllOf(_ schemas: [Int], _ node: Int, _ instance: JSON) -> Bool {
        var valid = true
        for schema in schemas where !evaluate(schema, instance) {
            valid = false
            if !collecting { return false }
        }
        return valid
    }

    @inline(never)
    private mutating func applyAnyOf(_ schemas: [Int], _ node: Int, _ instance: JSON) -> Bool {
        for schema in schemas where matches(schema, instance) { return true }
        if collecting {
            report(
                node, "anyOf",
                "expected to match at least one schema of anyOf, matched none" + explain(schemas, instance))
        }
        return false
    }

    @inline(never)
    private mutating func applyOneOf(_ schemas: [Int], _ node: Int, _ instance: JSON) -> Bool {
        var matched: [Int] = []
        for (position, schema) in schemas.enumerated() where matches(schema, instance) {
            matched.append(position)
            if matched.count > 1, !collecting { return false }
        }
        if matched.count == 1 { return true }
        if collecting {
            if matched.isEmpty {
                report(
                    node, "oneOf",
                    "expected to match exactly one schema of oneOf, matched none" + explain(schemas, instance))
            } else {
                let list = matched.map { "#\($0)" }.joined(separator: ", ")
                report(
                    node, "oneOf", "expected to match exactly one schema of oneOf, matched \(matched.count): \(list)")
            }
        }
        return false
    }

    @inline(never)
    private mutating func applyNot(_ schema: Int, _ node: Int, _ instance: JSON) -> Bool {
        guard matches(schema, instance) else { return true }
        if collecting { report(node, "not", "expected not to match the schema at \(program.locations[schema])") }
        return false
    }

    @inline(never)
    private mutating func applyConditional(
        _ condition: Int, _ then: Int?, _ otherwise: Int?, _ node: Int, _ instance: JSON
    ) -> Bool {
        if matches(condition, instance) {
            return then.map { evaluate($0, instance) } ?? true
        }
        return otherwise.map { evaluate($0, instance) } ?? true
    }

    @inline(never)
    private mutating func checkValue(_ keyword: SchemaKeyword, _ node: Int, _ instance: JSON) -> Bool {
        switch keyword {
        case .type(let types):
            if types.admits(instance) { return true }
            if collecting { report(node, "type", "expected \(types.phrase), got \(Self.describe(instance))") }
            return false

        case .constant(let value):
            if SchemaEquality.equal(instance, value) { return true }
            if collecting {
                report(node, "const", "expected \(value.shortDescription(limit: 60)), got \(Self.describe(instance))")
            }
            return false

        case .enumeration(let values, let set):
            if let set {
                if set.contains(ExactJSON(value: instance)) { return true }
            } else if values.contains(where: { SchemaEquality.equal($0, instance) }) {
                return true
            }
            if collecting {
                var listed = values.prefix(8).map { $0.shortDescription(limit: 40) }.joined(separator: ", ")
                if values.count > 8 { listed += ", … (\(values.count) values)" }
                report(
                    node, "enum",
                    values.isEmpty
                        ? "no value is allowed (enum is empty), got \(Self.describe(instance))"
                        : "expected one of \(listed), got \(Self.describe(instance))")
            }
            return false

        case .minimum(let limit):
            if NumberComparison.keeps(instance, limit, { $0 >= 0 }) { return true }
            if collecting { report(node, "minimum", "expected at least \(limit.text), got \(Self.number(instance))") }
            return false
        case .maximum(let limit):
            if NumberComparison.keeps(instance, limit, { $0 <= 0 }) { return true }
            if collecting { report(node, "maximum", "expected at most \(limit.text), got \(Self.number(instance))") }
            return false
        case .exclusiveMinimum(let limit):
            if NumberComparison.keeps(instance, limit, { $0 > 0 }) { return true }
            if collecting { report(node, "exclusiveMinimum", "expected more than \(limit.text), got \(Self.number(instance))") }
            return false
        case .exclusiveMaximum(let limit):
            if NumberComparison.keeps(instance, limit, { $0 < 0 }) { return true }
            if collecting { report(node, "exclusiveMaximum", "expected less than \(limit.text), got \(Self.number(instance))") }
            return false
        case .multipleOf(let divisor):
            switch instance {
            case .int, .double: break
            default: return true
            }
            if NumberComparison.isMultiple(instance, of: divisor) { return true }
            if collecting { report(node, "multipleOf", "expected a multiple of \(divisor.text), got \(Self.number(instance))") }
            return false

        case .minLength(let limit):
            guard case .string(let string) = instance else { return true }
            // Counting stops at the limit: the answer is known by then.
            var length = 0
            for _ in string.unicodeScalars {
                length += 1
                if length >= limit { return true }
            }
            if length >= limit { return true }
            if collecting {
                report(node, "minLength", "expected at least \(Self.plural(limit, "character")), got \(length)")
            }
            return false
        case .maxLength(let limit):
            guard case .string(let string) = instance else { return true }
            // UTF-8 bytes bound the number of code points from above.
            if string.utf8.count <= limit { return true }
            let length = string.unicodeScalars.count
            if length <= limit { return true }
            if collecting {
                report(node, "maxLength", "expected at most \(Self.plural(limit, "character")), got \(length)")
            }
            return false
        case .pattern(let pattern):
            guard case .string(let string) = instance else { return true }
            if pattern.matches(string) { return true }
            if collecting {
                report(
                    node, "pattern",
                    "string \(instance.shortDescription(limit: 60)) does not match the pattern \(JSON.string(pattern.source).shortDescription(limit: 80))"
                )
            }
            return false

        case .minItems(let limit):
            guard case .array(let array) = instance, array.count < limit else { return true }
            if collecting {
                report(node, "minItems", "expected at least \(Self.plural(limit, "item")), got \(array.count)")
            }
            return false
        case .maxItems(let limit):
            guard case .array(let array) = instance, array.count > limit else { return true }
            if collecting {
                report(node, "maxItems", "expected at most \(Self.plural(limit, "item")), got \(array.count)")
            }
            return false
        case .uniqueItems:
            guard case .array(let array) = instance, array.count > 1 else { return true }
            guard let (first, second) = Self.firstDuplicate(array) else { return true }
            if collecting {
                report(
                    node, "uniqueItems",
                    "expected unique items, but items \(first) and \(second) are equal (\(array[second].shortDescription(limit: 60)))"
                )
            }
            return false
        case .minProperties(let limit):
            guard case .object(let object) = instance else { return true }
            let count = SchemaEquality.members(of: object).count
            guard count < limit else { return true }
            if collecting {
                report(
                    node, "minProperties",
                    "expected at least \(Self.plural(limit, "property", "properties")), got \(count)")
            }
            return false
        case .maxProperties(let limit):
            guard case .object(let object) = instance, object.count > limit else { return true }
            let count = SchemaEquality.members(of: object).count
            guard count > limit else { return true }
            if collecting {
                report(
                    node, "maxProperties",
                    "expected at most \(Self.plural(limit, "property", "properties")), got \(count)")
            }
            return false
        case .required(let names):
            guard case .object(let object) = instance else { return true }
            var valid = true
            for name in names where SchemaEquality.member(object, name) == nil {
                valid = false
                if !collecting { return false }
                report(node, "required", "missing required property \(Self.quoted(name))", property: name)
            }
            return valid
        case .dependentRequired(let entries):
            guard case .object(let object) = instance else { return true }
            var valid = true
            for (name, required) in entries where SchemaEquality.member(object, name) != nil {
                for other in required where SchemaEquality.member(object, other) == nil {
                    valid = false
                    if !collecting { return false }
                    report(
                        node, "dependentRequired",
                        "missing property \(Self.quoted(other)), required when \(Self.quoted(name)) is present",
                        property: other)
                }
            }
            return valid
        case .ref, .prefixItems, .items, .contains, .properties, .patternProperties, .additionalProperties,
            .propertyNames, .dependentSchemas, .allOf, .anyOf, .oneOf, .not, .conditional:
            assertionFailure("applicators are handled by check(_:_:_:)")
            return false
        }
    }

    /// Why each alternative failed, as ": #0 expected a string, got number 3; #1 ...".
    private mutating func explain(_ schemas: [Int], _ instance: JSON) -> String {
        guard explaining else { return "" }
        var reasons: [String] = []
        for (position, schema) in schemas.enumerated().prefix(8) {
            guard let violation = firstViolation(schema, instance) else { continue }
            let place = violation.instanceLocation == instanceLocation ? "" : violation.instanceLocation + ": "
            reasons.append("#\(position) \(place)\(violation.message)")
        }
        if schemas.count > 8 { reasons.append("…") }
        return reasons.isEmpty ? "" : " (" + reasons.joined(separator: "; ") + ")"
    }

    /// A number as messages quote it; an infinity or NaN (from YAML) by name, not as the null
    /// JSON text writes for it.
    private static func number(_ value: JSON) -> String {
        if case .double(let number) = value, !number.isFinite { return "\(number)" }
        return value.serialized()
    }

    private static func quoted(_ name: String) -> String {
        "'" + name + "'"
    }

    /// The first pair of equal elements (`SchemaEquality`: 1 equals 1.0, key order does not count).
    static func firstDuplicate(_ array: [JSON]) -> (Int, Int)? {
        if array.count <= 16 {
            for j in 1..<array.count {
                for i in 0..<j where SchemaEquality.equal(array[i], array[j]) { return (i, j) }
            }
            return nil
        }
        var seen: [ExactJSON: Int] = [:]
        seen.reserveCapacity(array.count)
        for (position, element) in array.enumerated() {
            if let earlier = seen.updateValue(position, forKey: ExactJSON(value: element)) {
                return (earlier, position)
            }
        }
        return nil
    }
}
