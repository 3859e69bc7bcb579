import NodalJSON
/// Components of the `builtin` plugin type, reached as `/builtin/NAME` (or through any route
/// prefix a configuration maps to a `builtin` plugin entry).
enum Builtins {
    /// The core's own builtins; extensions add more (`ffi` from NodalFFI: `Engine.builtinNames`).
    static let names = ["create_messages", "eval", "get_blob", "interrupt", "iterate", "load_file", "map", "noop", "put_blob", "sleep"]

    /// Builtins that run flows of their own or keep blobs: async, with the engine at hand.
    private static let engineBuiltins: [String: @Sendable (JSON, any BuiltinHost, NodeContext) async throws -> JSON] = [
        "map": { try await BuiltinMap.run($0, engine: $1, context: $2) },
        "eval": { try await BuiltinEval.run($0, engine: $1, context: $2) },
        "iterate": { try await BuiltinIterate.run($0, engine: $1, context: $2) },
        "put_blob": { try await BuiltinBlobs.put($0, engine: $1, context: $2) },
        "get_blob": { try await BuiltinBlobs.get($0, engine: $1, context: $2) },
        "sleep": { try await BuiltinSleep.run($0, engine: $1, context: $2) },
    ]

    /// - Parameter engine: for builtins that run flows of their own (`map`, `eval`, `iterate`),
    ///   keep blobs in its in-memory store, read its configuration (`load_file`) or wait on its
    ///   clock (`sleep`).
    static func resolve(_ name: String, route: String, engine: any BuiltinHost) -> ResolvedComponent? {
        let bare = name.hasPrefix("/builtin/") ? String(name.dropFirst(9)) : String(name.drop(while: { $0 == "/" }))
        if let body = engineBuiltins[bare] {
            return ResolvedComponent(route: route, nodeID: "builtin/\(bare)", executor: .async { input, context in
                try await body(input, engine, context)
            })
        }
        switch bare {
        case "create_messages":
            return ResolvedComponent(route: route, nodeID: "builtin/create_messages", executor: .inline { input, _ in
                createMessages(input.json)
            })
        case "noop":
            return ResolvedComponent(route: route, nodeID: "builtin/noop", executor: .inline(BuiltinNoop.call))
        case "interrupt":
            return ResolvedComponent(route: route, nodeID: "builtin/interrupt", executor: .inline(BuiltinInterrupt.call))
        case "load_file":
            // File reads block: on the pool, like a blocking plugin call.
            let allowed = engine.configuration.allowedFileFolders
            return ResolvedComponent(route: route, nodeID: "builtin/load_file", executor: .pooled { input, context in
                do throws(StepError) {
                    return .success(Payload(json: try BuiltinLoadFile.run(input.json, context: context, allowedFolders: allowed)))
                } catch {
                    return .failure(error)
                }
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
