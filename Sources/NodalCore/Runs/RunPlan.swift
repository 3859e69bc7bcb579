public import NodalJSON
/// What a run would do, without doing it: `RunOptions.dryRun`, `nodal run --dry-run`.
///
/// Every component is resolved, and every input that needs no step output is evaluated.
public struct RunPlan: Sendable {
    public struct Step: Sendable {
        public var id: String
        public var component: String
        /// The node the route resolved to (a plugin node id, `builtin/NAME`, `mock/NAME`, `swift:ROUTE`).
        public var node: String
        /// `inline` (on the scheduler), `pool` (the blocking-call pool) or `async` (a Swift task).
        public var execution: String
        /// Steps this one reads outside lazy branches.
        public var dependsOn: [String]
        /// The input, when it can be evaluated without any step's output.
        public var input: JSON?
        /// Why the input cannot be evaluated yet, or would fail.
        public var inputNote: String?
    }

    /// The steps in an order they could run in (each after the steps it reads).
    public var steps: [Step]
    /// The output, when it can be evaluated without any step's output.
    public var output: JSON?

    public var json: JSON {
        var object: JSONObject = [:]
        object["steps"] = .array(steps.map { step in
            var entry: JSONObject = [
                "id": .string(step.id), "component": .string(step.component), "node": .string(step.node),
                "execution": .string(step.execution), "dependsOn": .array(step.dependsOn.map(JSON.string)),
            ]
            if let input = step.input { entry["input"] = input }
            if let note = step.inputNote { entry["inputNote"] = .string(note) }
            return .object(entry)
        })
        if let output { object["output"] = output }
        return .object(object)
    }

    init(flow: Flow, components: [ResolvedComponent], input: JSON, variables: [String: JSON]) {
        var context = PlanningContext(runInput: input, variables: variables)
        func evaluate(_ expression: Expression) -> (JSON?, String?) {
            do {
                switch try expression.evaluate(in: &context) {
                case .value(let value): return (value, nil)
                case .needs(let steps): return (nil, "needs the output of " + uniqued(steps).map { "'\(flow.steps[$0].id)'" }.joined(separator: ", "))
                }
            } catch {
                return (nil, "would fail: \(error.message)")
            }
        }
        // Kahn's algorithm over every reference, so the order is valid whichever branch is taken.
        let references: [[Int]] = flow.steps.map { step in
            var all: [Int] = []
            step.input.collectAllSteps(into: &all)
            return uniqued(all)
        }
        var readers = Array(repeating: [Int](), count: flow.steps.count)
        var remaining = references.map(\.count)
        for (reader, sources) in references.enumerated() { for source in sources { readers[source].append(reader) } }
        var ready = remaining.indices.filter { remaining[$0] == 0 }
        var order: [Int] = []
        while let next = ready.first {
            ready.removeFirst()
            order.append(next)
            for reader in readers[next] {
                remaining[reader] -= 1
                if remaining[reader] == 0 { ready.append(reader) }
            }
        }
        steps = order.map { index in
            let step = flow.steps[index]
            let component = components[index]
            let execution = switch component.executor {
            case .inline: "inline"
            case .native(let node): node.runsInline && step.timeout == nil ? "inline" : "pool"  // a timeout needs the pool
            case .pooled: "pool"
            case .async: "async"
            case .subflow: "subflow"
            }
            let (value, note) = evaluate(step.input)
            return Step(
                id: step.id, component: step.component, node: component.nodeID, execution: execution,
                dependsOn: step.eagerDependencies.map { flow.steps[$0].id }, input: value, inputNote: note)
        }
        output = evaluate(flow.output).0
    }
}

/// Evaluation with no step finished: step references report themselves as pending.
private struct PlanningContext: EvaluationContext {
    var runInput: JSON
    var variables: [String: JSON]
    func variable(_ name: String) -> JSON? { variables[name] }
    func stepValue(_ index: Int) throws(EvaluationError) -> StepAvailability { .pending }
}
