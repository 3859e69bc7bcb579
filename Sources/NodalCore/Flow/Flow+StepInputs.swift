package import NodalJSON

/// A step's input field set from a run's request (`STEP_ID::FIELD` in the run service), replacing
/// what the flow wires there.
package struct StepInputOverride: Sendable, Hashable {
    package var step: String
    package var field: String
    package var value: JSON

    package init(step: String, field: String, value: JSON) {
        self.step = step
        self.field = field
        self.value = value
    }

    /// How a request names it: `step::field`.
    package var key: String { step + "::" + field }
}

extension Flow {
    /// Why `override` cannot be applied to this flow, or nil when it can: the step must be one of
    /// this flow's own (steps inside a sub-flow step are not reached) and its input an object of
    /// fields, literal or built from expressions.
    package func refusal(of override: StepInputOverride) -> String? {
        // Names are cut short in messages: they come from a request's key, which may be huge.
        let field = override.field.prefix(100)
        guard let index = stepIndexes[override.step] else {
            return "the flow has no step '\(override.step.prefix(100))'"
        }
        if override.field.isEmpty { return "the field name after '::' is empty" }
        switch steps[index].input {
        case .object, .literal(.object): return nil
        case .literal(let value):
            return "the input of step '\(override.step)' is \(value.typeName), not an object of fields, so it has no field '\(field)' to set"
        default:
            return "the input of step '\(override.step)' is one expression, not an object of fields, so it has no field '\(field)' to set"
        }
    }

    /// This flow with each override's field of its step's input set to the override's value, as
    /// a literal: it replaces the expression wired there (the step no longer waits for what that
    /// read), or is added when the input has no such field. Later overrides of the same field win.
    ///
    /// The flow's `sourceHash` then also covers the overrides (a flow built from a document, which
    /// has none, gets one of the overrides alone), so a run recorded with them resumes only with
    /// the same ones: resume with `withStepInputs` applied again. Throws when `refusal(of:)`
    /// refuses one.
    package func withStepInputs(_ overrides: [StepInputOverride]) throws(FlowError) -> Flow {
        if overrides.isEmpty { return self }
        var flow = self
        for override in overrides {
            if let reason = refusal(of: override) {
                throw FlowError(file: file, step: stepIndexes[override.step] == nil ? nil : override.step, field: "input." + override.field, reason)
            }
            let index = stepIndexes[override.step]!
            flow.steps[index].input = Self.setting(override.field, to: override.value, in: flow.steps[index].input)
        }
        for index in flow.steps.indices {
            var dependencies: [Int] = []
            flow.steps[index].input.collectEagerSteps(into: &dependencies)
            flow.steps[index].eagerDependencies = uniqued(dependencies)
        }
        // Also for a flow built from a document (no hash of its own): a run recorded with these
        // overrides then refuses a resume that forgot them.
        let overridesText = JSON.array(overrides.map { ["step": .string($0.step), "field": .string($0.field), "value": $0.value] }).serialized()
        flow.sourceHash = ContentHash.sha256Hex(Array(((sourceHash ?? "") + "\nstep inputs: " + overridesText).utf8))
        return flow
    }

    private static func setting(_ field: String, to value: JSON, in input: Expression) -> Expression {
        switch input {
        case .literal(.object(var object)):
            object[field] = value
            return .literal(.object(object))
        case .object(var fields):
            if let position = fields.firstIndex(where: { $0.key == field }) {
                fields[position].value = .literal(value)
            } else {
                fields.append((key: field, value: .literal(value)))
            }
            return .object(fields)
        default:
            return input  // refused before
        }
    }
}
