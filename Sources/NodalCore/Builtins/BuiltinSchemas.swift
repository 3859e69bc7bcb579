import NodalJSON

/// The schemas builtins declare, as Stepflow's do (its builtins derive theirs from their input
/// and output types). Builtins that take any input, or check their own (the flows `map`, `eval`
/// and `iterate` run, a blob's data), declare none.
package enum BuiltinSchemas {
    /// The schema documents by builtin name, as `GET /components` shows them.
    package static let documents: [String: (input: JSON, output: JSON)] = [
        "create_messages": (
            input: [
                "type": "object",
                "properties": [
                    "system_instructions": ["type": ["string", "null"]],
                    "user_prompt": ["type": "string"],
                ],
                "required": ["user_prompt"],
            ],
            output: [
                "type": "object",
                "properties": [
                    "messages": [
                        "type": "array",
                        "items": [
                            "type": "object",
                            "properties": [
                                "role": ["enum": ["system", "user", "assistant"]],
                                "content": ["type": "string"],
                            ],
                            "required": ["role", "content"],
                        ],
                    ]
                ],
                "required": ["messages"],
            ]
        ),
    ]

    /// By builtin name, compiled once per process.
    static let byName: [String: NodeSchemas] = documents.reduce(into: [:]) { schemas, entry in
        schemas[entry.key] = NodeSchemas(owner: "builtin \(entry.key)", input: entry.value.input, output: entry.value.output)
    }

    /// The schemas of the builtin a node id names (`builtin/create_messages`), if it declares any.
    static func schemas(forNode nodeID: String) -> NodeSchemas? {
        guard nodeID.hasPrefix("builtin/") else { return nil }
        return byName[String(nodeID.dropFirst(8))]
    }
}
