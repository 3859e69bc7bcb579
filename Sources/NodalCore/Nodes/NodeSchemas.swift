import NodalJSON

/// A component's declared input and output schemas, compiled once (when its plugin loads, for
/// builtins once per process): what a step's input is checked against before each call, and its
/// output after each call in strict mode (`RunOptions.strictOutputs`).
///
/// A schema that admits everything (`{}`, `true`) is dropped, so a node without real constraints
/// costs nothing per call. A class: every step resolved to the node shares one.
package final class NodeSchemas: Sendable {
    package let input: JSONSchema?
    package let output: JSONSchema?
    /// Whose schemas they are, for messages: "node org.nodal.std.increment", "builtin create_messages".
    package let owner: String
    /// Declared schemas that are not valid JSON Schemas, and why: they are not checked (`nodal
    /// validate` warns about them).
    package let problems: [String]

    /// Compiles `input` and `output` (JSON Schema documents); one that does not compile is left
    /// out and named in `problems`.
    package init(owner: String, input: JSON?, output: JSON?) {
        var problems: [String] = []
        self.owner = owner
        self.input = Self.compile(input, what: "input schema", into: &problems)
        self.output = Self.compile(output, what: "output schema", into: &problems)
        self.problems = problems
    }

    package init(owner: String, input: JSONSchema?, output: JSONSchema?, problems: [String]) {
        self.owner = owner
        self.input = input
        self.output = output
        self.problems = problems
    }

    /// Nil when there is nothing to check and nothing to warn about.
    package var orNil: NodeSchemas? { input == nil && output == nil && problems.isEmpty ? nil : self }

    private static func compile(_ document: JSON?, what: String, into problems: inout [String]) -> JSONSchema? {
        guard let document else { return nil }
        do {
            let schema = try JSONSchema(document)
            return schema.admitsEverything ? nil : schema
        } catch {
            problems.append("its \(what) is not a valid JSON Schema (\(error)), so it is not checked")
            return nil
        }
    }
}

/// How schema violations read in errors: each at the field it is about, under the value's name.
enum SchemaMessages {
    /// At most this many violations are spelled out; the rest are counted.
    static let listed = 5

    /// `input.user.age: expected an integer, got string "x"; input.name: missing required
    /// property 'name'` for violations in a value called `root`.
    static func describe(_ violations: [SchemaViolation], root: String) -> String {
        var parts = violations.prefix(listed).map { "\($0.field(under: root)): \($0.message)" }
        if violations.count > listed { parts.append("and \(violations.count - listed) more") }
        return parts.joined(separator: "; ")
    }

    /// The violations as JSON, for `StepError.details`:
    /// `{violations: [{field, message, schemaLocation}]}`.
    static func details(_ violations: [SchemaViolation], root: String) -> JSON {
        .object(["violations": .array(violations.prefix(100).map { violation in
            [
                "field": .string(violation.field(under: root)), "message": .string(violation.message),
                "schemaLocation": .string(violation.keywordLocation),
            ]
        })])
    }
}
