import NodalJSON
import Testing

/// The violations of `instance` against `schema`, after checking that `isValid` agrees.
private func check(_ schema: JSON, _ instance: JSON, sourceLocation: SourceLocation = #_sourceLocation) throws
    -> [SchemaViolation]
{
    let compiled = try JSONSchema(schema)
    let violations = compiled.validate(instance)
    #expect(
        compiled.isValid(instance) == violations.isEmpty, "isValid disagrees with validate",
        sourceLocation: sourceLocation)
    return violations
}

private func violation(_ instance: String, _ keyword: String, _ message: String) -> SchemaViolation {
    SchemaViolation(instanceLocation: instance, keywordLocation: keyword, message: message)
}

private func parse(_ text: String) throws -> JSON { try JSON(parsing: text) }

@Suite struct JSONSchemaKeywordTests {
    @Test func typeNamesTheExpectedAndActualType() throws {
        #expect(try check(["type": "string"], 3) == [violation("$", "#/type", "expected a string, got number 3")])
        #expect(try check(["type": "string"], "x").isEmpty)
        #expect(
            try check(["type": "object"], [1, 2]) == [violation("$", "#/type", "expected an object, got array [1,2]")])
        #expect(try check(["type": "array"], nil) == [violation("$", "#/type", "expected an array, got null")])
        #expect(try check(["type": "null"], 0) == [violation("$", "#/type", "expected null, got number 0")])
        #expect(
            try check(["type": ["string", "null"]], true)
                == [violation("$", "#/type", "expected a string or null, got boolean true")])
        #expect(
            try check(["type": ["boolean", "integer", "object"]], "x")
                == [violation("$", "#/type", "expected an integer, a boolean or an object, got string \"x\"")])
    }

    @Test func integerIsANumberWithZeroFraction() throws {
        #expect(try check(["type": "integer"], 3).isEmpty)
        #expect(try check(["type": "integer"], 3.0).isEmpty)
        #expect(try check(["type": "integer"], 1e300).isEmpty)
        #expect(
            try check(["type": "integer"], 3.5) == [violation("$", "#/type", "expected an integer, got number 3.5")])
        #expect(
            try check(["type": "integer"], "3") == [violation("$", "#/type", "expected an integer, got string \"3\"")])
        #expect(try check(["type": "number"], 3).isEmpty)
        #expect(
            try check(["type": "number"], false) == [violation("$", "#/type", "expected a number, got boolean false")])
    }

    @Test func nestedPropertiesNameTheInstanceAndKeywordLocations() throws {
        let schema: JSON = [
            "type": "object",
            "properties": [
                "input": ["type": "object", "properties": ["name": ["type": "string"]], "required": ["name", "id"]]
            ],
        ]
        #expect(
            try check(schema, ["input": ["name": 3]]) == [
                violation("$.input", "#/properties/input/required", "missing required property 'id'"),
                violation("$.input.name", "#/properties/input/properties/name/type", "expected a string, got number 3"),
            ])
        #expect(try check(schema, ["input": ["name": "n", "id": 1]]).isEmpty)
        #expect(try check(schema, ["other": 1]).isEmpty)
    }

    @Test func requiredReportsEachMissingProperty() throws {
        let schema: JSON = ["required": ["a", "b", "c"]]
        #expect(
            try check(schema, ["b": nil]) == [
                violation("$", "#/required", "missing required property 'a'"),
                violation("$", "#/required", "missing required property 'c'"),
            ])
        #expect(try check(schema, "not an object").isEmpty)
    }

    @Test func additionalPropertiesSeesPropertiesAndPatterns() throws {
        let closed: JSON = [
            "properties": ["name": true], "patternProperties": ["^x-": true], "additionalProperties": false,
        ]
        #expect(try check(closed, ["name": 1, "x-trace": 2]).isEmpty)
        #expect(
            try check(closed, ["name": 1, "extra": 2, "other key": 3]) == [
                violation("$.extra", "#/additionalProperties", "unexpected property 'extra'"),
                violation("$['other key']", "#/additionalProperties", "unexpected property 'other key'"),
            ])
        let typed: JSON = ["properties": ["a": true], "additionalProperties": ["type": "integer"]]
        #expect(
            try check(typed, ["a": "s", "b": 1, "c": "s"]) == [
                violation("$.c", "#/additionalProperties/type", "expected an integer, got string \"s\"")
            ])
    }

    @Test func patternPropertiesApplyEveryMatchingPattern() throws {
        let schema: JSON = ["patternProperties": ["^n_": ["type": "number"], "_id$": ["type": "integer"]]]
        #expect(try check(schema, ["n_id": 2, "other": "x"]).isEmpty)
        #expect(
            try check(schema, ["n_id": 2.5]) == [
                violation("$.n_id", "#/patternProperties/_id$/type", "expected an integer, got number 2.5")
            ])
    }

    @Test func propertyNamesSaysWhyANameIsInvalid() throws {
        let schema: JSON = ["propertyNames": ["maxLength": 3]]
        #expect(try check(schema, ["abc": 1]).isEmpty)
        #expect(
            try check(schema, ["abcd": 1]) == [
                violation(
                    "$.abcd", "#/propertyNames", "invalid property name 'abcd': expected at most 3 characters, got 4")
            ])
    }

    @Test func dependentRequiredAndDependentSchemas() throws {
        let schema: JSON = [
            "dependentRequired": ["card": ["billing"]],
            "dependentSchemas": ["card": ["properties": ["billing": ["type": "string"]]]],
        ]
        #expect(try check(schema, ["billing": 1]).isEmpty)
        #expect(
            try check(schema, ["card": 1]) == [
                violation("$", "#/dependentRequired", "missing property 'billing', required when 'card' is present")
            ])
        #expect(
            try check(schema, ["card": 1, "billing": 2]) == [
                violation(
                    "$.billing", "#/dependentSchemas/card/properties/billing/type", "expected a string, got number 2")
            ])
    }

    @Test func itemsAndPrefixItemsNameTheIndex() throws {
        let schema: JSON = ["properties": ["items": ["items": ["type": "string"]]]]
        #expect(
            try check(schema, ["items": ["a", "b", 3]]) == [
                violation("$.items[2]", "#/properties/items/items/type", "expected a string, got number 3")
            ])
        let tuple: JSON = ["prefixItems": [["type": "string"], ["type": "integer"]], "items": ["type": "boolean"]]
        #expect(try check(tuple, ["a", 1, true, false]).isEmpty)
        #expect(try check(tuple, ["a"]).isEmpty)
        #expect(
            try check(tuple, ["a", "b", 1]) == [
                violation("$[1]", "#/prefixItems/1/type", "expected an integer, got string \"b\""),
                violation("$[2]", "#/items/type", "expected a boolean, got number 1"),
            ])
        #expect(
            try check(["prefixItems": [true, true], "items": false], [1, 2, 3])
                == [violation("$", "#/items", "expected at most 2 items (prefixItems), got 3")])
        #expect(try check(["items": false], [1]) == [violation("$", "#/items", "expected an empty array, got 1 item")])
        #expect(try check(["items": false], []).isEmpty)
    }

    @Test func containsCountsMatchingItems() throws {
        let schema: JSON = ["contains": ["type": "integer"], "maxContains": 2]
        #expect(try check(schema, ["a", 1]).isEmpty)
        #expect(
            try check(schema, ["a"]) == [
                violation("$", "#/contains", "expected at least 1 item matching contains, got 0")
            ])
        #expect(
            try check(schema, [1, 2, 3]) == [
                violation("$", "#/maxContains", "expected at most 2 items matching contains, got 3")
            ])
        #expect(
            try check(["contains": ["const": 1], "minContains": 2], [1])
                == [violation("$", "#/minContains", "expected at least 2 items matching contains, got 1")])
        #expect(try check(["contains": ["const": 1], "minContains": 0], []).isEmpty)
    }

    @Test func enumAndConstUseCodePointEquality() throws {
        #expect(
            try check(["enum": ["red", "green", 1]], "blue")
                == [violation("$", "#/enum", "expected one of \"red\", \"green\", 1, got string \"blue\"")])
        #expect(try check(["enum": ["red", ["a": 1.0]]], ["a": 1]).isEmpty)
        #expect(
            try check(["enum": []], 1) == [
                violation("$", "#/enum", "no value is allowed (enum is empty), got number 1")
            ])
        #expect(try check(["const": ["a": [1, 2]]], ["a": [1, 2.0]]).isEmpty)
        #expect(try check(["const": 2], 2.0).isEmpty)
        #expect(try check(["const": false], 0) == [violation("$", "#/const", "expected false, got number 0")])
        // Swift's `==` equates these canonically equivalent strings; JSON Schema does not.
        #expect(try check(["const": "\u{e9}"], "e\u{301}").count == 1)
        #expect(try check(["enum": ["\u{e9}"]], "e\u{301}").count == 1)
        #expect(try check(["uniqueItems": true], ["\u{e9}", "e\u{301}"]).isEmpty)
        #expect(try check(["required": ["\u{e9}"]], ["e\u{301}": 1]).count == 1)
        // 2^53 + 1 is not equal to the double 2^53, although it rounds to it.
        #expect(try check(["const": 9_007_199_254_740_993], 9_007_199_254_740_992.0).count == 1)
        // A long enum is searched through a set; the answers must not change.
        let long = JSON.array((0..<40).map { JSON.int($0) } + ["\u{e9}", ["k": [1, 2]]])
        #expect(try check(["enum": long], 39.0).isEmpty)
        #expect(try check(["enum": long], ["k": [1.0, 2]]).isEmpty)
        #expect(try check(["enum": long], 40).count == 1)
        #expect(try check(["enum": long], "e\u{301}").count == 1)
    }

    @Test func numericLimits() throws {
        #expect(try check(["minimum": 5], 3) == [violation("$", "#/minimum", "expected at least 5, got 3")])
        #expect(try check(["minimum": 5], 5).isEmpty)
        #expect(try check(["maximum": 5], 5.5) == [violation("$", "#/maximum", "expected at most 5, got 5.5")])
        #expect(
            try check(["exclusiveMinimum": 5], 5) == [
                violation("$", "#/exclusiveMinimum", "expected more than 5, got 5")
            ])
        #expect(try check(["exclusiveMinimum": 5], 5.01).isEmpty)
        #expect(
            try check(["exclusiveMaximum": 0.5], 0.5) == [
                violation("$", "#/exclusiveMaximum", "expected less than 0.5, got 0.5")
            ])
        #expect(try check(["minimum": 0.5], 0) == [violation("$", "#/minimum", "expected at least 0.5, got 0")])
        #expect(try check(["minimum": 5], "3").isEmpty)
        // Integers beyond 2^53 compare exactly, also against doubles.
        #expect(try check(["maximum": 9_007_199_254_740_992], 9_007_199_254_740_993).count == 1)
        #expect(try check(["maximum": 9_007_199_254_740_992.0], 9_007_199_254_740_993).count == 1)
        #expect(try check(["minimum": 9_223_372_036_854_775_807], 1e19).isEmpty)
        #expect(try check(["maximum": -9.3e18], .int(Int.min)).count == 1)
        #expect(try check(["minimum": -9.3e18], .int(Int.min)).isEmpty)
        #expect(try check(["maximum": -9.2e18], .int(Int.min + 1)).isEmpty)
    }

    @Test func multipleOfComparesDecimals() throws {
        #expect(try check(["multipleOf": 3], 9).isEmpty)
        #expect(
            try check(["multipleOf": 3], 10) == [violation("$", "#/multipleOf", "expected a multiple of 3, got 10")])
        #expect(try check(["multipleOf": 0.1], 0.3).isEmpty)  // 0.3 / 0.1 is 2.9999999999999996 in doubles
        #expect(try check(["multipleOf": 0.01], 19.99).isEmpty)
        #expect(try check(["multipleOf": 0.01], 19.999).count == 1)
        #expect(try check(["multipleOf": 2], 4.0).isEmpty)
        #expect(try check(["multipleOf": 2], 4.5).count == 1)
        #expect(try check(["multipleOf": 1e-300], 1e300).isEmpty)
        #expect(try check(["multipleOf": 0.123456789], 1e308).count == 1)
        #expect(try check(["multipleOf": 7], .int(Int.min)).count == 1)
        #expect(try check(["multipleOf": 2], .int(Int.min)).isEmpty)
    }

    @Test func lengthsCountCodePoints() throws {
        #expect(try check(["maxLength": 2], "😀😀").isEmpty)  // four UTF-16 code units, eight UTF-8 bytes
        #expect(
            try check(["maxLength": 1], "e\u{301}") == [
                violation("$", "#/maxLength", "expected at most 1 character, got 2")
            ])
        #expect(
            try check(["minLength": 3], "ab") == [
                violation("$", "#/minLength", "expected at least 3 characters, got 2")
            ])
        #expect(
            try check(["minLength": 2], "😀") == [violation("$", "#/minLength", "expected at least 2 characters, got 1")]
        )
        #expect(try check(["minLength": 0], "").isEmpty)
        #expect(try check(["minLength": 5], 12).isEmpty)
    }

    @Test func patternIsAnUnanchoredECMAScriptSearch() throws {
        #expect(try check(["pattern": "b+"], "abbc").isEmpty)
        #expect(
            try check(["pattern": "^[0-9]{3}$"], "12") == [
                violation("$", "#/pattern", "string \"12\" does not match the pattern \"^[0-9]{3}$\"")
            ])
        #expect(try check(["pattern": "^\\d+$"], "123").isEmpty)
        #expect(try check(["pattern": "^\\d+$"], "\u{661}\u{662}").count == 1)  // \d is ASCII only in ECMA-262
        #expect(try check(["pattern": "^\\w+$"], "caf\u{e9}").count == 1)  // so is \w
        #expect(try check(["pattern": "^\\p{L}+$"], "caf\u{e9}").isEmpty)
        #expect(try check(["pattern": "^a.c$"], "a😀c").isEmpty)  // '.' is one code point
        #expect(try check(["pattern": "^abc$"], "abc\n").count == 1)  // '$' is the end, not before a final newline
        #expect(try check(["pattern": "^(ab|cd)*e?$"], "abcdab").isEmpty)
        #expect(try check(["pattern": "x"], 12).isEmpty)
        #expect(try check(["pattern": "^.$"], "\n").count == 1)  // '.' stops at line terminators
        // What Regex cannot do is refused with the pattern's location, not misread.
        #expect {
            try JSONSchema(["properties": ["a": ["pattern": "(?<=a)b"]]])
        } throws: { error in
            (error as? JSONSchemaError)?.schemaLocation == "#/properties/a/pattern"
        }
    }

    @Test func arrayAndObjectSizes() throws {
        #expect(try check(["minItems": 2], [1]) == [violation("$", "#/minItems", "expected at least 2 items, got 1")])
        #expect(try check(["maxItems": 1], [1, 2]) == [violation("$", "#/maxItems", "expected at most 1 item, got 2")])
        #expect(
            try check(["minProperties": 1], [:]) == [
                violation("$", "#/minProperties", "expected at least 1 property, got 0")
            ])
        #expect(
            try check(["maxProperties": 1], ["a": 1, "b": 2])
                == [violation("$", "#/maxProperties", "expected at most 1 property, got 2")])
        // A repeated key is one property (the last occurrence wins, as everywhere in JSON).
        #expect(try check(["maxProperties": 1], try parse(#"{"a": 1, "a": 2}"#)).isEmpty)
        #expect(try check(["properties": ["a": ["type": "string"]]], try parse(#"{"a": 1, "a": "x"}"#)).isEmpty)
        #expect(try check(["properties": ["a": ["type": "string"]]], try parse(#"{"a": "x", "a": 1}"#)).count == 1)
    }

    @Test func uniqueItemsNamesTheEqualPair() throws {
        #expect(
            try check(["uniqueItems": true], [1, "a", 1.0]) == [
                violation("$", "#/uniqueItems", "expected unique items, but items 0 and 2 are equal (1.0)")
            ])
        #expect(try check(["uniqueItems": true], [["a": 1, "b": 2], ["b": 2, "a": 1]]).count == 1)
        #expect(try check(["uniqueItems": true], [[1], [true], 1, true, nil, [:]]).isEmpty)
        #expect(try check(["uniqueItems": false], [1, 1]).isEmpty)
        // Long arrays go through a hash table.
        let long = JSON.array((0..<100).map { JSON.int($0) } + [["x": 50.0]] + [["x": 50]])
        #expect(
            try check(["uniqueItems": true], long) == [
                violation("$", "#/uniqueItems", "expected unique items, but items 100 and 101 are equal ({\"x\":50})")
            ])
        #expect(try check(["uniqueItems": true], JSON.array((0..<100).map { JSON.int($0) })).isEmpty)
    }

    @Test func combinatorsExplainThemselves() throws {
        let anyOf: JSON = ["anyOf": [["type": "string"], ["type": "integer", "minimum": 10]]]
        #expect(try check(anyOf, 12).isEmpty)
        #expect(
            try check(anyOf, 3) == [
                violation(
                    "$", "#/anyOf",
                    "expected to match at least one schema of anyOf, matched none (#0 expected a string, got number 3; #1 expected at least 10, got 3)"
                )
            ])
        let oneOf: JSON = ["oneOf": [["type": "integer"], ["minimum": 2]]]
        #expect(try check(oneOf, 1).isEmpty)
        #expect(try check(oneOf, 2.5).isEmpty)
        #expect(
            try check(oneOf, 3) == [
                violation("$", "#/oneOf", "expected to match exactly one schema of oneOf, matched 2: #0, #1")
            ])
        #expect(
            try check(oneOf, 1.5).first?.message.hasPrefix(
                "expected to match exactly one schema of oneOf, matched none") == true)
        let allOf: JSON = ["allOf": [["type": "integer"], ["minimum": 2]]]
        #expect(
            try check(allOf, 1.5) == [
                violation("$", "#/allOf/0/type", "expected an integer, got number 1.5"),
                violation("$", "#/allOf/1/minimum", "expected at least 2, got 1.5"),
            ])
        #expect(
            try check(["not": ["type": "null"]], nil) == [
                violation("$", "#/not", "expected not to match the schema at #/not")
            ])
        #expect(try check(["not": ["type": "null"]], 1).isEmpty)
    }

    @Test func alternativesInsideAlternativesExplainOneLevel() throws {
        let schema: JSON = ["anyOf": [["anyOf": [["type": "string"], ["type": "null"]]], ["type": "array"]]]
        #expect(
            try check(schema, 1) == [
                violation(
                    "$", "#/anyOf",
                    "expected to match at least one schema of anyOf, matched none (#0 expected to match at least one schema of anyOf, matched none; #1 expected an array, got number 1)"
                )
            ])
    }

    @Test func ifThenElseReportsTheTakenBranch() throws {
        let schema: JSON = [
            "if": ["properties": ["kind": ["const": "file"]]],
            "then": ["required": ["path"]],
            "else": ["required": ["url"]],
        ]
        #expect(try check(schema, ["kind": "file", "path": "/x"]).isEmpty)
        #expect(
            try check(schema, ["kind": "file"]) == [
                violation("$", "#/then/required", "missing required property 'path'")
            ])
        #expect(
            try check(schema, ["kind": "web"]) == [violation("$", "#/else/required", "missing required property 'url'")]
        )
        #expect(try check(["then": false], 1).isEmpty)
        #expect(try check(["if": true], 1).isEmpty)
    }

    @Test func booleanSchemas() throws {
        #expect(try check(true, ["anything": 1]).isEmpty)
        #expect(try check(false, 1) == [violation("$", "#", "no value is allowed here (the schema is false)")])
        #expect(
            try check(["properties": ["gone": false]], ["gone": 1])
                == [violation("$.gone", "#/properties/gone", "no value is allowed here (the schema is false)")])
    }

    @Test func unknownKeywordsAndAnnotationsAreIgnored() throws {
        let schema: JSON = [
            "title": "T", "description": "D", "examples": [1], "format": "email", "$comment": "c",
            "deprecated": true, "x-vendor": ["type": "string"], "unevaluatedProperties": false,
        ]
        #expect(try check(schema, "not an email").isEmpty)
        #expect(try check(schema, ["extra": 1]).isEmpty)
    }

    @Test func instanceLocationsReadBackAsJSONPaths() throws {
        let schema: JSON = [
            "properties": ["a b": ["items": ["properties": ["it's": ["type": "string"], "9lives": false]]]]
        ]
        let instance: JSON = ["a b": [["it's": 1, "9lives": 1]]]
        let violations = try check(schema, instance)
        #expect(violations.map(\.instanceLocation) == ["$['a b'][0]['it\\'s']", "$['a b'][0]['9lives']"])
        for violation in violations {
            #expect(try JSONPath(violation.instanceLocation).evaluate(instance) == 1)
        }
        #expect(
            violations[0].description
                == "$['a b'][0]['it\\'s']: expected a string, got number 1 (#/properties/a b/items/properties/it's/type)"
        )
    }
}

