/// A compiled JSON Schema (draft 2020-12) that validates instances and fills in defaults.
///
/// Compile once, validate many times:
///
/// ```swift
/// let schema = try JSONSchema(["type": "object", "required": ["name"],
///                              "properties": ["name": ["type": "string"]]])
/// schema.validate(["name": 3])
/// // [$.name: expected a string, got number 3 (#/properties/name/type)]
/// ```
///
/// Supported keywords: `type`, `enum`, `const`; `minimum`, `maximum`, `exclusiveMinimum`,
/// `exclusiveMaximum`, `multipleOf`; `minLength`, `maxLength` (in Unicode code points), `pattern`;
/// `prefixItems`, `items`, `contains`, `minContains`, `maxContains`, `minItems`, `maxItems`,
/// `uniqueItems`; `properties`, `patternProperties`, `additionalProperties`, `propertyNames`,
/// `required`, `dependentRequired`, `dependentSchemas`, `minProperties`, `maxProperties`;
/// `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`; `$ref` to anywhere in the same document
/// (`#`, `#/$defs/x`, `#/definitions/x`, `$id`s and `$anchor`s inside it), boolean schemas, and
/// `default` (see ``applyingDefaults(to:)``). Other keywords (`title`, `description`, `format`,
/// `examples`, `$comment`, `unevaluatedProperties`, `$dynamicRef`, ...) are ignored, and so is
/// `$schema`: every schema is read as draft 2020-12 (draft-07's array form of `items` is refused
/// rather than misread). References that leave the document (another file, a URL, the
/// meta-schema) are refused when compiling.
///
/// Strings, property names included, are equal when their code points are (Swift's `==` also
/// equates canonically equivalent strings). Patterns are the standard library's `Regex`, set up
/// to search like ECMA-262: `\d` and `\w` are ASCII, `^` and `$` are the ends of the string. Its
/// few differences: lookbehind, `[^]` and `\cX` are refused, `\s` and `.` treat U+0085 and
/// U+FEFF differently.
///
/// Validation is bounded. It never nests deeper than ``maximumDepth``, follows no `$ref` cycle
/// that makes no progress through the instance, and stops after 1,000,000 subschema
/// evaluations or 256 per value in the instance, whichever is more (only schemas whose work
/// grows exponentially with depth get there). Hitting a bound makes the instance invalid, with
/// that one violation as the result, whatever else was found.
public struct JSONSchema: Sendable {
    /// The deepest nesting of subschemas (through `properties`, `items`, `$ref`, `allOf`, ...)
    /// one validation follows before reporting a violation instead of going further.
    public static let maximumDepth = 512

    let program: SchemaProgram

    /// Compiles `schema` (an object or a boolean). Throws when the schema is malformed: a
    /// keyword with a value of the wrong kind (`"minLength": -1`, `"type": "text"`), a pattern
    /// that does not compile, or a `$ref` that does not resolve inside the document.
    public init(_ schema: JSON) throws(JSONSchemaError) {
        var compiler = SchemaCompiler(document: schema)
        program = SchemaProgram(try compiler.compile())
    }

    /// Every way `instance` fails the schema; empty when it is valid.
    public func validate(_ instance: JSON) -> [SchemaViolation] {
        var evaluation = SchemaEvaluation(program: program, root: instance, collecting: true)
        _ = evaluation.evaluate(0, instance)
        return evaluation.result
    }

    /// Whether every instance is valid: the schema is `true`, `{}`, or has only keywords that
    /// do not validate (`title`, `description`, ...). Callers may skip validating then.
    package var admitsEverything: Bool {
        program.nodes[0].keywords.isEmpty && !program.nodes[0].isFalse
    }

    /// Whether `instance` is valid; faster than `validate(_:).isEmpty`, since it stops at the
    /// first violation and builds no messages.
    public func isValid(_ instance: JSON) -> Bool {
        var evaluation = SchemaEvaluation(program: program, root: instance, collecting: false)
        return evaluation.evaluate(0, instance) && !evaluation.isAborted
    }
}

/// One way an instance fails a schema.
public struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// Where in the instance: `$` for the whole value, `$.input.name`, `$.items[2]`,
    /// `$['a key']` (the JSONPath syntax `JSONPath` reads).
    public var instanceLocation: String
    /// The keyword that failed, as a pointer into the schema document where it is written:
    /// `#/properties/name/type`, `#/$defs/address/required`.
    public var keywordLocation: String
    /// What is wrong, for people: "expected a string, got number 3".
    public var message: String
    /// For a missing property (`required`, `dependentRequired`): its name. The instance location
    /// is the object's; `field(under:)` names the property itself.
    package var property: String?

    public init(instanceLocation: String, keywordLocation: String, message: String) {
        self.instanceLocation = instanceLocation
        self.keywordLocation = keywordLocation
        self.message = message
    }

    /// `$.name: expected a string, got number 3 (#/properties/name/type)`.
    public var description: String { "\(instanceLocation): \(message) (\(keywordLocation))" }

    // Equal when the three public parts are: `property` only restates what the message says.
    public static func == (a: SchemaViolation, b: SchemaViolation) -> Bool {
        a.instanceLocation == b.instanceLocation && a.keywordLocation == b.keywordLocation && a.message == b.message
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(instanceLocation)
        hasher.combine(keywordLocation)
        hasher.combine(message)
    }

    /// The field the violation is about, under a name for the whole value: `input.user.age` for
    /// the instance location `$.user.age`, or for the location `$.user` of a missing `age`.
    package func field(under root: String) -> String {
        var text = root + instanceLocation.dropFirst()
        if let property { text += SchemaEvaluation.location(of: [.key(property)]).dropFirst() }
        return text
    }
}

/// A schema that cannot be compiled, with where in the schema the problem is.
public struct JSONSchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A pointer into the schema document: `#/properties/name/minLength`.
    public var schemaLocation: String
    public var reason: String

    public init(schemaLocation: String, reason: String) {
        self.schemaLocation = schemaLocation
        self.reason = reason
    }

    public var description: String { "invalid schema at \(schemaLocation): \(reason)" }
}
