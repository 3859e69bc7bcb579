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
/// ```
/// Inputs match as JSON values (key order does not matter; `1` equals `1.0`). An input with no
/// behaviour fails the step with code `NO_BEHAVIOR`.
struct MockPlugin: Sendable {
    var components: [String: [JSON: NodeOutcomeTemplate]]

    enum NodeOutcomeTemplate: Sendable {
        case success(JSON)
        case failure(StepError)
    }

    init(components node: Node?, file: String?, field: String) throws(FlowError) {
        components = [:]
        guard let node else { return }
        guard case .mapping(let mapping) = node else {
            throw FlowError(file: file, field: field, "'components' must map component names to definitions")
        }
        for (nameNode, definition) in mapping {
            let name = nameNode.string ?? ""
            var table: [JSON: NodeOutcomeTemplate] = [:]
            if case .mapping(let parts) = definition, let behaviors = parts["behaviors"] {
                guard case .mapping(let entries) = behaviors else {
                    throw FlowError(file: file, field: "\(field).\(name).behaviors", "'behaviors' must map inputs to outcomes")
                }
                for (inputNode, outcomeNode) in entries {
                    let input = YAMLConversion.anyJSON(inputNode)
                    let outcome = YAMLConversion.anyJSON(outcomeNode)
                    let here = "\(field).\(name).behaviors.\(input)"
                    switch outcome["outcome"]?.stringValue {
                    case "success":
                        table[input] = .success(outcome["result"] ?? .null)
                    case "failed":
                        let error = outcome["error"] ?? .null
                        table[input] = .failure(StepError(
                            code: error["code"]?.stringValue ?? error["code"].map(\.description) ?? "MOCK_FAILED",
                            message: error["message"]?.stringValue ?? "mock failure",
                            details: error["data"] ?? error["details"]))
                    default:
                        throw FlowError(file: file, field: here, "a behaviour needs 'outcome: success' or 'outcome: failed'")
                    }
                }
            }
            components[name.hasPrefix("/") ? name : "/" + name] = table
        }
    }

    func resolve(_ name: String, route: String) -> ResolvedComponent? {
        guard let table = components[name] else { return nil }
        return ResolvedComponent(route: route, nodeID: "mock\(name)", executor: .inline { input, _ in
            switch table[input.json] {
            case .success(let result)?: return .success(Payload(json: result))
            case .failure(let error)?: return .failure(error)
            case nil:
                return .failure(StepError(code: "NO_BEHAVIOR", message: "No behavior defined for \(name) on \(input.json.canonicalSerialized())"))
            }
        })
    }
}
