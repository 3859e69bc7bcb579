/// Components of the `builtin` plugin type, reached as `/builtin/NAME` (or through any route
/// prefix a configuration maps to a `builtin` plugin entry).
enum Builtins {
    /// For error messages; `ffi` is resolved by the engine (FFI/FFIStep.swift), which holds the allowlist.
    static let names = ["create_messages", "interrupt", "map", "ffi"]

    /// - Parameter engine: for builtins that run flows of their own (`map`).
    static func resolve(_ name: String, route: String, engine: Engine, flowFile: String?) -> ResolvedComponent? {
        let bare = name.hasPrefix("/builtin/") ? String(name.dropFirst(9)) : String(name.drop(while: { $0 == "/" }))
        switch bare {
        case "create_messages":
            return ResolvedComponent(route: route, nodeID: "builtin/create_messages", executor: .inline { input, _ in
                createMessages(input.json)
            })
        case "interrupt":
            return ResolvedComponent(route: route, nodeID: "builtin/interrupt", executor: .inline(BuiltinInterrupt.call))
        case "map":
            return ResolvedComponent(route: route, nodeID: "builtin/map", executor: .async { input, context in
                try await BuiltinMap.run(input, engine: engine, context: context, parentFile: flowFile)
            })
        default:
            return nil
        }
    }

    /// Stepflow's `create_messages`: `{system_instructions?, user_prompt}` to a chat message list.
    static func createMessages(_ input: JSON) -> NodeOutcome {
        guard case .string(let prompt)? = input["user_prompt"] else {
            return .failure(StepError(code: "INVALID_INPUT", message: "create_messages needs a string 'user_prompt'"))
        }
        var messages: [JSON] = []
        switch input["system_instructions"] {
        case nil, .null?: break
        case .string(let instructions)?:
            messages.append(["role": "system", "content": .string(instructions)])
        case let other?:
            return .failure(StepError(code: "INVALID_INPUT", message: "create_messages: 'system_instructions' must be a string, not \(other.typeName)"))
        }
        messages.append(["role": "user", "content": .string(prompt)])
        return .success(Payload(json: ["messages": .array(messages)]))
    }
}