@Suite struct JSONSchemaReferenceTests {
    @Test func refsIntoDefsAndDefinitionsReportTheTargetLocation() throws {
        let schema: JSON = [
            "$defs": ["name": ["type": "string"]],
            "definitions": ["count": ["type": "integer"]],
            "properties": ["name": ["$ref": "#/$defs/name"], "count": ["$ref": "#/definitions/count"]],
        ]
        #expect(try check(schema, ["name": "x", "count": 1]).isEmpty)
        #expect(
            try check(schema, ["name": 1, "count": "x"]) == [
                violation("$.name", "#/$defs/name/type", "expected a string, got number 1"),
                violation("$.count", "#/definitions/count/type", "expected an integer, got string \"x\""),
            ])
    }

    @Test func refsWithSiblingKeywordsApplyBoth() throws {
        let schema: JSON = ["$defs": ["s": ["type": "string"]], "$ref": "#/$defs/s", "maxLength": 2]
        #expect(try check(schema, "ab").isEmpty)
        #expect(try check(schema, "abc") == [violation("$", "#/maxLength", "expected at most 2 characters, got 3")])
        #expect(try check(schema, 1) == [violation("$", "#/$defs/s/type", "expected a string, got number 1")])
    }

    @Test func pointerEscapesAndPercentEncoding() throws {
        let schema: JSON = [
            "$defs": ["a/b": ["const": 1], "c~d": ["const": 2], "e%f": ["const": 3], "g h": ["const": 4]],
            "properties": [
                "slash": ["$ref": "#/$defs/a~1b"], "tilde": ["$ref": "#/$defs/c~0d"],
                "percent": ["$ref": "#/$defs/e%25f"], "space": ["$ref": "#/$defs/g%20h"],
            ],
        ]
        #expect(try check(schema, ["slash": 1, "tilde": 2, "percent": 3, "space": 4]).isEmpty)
        #expect(
            try check(schema, ["slash": 0, "tilde": 0]).map(\.keywordLocation) == [
                "#/$defs/a~1b/const", "#/$defs/c~0d/const",
            ])
    }

    @Test func refToAPointerNoKeywordReaches() throws {
        // `#/properties/a/items` is a keyword location; `#/x-templates/b` is not, and compiles on demand.
        let schema: JSON = [
            "x-templates": ["b": ["type": "boolean"]],
            "properties": [
                "a": ["items": ["type": "integer"]], "c": ["$ref": "#/properties/a/items"],
                "d": ["$ref": "#/x-templates/b"],
            ],
        ]
        #expect(try check(schema, ["c": 1, "d": true]).isEmpty)
        #expect(
            try check(schema, ["c": "x", "d": 1]).map(\.keywordLocation) == [
                "#/properties/a/items/type", "#/x-templates/b/type",
            ])
    }

    @Test func recursiveSchemasValidateTrees() throws {
        let tree: JSON = [
            "type": "object", "required": ["value"],
            "properties": ["value": ["type": "integer"], "children": ["type": "array", "items": ["$ref": "#"]]],
        ]
        let good: JSON = ["value": 1, "children": [["value": 2, "children": [["value": 3]]], ["value": 4]]]
        #expect(try check(tree, good).isEmpty)
        let bad: JSON = ["value": 1, "children": [["value": 2, "children": [["value": "3"]]]]]
        #expect(
            try check(tree, bad) == [
                violation(
                    "$.children[0].children[0].value", "#/properties/value/type",
                    "expected an integer, got string \"3\"")
            ])
    }

    @Test func idsAndAnchorsResolveInsideTheDocument() throws {
        let schema: JSON = [
            "$id": "https://example.com/root.json",
            "properties": [
                "a": ["$ref": "item.json"], "b": ["$ref": "#positive"], "c": ["$ref": "item.json#/$defs/inner"],
                "d": ["$ref": "https://example.com/root.json#/$defs/item/$defs/inner"],
            ],
            "$defs": [
                "item": ["$id": "item.json", "type": "string", "$defs": ["inner": ["const": "in"]]],
                "positive": ["$anchor": "positive", "exclusiveMinimum": 0],
            ],
        ]
        #expect(try check(schema, ["a": "s", "b": 1, "c": "in", "d": "in"]).isEmpty)
        #expect(
            try check(schema, ["a": 1, "b": 0, "c": "out", "d": "out"]).map(\.keywordLocation) == [
                "#/$defs/item/type", "#/$defs/positive/exclusiveMinimum", "#/$defs/item/$defs/inner/const",
                "#/$defs/item/$defs/inner/const",
            ])
    }

    @Test func refCyclesWithoutProgressAreReportedNotFollowed() throws {
        let pair: JSON = ["$defs": ["a": ["$ref": "#/$defs/b"], "b": ["$ref": "#/$defs/a"]], "$ref": "#/$defs/a"]
        let violations = try check(pair, 1)
        #expect(violations.count == 1)
        #expect(violations.first?.message.contains("$ref cycle") == true)
        #expect(violations.first?.message.contains("#/$defs/a") == true)
        #expect(try check(["$ref": "#"], 1).count == 1)
        #expect(try check(["anyOf": [["$ref": "#"]]], "x").count == 1)
        // The same schema applied again to a deeper value is progress, not a cycle.
        #expect(try check(["items": ["$ref": "#"]], [[[[]]]]).isEmpty)
    }

    @Test func deepInstancesStopAtTheDepthLimit() throws {
        let schema = try JSONSchema(["type": "array", "items": ["$ref": "#"]])
        var shallow: JSON = []
        for _ in 0..<100 { shallow = [shallow] }
        #expect(schema.validate(shallow).isEmpty)
        var deep: JSON = []
        for _ in 0..<2000 { deep = [deep] }
        let violations = schema.validate(deep)
        #expect(violations.count == 1)
        #expect(violations.first?.message.contains("deeper than \(JSONSchema.maximumDepth)") == true)
        #expect(!schema.isValid(deep))
    }

    @Test func anAbortedEvaluationIsInvalidEvenUnderNot() throws {
        // Without the depth limit the inner schema would accept the nested arrays, and `not`
        // reject them; a subschema abandoned at the limit must not turn into a pass under `not`.
        let schema = try JSONSchema(["not": ["items": ["$ref": "#/not"]]])
        var shallow: JSON = []
        for _ in 0..<10 { shallow = [shallow] }
        #expect(schema.validate(shallow) == [violation("$", "#/not", "expected not to match the schema at #/not")])
        var deep: JSON = []
        for _ in 0..<1000 { deep = [deep] }
        let violations = schema.validate(deep)
        #expect(violations.count == 1)
        #expect(violations.first?.message.contains("deeper than") == true)
        #expect(!schema.isValid(deep))
        // The same for a cycle inside `not`.
        let cycle = try JSONSchema(["$defs": ["a": ["$ref": "#/$defs/a"]], "not": ["$ref": "#/$defs/a"]])
        #expect(cycle.validate(1).count == 1)
        #expect(cycle.validate(1).first?.message.contains("$ref cycle") == true)
        #expect(!cycle.isValid(1))
    }

    @Test func containsAndPropertyNamesAreProgressNotCycles() throws {
        // Items and property names are deeper than their array or object, so a `$ref` back to
        // the schema of the array or object is progress, not a cycle.
        let schema: JSON = [
            "$defs": [
                "a": [
                    "anyOf": [
                        ["type": "string"],
                        ["type": "object", "propertyNames": ["$ref": "#/$defs/a"]],
                        ["type": "array", "contains": ["$ref": "#/$defs/a"]],
                    ]
                ]
            ],
            "properties": ["x": ["$ref": "#/$defs/a"]],
        ]
        #expect(try check(schema, ["x": ["k": 1]]).isEmpty)
        #expect(try check(schema, ["x": [[1, "s"]]]).isEmpty)
        let violations = try check(schema, ["x": [[1]]])
        #expect(violations.map(\.keywordLocation) == ["#/$defs/a/anyOf"])
    }

    @Test func exponentialSchemasRunOutOfSteps() throws {
        // `if` and `then` both recurse: 2^40 evaluations without a budget.
        let schema = try JSONSchema(["if": ["items": ["$ref": "#"]], "then": ["items": ["$ref": "#"]]])
        var instance: JSON = []
        for _ in 0..<40 { instance = [instance] }
        let violations = schema.validate(instance)
        #expect(violations.count == 1)
        #expect(violations.first?.message.contains("validation stopped after 1000000 subschema evaluations") == true)
        #expect(!schema.isValid(instance))
    }

    @Test func largeInstancesGetALargerBudget() throws {
        // Three evaluations per item: 1.2 million in all, above the base budget of a million.
        let schema = try JSONSchema(["items": ["allOf": [["type": "integer"], ["minimum": 0]]]])
        let instance = JSON.array(Array(repeating: 1, count: 400_000))
        #expect(schema.isValid(instance))
    }

    @Test func malformedSchemasAreRejectedWithTheirLocation() throws {
        let cases: [(JSON, String, String)] = [
            (3, "#", "a schema must be an object or a boolean"),
            (["properties": ["a": "string"]], "#/properties/a", "a schema must be an object or a boolean"),
            (["type": "text"], "#/type", "unknown type \"text\""),
            (["type": []], "#/type", "non-empty array"),
            (["type": ["string", "string"]], "#/type", "twice"),
            (["minLength": -1], "#/minLength", "non-negative integer"),
            (["maxItems": 1.5], "#/maxItems", "non-negative integer"),
            (["minimum": "1"], "#/minimum", "must be a number"),
            (["multipleOf": 0], "#/multipleOf", "above 0"),
            (["required": [1]], "#/required", "property names"),
            (
                ["properties": ["a": ["pattern": "(unclosed"]]], "#/properties/a/pattern",
                "not a valid regular expression"
            ),
            (["patternProperties": ["[": true]], "#/patternProperties/[", "not a valid regular expression"),
            (["items": [true]], "#/items", "prefixItems"),
            (["allOf": []], "#/allOf", "non-empty array"),
            (["enum": 1], "#/enum", "must be an array"),
            (["$ref": "#/$defs/missing"], "#/$ref", "points to nothing"),
            (["$ref": "other.json"], "#/$ref", "outside this schema"),
            (["$ref": "https://json-schema.org/draft/2020-12/schema"], "#/$ref", "outside this schema"),
            (["$ref": "#nowhere"], "#/$ref", "no $anchor 'nowhere'"),
            (["$ref": "#/a~2"], "#/$ref", "not a valid JSON pointer"),
            (["$defs": ["x": ["$ref": 1]]], "#/$defs/x/$ref", "must be a string"),
            (["$defs": ["x": ["$anchor": "1bad"]]], "#/$defs/x/$anchor", "must be a name"),
            (["$defs": ["x": ["$id": "a#frag"]]], "#/$defs/x/$id", "has a fragment"),
            (["$defs": ["x": ["$id": "a"], "y": ["$id": "a"]]], "#/$defs/y/$id", "already used"),
            (["not": ["then": ["minimum": true]]], "#/not/then/minimum", "must be a number"),
        ]
        for (schema, location, reason) in cases {
            do {
                _ = try JSONSchema(schema)
                Issue.record("compiled \(schema)")
            } catch {
                #expect(error.schemaLocation == location, "\(schema)")
                #expect(error.reason.contains(reason), "\(schema): \(error.reason)")
            }
        }
    }

    @Test func deeplyNestedSchemasAreRejectedNotRecursedInto() throws {
        var schema: JSON = true
        for _ in 0..<3000 { schema = ["not": schema] }
        #expect(throws: JSONSchemaError.self) { try JSONSchema(schema) }
        var fine: JSON = true
        for _ in 0..<300 { fine = ["not": fine] }
        #expect(try JSONSchema(fine).isValid(1))  // an even number of `not`s around `true`
    }

    @Test func schemasAreSafeToShareAcrossTasks() async throws {
        let schema = try JSONSchema([
            "type": "object", "patternProperties": ["^[a-z]+$": ["type": "string", "pattern": "^v[0-9]+$"]],
            "additionalProperties": false,
        ])
        let results = await withTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var ok = true
                    for i in 0..<200 {
                        let good: JSON = ["k": .string("v\(i)")]
                        let bad: JSON = ["k": .string("w\(task)")]
                        ok = ok && schema.isValid(good) && !schema.isValid(bad) && schema.validate(bad).count == 1
                    }
                    return ok
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }
}
