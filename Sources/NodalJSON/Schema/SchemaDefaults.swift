// Filling in `default`s: a separate operation from validation, for step inputs and plugin
// configs whose schemas say what an omitted property means.

extension JSONSchema {
    /// `instance` with missing object properties filled in from their schemas' `default`.
    ///
    /// Follows `properties` recursively: a property that is present, or was just filled in, gets
    /// its own subschema's defaults in turn (so `"default": {}` on an object property with
    /// defaulted properties of its own yields those properties). A property's schema may reach its
    /// `properties` and `default` through `$ref` and `allOf` (which always apply); conditional
    /// keywords (`anyOf`, `oneOf`, `if`) are not followed. Present properties are never replaced,
    /// even by `null`; nothing is validated; non-object values come back unchanged. A schema whose
    /// defaults would nest forever (a default that contains itself through a `$ref`) is filled once.
    public func applyingDefaults(to instance: JSON) -> JSON {
        var filler = SchemaDefaultFiller(program: program)
        return filler.filled(0, instance, depth: 0, fromDefault: false) ?? instance
    }
}

struct SchemaDefaultFiller {
    let program: SchemaProgram
    /// Nodes being applied to a value that a default created, with the nodes they reach through
    /// `$ref` and `allOf`: applying one of them again below itself would go on forever. (Counting
    /// only the property nodes themselves is not enough: several properties whose schemas all
    /// `$ref` one definition would be applied in every order, a number of times that grows as the
    /// factorial of the properties.)
    private var filling: Set<Int> = []

    init(program: SchemaProgram) { self.program = program }

    /// `value` with node `index`'s defaults filled in, or nil when there was nothing to fill.
    mutating func filled(_ index: Int, _ value: JSON, depth: Int, fromDefault: Bool) -> JSON? {
        guard case .object(let object) = value, depth < JSONSchema.maximumDepth else { return nil }
        let members = group(index)
        var entered: [Int] = []
        if fromDefault {
            if members.contains(where: filling.contains) { return nil }
            entered = members
            filling.formUnion(members)
        }
        defer { filling.subtract(entered) }
        var entries = object.entries
        var changed = false
        for member in members {
            for keyword in program.keywords(of: member) {
                guard case .properties(let table) = keyword else { continue }
                for (name, schema) in table.entries {
                    var created = false
                    var position = entries.lastIndex { SchemaEquality.same($0.key, name) }
                    if position == nil, let fallback = defaultValue(schema) {
                        entries.append((key: name, value: fallback))
                        position = entries.count - 1
                        created = true
                        changed = true
                    }
                    guard let position, case .object = entries[position].value else { continue }
                    if let nested = filled(
                        schema, entries[position].value, depth: depth + 1, fromDefault: fromDefault || created)
                    {
                        entries[position].value = nested
                        changed = true
                    }
                }
            }
        }
        return changed ? .object(JSONObject(entries)) : nil
    }

    /// The node and every node it reaches through `$ref` and `allOf`, each once, nearest first.
    private func group(_ index: Int) -> [Int] { program.appliedTogether(index) }

    /// The `default` of `index`, or else of the first node it reaches through `$ref` or `allOf`.
    private func defaultValue(_ index: Int) -> JSON? {
        if let value = program.defaults[index] { return value }
        for member in group(index) {
            if let value = program.defaults[member] { return value }
        }
        return nil
    }
}

extension JSONSchema {
    /// The `default`s that do not match the schema they are written in, each with the place of
    /// the `default` (`#/properties/n/default`) and the first violation. Filling such a default
    /// in makes the value invalid, though the caller gave nothing wrong: worth a warning.
    package func defaultsNotMatchingTheirSchemas() -> [(location: String, violation: SchemaViolation)] {
        var found: [(location: String, violation: SchemaViolation)] = []
        for (index, value) in program.defaults.enumerated() {
            guard let value else { continue }
            var evaluation = SchemaEvaluation(program: program, root: value, collecting: true)
            _ = evaluation.evaluate(index, value)
            guard let first = evaluation.result.first else { continue }
            found.append((program.locations[index] + "/default", first))
        }
        return found
    }
}
