import NodalJSON
internal import Yams

/// Stepflow's `mock` plugin type: each component answers from a table keyed by its exact input.
///
/// ```yaml
/// plugins:
///   mock:
///     type: mock
///     components:
///       /one_output:
///         behaviors:
///           { input: "a" }: { outcome: success, result: { output: b } }
///           { input: "x" }: { outcome: failed, error: { code: BAD, message: "no" } }
///           { input: "y" }: { error: "the component broke" }
/// ```
///
/// Inputs match as JSON values (key order does not matter; `1` equals `1.0`). Behaviours read as
/// Stepflow reads them:
/// - `{outcome: success, result: R}`: the step succeeds with `R` (`result` is required).
/// - `{outcome: failed, error: {code, message, data}}`: the step fails with that error, code and
///   message required (a string code as written, an integer code as its decimal text; `data`, or
///   Nodal's `details`, optional).
/// - `{error: TEXT}`: the component fails internally, as Stepflow's mock does, and so does an
///   input with no behaviour. Stepflow's executor turns such a failure into the step's error
///   `{code: UNREACHABLE, message: 'step "ID" failed', data: {stack: [...]}}`, the stack naming
///   the component and, for a missing behaviour, `No behavior defined for COMPONENT on INPUT`;
///   Nodal reports the same (`internalFailure`).
struct MockPlugin: Sendable {
    var components: [String: [JSON: Behavior]]

    enum Behavior: Sendable {
        case success(JSON)
        case failure(StepError)
        /// Stepflow's `MockComponentBehavior::Error`: an internal failure of the component (its
        /// text is not part of what Stepflow reports).
        case internalError
    }

    init(components node: Node?, file: String?, field: String) throws(FlowError) {
        components = [:]
        guard let node else { return }
        guard case .mapping(let mapping) = node else {
            throw FlowError(file: file, field: field, "'components' must map component names to definitions")
        }
        for (nameNode, definition) in mapping {
            let name = nameNode.string ?? ""
            var table: [JSON: Behavior] = [:]
            if case .mapping(let parts) = definition, let behaviors = parts["behaviors"] {
                guard case .mapping(let entries) = behaviors else {
                    throw FlowError(file: file, field: "\(field).\(name).behaviors", "'behaviors' must map inputs to outcomes")
                }
                for (inputNode, outcomeNode) in entries {
                    let input = YAMLConversion.anyJSON(inputNode)
                    let here = "\(field).\(name).behaviors.\(input)"
                    table[input] = try Self.behavior(YAMLConversion.anyJSON(outcomeNode), file: file, field: here)
                }
            }
            components[name.hasPrefix("/") ? name : "/" + name] = table
        }
    }

    private static func behavior(_ outcome: JSON, file: String?, field: String) throws(FlowError) -> Behavior {
        let shapes = "'{outcome: success, result: ...}', '{outcome: failed, error: {code, message}}' or '{error: TEXT}'"
        guard case .object(let object) = outcome else {
            throw FlowError(file: file, field: field, "a behaviour must be a mapping: \(shapes)")
        }
        // Stepflow tries `{error: TEXT}` first, whatever else the mapping holds.
        if case .string? = object["error"] { return .internalError }
        switch object["outcome"] {
        case .string("success")?:
            guard let result = object["result"] else {
                throw FlowError(file: file, field: "\(field).result", "'outcome: success' needs a 'result' (the step's output; write 'result: null' for none)")
            }
            return .success(result)
        case .string("failed")?:
            guard case .object(let error)? = object["error"] else {
                throw FlowError(file: file, field: "\(field).error", "'outcome: failed' needs an 'error' mapping with 'code' and 'message'")
            }
            let code: String
            switch error["code"] {
            case .string(let text)? where !text.isEmpty: code = text
            case .int(let number)?: code = String(number)
            case nil, .null?:
                throw FlowError(file: file, field: "\(field).error.code", "the error needs a 'code' (a string such as NOT_FOUND or an integer such as 8)")
            case let other?:
                throw FlowError(file: file, field: "\(field).error.code", "the code must be a non-empty string or an integer, not \(other.typeName) \(other)")
            }
            guard case .string(let message)? = error["message"] else {
                let problem = error["message"].map { "not \($0.typeName)" } ?? "it is missing"
                throw FlowError(file: file, field: "\(field).error.message", "the error needs a 'message' string (\(problem))")
            }
            return .failure(StepError(code: code, message: message, details: error["data"] ?? error["details"]))
        case nil:
            throw FlowError(file: file, field: field, "a behaviour needs an 'outcome' (success or failed) or an 'error' text: \(shapes)")
        case let other?:
            throw FlowError(file: file, field: "\(field).outcome", "unknown outcome \(other) (known: success, failed)")
        }
    }

    func resolve(_ name: String, route: String) -> ResolvedComponent? {
        guard let table = components[name] else { return nil }
        return ResolvedComponent(route: route, nodeID: "mock\(name)", executor: .inline { input, context in
            switch table[input.json] {
            case .success(let result)?: return .success(Payload(json: result))
            case .failure(let error)?: return .failure(error)
            case .internalError?:
                return .failure(Self.internalFailure(step: context.stepID, component: name, cause: nil))
            case nil:
                let cause = "No behavior defined for \(name) on \(input.json.canonicalSerialized())"
                return .failure(Self.internalFailure(step: context.stepID, component: name, cause: cause))
            }
        })
    }

    /// The step error Stepflow's executor makes of a component's internal failure
    /// (`FlowError::from_error_stack`): its code, the message `step "ID" failed`, and the error
    /// stack as `data` (outermost first), so expected results written against Stepflow match.
    static func internalFailure(step: String, component: String, cause: String?) -> StepError {
        let message = "step \"\(step)\" failed"
        var attachments: [JSON] = [.string("Component: \(component)"), .string("Component execution failed for step '\(step)'")]
        if let cause { attachments.append(.string(cause)) }
        let stack: JSON = [
            ["error": .string(message), "attachments": .array(attachments)],
            ["error": "error executing user-defined function"],
        ]
        return StepError(code: internalFailureCode, message: message, details: ["stack": stack])
    }

    /// The code of an internal component failure in the Stepflow flows Nodal is checked against.
    static let internalFailureCode = "UNREACHABLE"
}
