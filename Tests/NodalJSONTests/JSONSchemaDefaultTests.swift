import NodalJSON
import Testing

@Suite struct JSONSchemaDefaultTests {
    @Test func fillsMissingPropertiesRecursively() throws {
        let schema = try JSONSchema([
            "properties": [
                "retries": ["type": "integer", "default": 3],
                "mode": ["default": "fast"],
                "backoff": [
                    "default": [:],
                    "properties": ["base": ["default": 0.5], "factor": ["default": 2]],
                ],
                "none": ["type": "string"],
            ]
        ])
        #expect(
            schema.applyingDefaults(to: ["mode": "slow"])
                == ["mode": "slow", "retries": 3, "backoff": ["base": 0.5, "factor": 2]])
        #expect(
            schema.applyingDefaults(to: ["backoff": ["factor": 4], "retries": nil])
                == ["backoff": ["factor": 4, "base": 0.5], "retries": nil, "mode": "fast"])
        // Order: present properties first as written, then the filled ones in schema order.
        #expect(schema.applyingDefaults(to: ["x": 1]).objectValue?.keys == ["x", "retries", "mode", "backoff"])
        #expect(schema.applyingDefaults(to: "text") == "text")
        #expect(schema.applyingDefaults(to: [1, 2]) == [1, 2])
    }

    @Test func followsRefAndAllOf() throws {
        let schema = try JSONSchema([
            "$defs": [
                "Limits": ["properties": ["max": ["default": 10]]],
                "Timeout": ["default": 30],
            ],
            "allOf": [["properties": ["name": ["default": "n"]]]],
            "properties": [
                "limits": ["$ref": "#/$defs/Limits", "default": [:]],
                "timeout": ["$ref": "#/$defs/Timeout"],
            ],
        ])
        #expect(
            schema.applyingDefaults(to: [:]) == ["limits": ["max": 10], "timeout": 30, "name": "n"])
    }

    @Test func selfReferentialDefaultsStop() throws {
        let schema = try JSONSchema(["properties": ["child": ["$ref": "#", "default": [:]], "n": ["default": 1]]])
        let filled = schema.applyingDefaults(to: [:])
        // One default-created level is filled, then filling the same schema again stops.
        #expect(filled == ["child": ["child": [:], "n": 1], "n": 1])
        // A value the caller wrote is followed as deep as it goes.
        #expect(
            schema.applyingDefaults(to: ["child": ["child": ["n": 5]]])
                == ["child": ["child": ["n": 5, "child": ["child": [:], "n": 1]], "n": 1], "n": 1])
    }

    @Test func defaultsDoNotValidate() throws {
        let schema = try JSONSchema(["properties": ["a": ["type": "string", "default": 1]]])
        #expect(schema.isValid([:]))
        #expect(!schema.isValid(schema.applyingDefaults(to: [:])))
    }
}
